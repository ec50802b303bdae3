"""The offline estimate: deterministic, honest (leave-one-out), labelled, and runs with no server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from skillstudio.evals import metrics, reports
from skillstudio.evals.routers import RouteRequest
from skillstudio.evals.routers.offline import BM25, OfflineRouter, tokenize
from skillstudio.evals.runner import RunSettings, run_suite_sync
from skillstudio.evals.suite import build_suite
from support.trigger_workspace import write_workspace


def test_tokenize_drops_stopwords_and_folds_plurals() -> None:
    assert tokenize("Reconcile the bank statements with the Ledger") == ["reconcile", "bank", "statement", "ledger"]


def test_do_not_use_clauses_count_against_the_skill(tmp_path: Path) -> None:
    from skillstudio.evals.routers.offline import split_description

    assert split_description("Query Salesforce. Do not use for bank reconciliation (ledger).") == \
        ("Query Salesforce.", "Do not use for bank reconciliation (ledger).")
    skills = {
        "crm-query": ("Query the Salesforce pipeline. Do not use for bank reconciliation.",
                      [("Show the Salesforce pipeline", "trigger", None)]),
        "ledger": ("Match statements to the general ledger.", [("Match the ledger", "trigger", None)]),
    }
    suite = build_suite(write_workspace(tmp_path / "ws", skills))
    router = OfflineRouter()
    router.prepare(suite)
    assert router.scores("bank reconciliation for March")["crm-query"] == 0.0
    assert router.select("Salesforce pipeline by stage") == "crm-query"


def test_bm25_prefers_the_document_sharing_rare_terms() -> None:
    idx = BM25([tokenize("salesforce pipeline opportunity"), tokenize("bank ledger reconciliation pipeline")])
    q = tokenize("salesforce pipeline")
    assert idx.score(q, 0) > idx.score(q, 1) > 0
    assert idx.score(tokenize("weather"), 0) == 0


def test_offline_run_is_deterministic_and_labelled(workspace: Path) -> None:
    suite = build_suite(workspace)
    run = run_suite_sync(suite, OfflineRouter(), RunSettings(runs=3))
    report = metrics.summarize(run)
    assert report["estimate"] is True and report["model"] == "offline estimate"
    assert report["summary"]["requests"] == 0  # no model was called
    assert all(len(set(c["selected"])) == 1 for c in report["cases"])  # same answer every run
    hit = next(c for c in report["cases"] if c["prompt"].startswith("Pull the Q3"))
    assert hit["selected"] == ["crm-query"] * 3
    assert "offline estimate" in reports.to_html(report).lower()
    assert "offline estimate" in reports.to_junit(report)


def test_negative_cases_are_counter_evidence_but_never_their_own_answer(tmp_path: Path) -> None:
    skills = {
        "crm-query": ("Query Salesforce pipeline and accounts.", [
            ("Show the Salesforce pipeline", "trigger", None),
            ("Export the Salesforce login history for auditors", "no_trigger", None),
        ]),
        "audit-evidence": ("Evidence reports for auditors from logs.", [("Audit evidence from logs", "trigger", None)]),
    }
    suite = build_suite(write_workspace(tmp_path / "ws", skills))
    router = OfflineRouter()
    router.prepare(suite)
    negative = next(c for c in suite.cases if c.expect == "no_trigger")
    # Scored with itself excluded (as the runner does), the negative cannot look itself up...
    honest = router.scores(negative.prompt, exclude_case=negative.index)
    with_itself = router.scores(negative.prompt, exclude_case=None)
    assert with_itself["crm-query"] == 0.0 < honest["crm-query"]
    # ...but it does push a *similar* new prompt away from crm-query.
    near = "Export the Salesforce login history for the auditors please"
    assert router.scores(near)["crm-query"] < router.scores(near, exclude_case=negative.index)["crm-query"]
    res = asyncio.run(router.route(RouteRequest(negative, 0)))
    assert res.raw_events_summary == ["offline estimate"]


def test_offline_runs_the_example_workspace(example_workspace: Path) -> None:
    suite = build_suite(example_workspace)
    report = metrics.summarize(run_suite_sync(suite, OfflineRouter(), RunSettings(runs=1)))
    s = report["summary"]
    assert s["cases"] == len(suite.cases) > 0 and s["errors"] == 0
    assert s["passed"] + s["failed"] == s["cases"]
    assert s["accuracy"] is not None and s["accuracy"] > 0.5  # better than a coin, still only an estimate
