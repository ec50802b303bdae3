"""Reports, history and run comparison from real runs against the scripted server."""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from skillstudio.evals import metrics, reports
from skillstudio.evals.routers.responses import ResponsesRouter
from skillstudio.evals.runner import RunSettings, run_suite_sync
from skillstudio.evals.store import RunStore, redact_url
from skillstudio.evals.suite import build_suite
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import KEYWORDS


def _report(srv: FakeOpenAI, workspace: Path, runs: int = 2) -> tuple[dict, object]:
    suite = build_suite(workspace)
    run = run_suite_sync(suite, ResponsesRouter(model="gpt-4.1-mini", api_key="sk-secret-value",
                                                base_url=srv.base_url), RunSettings(runs=runs))
    return metrics.summarize(run), run


def test_junit_and_html_render_every_kind_of_outcome(workspace: Path, artifacts_dir: Path) -> None:
    script = Script(keywords=list(KEYWORDS), faults={"Pull the Q3": ["500*"]},
                    sequences={"List open opportunities": ["crm-query", None]})
    with FakeOpenAI(script) as srv:
        suite = build_suite(workspace)
        # streaming off: early-stopped streams never see the usage block, so no cost could be shown
        router = ResponsesRouter(model="gpt-4.1-mini", api_key="k", base_url=srv.base_url, stream=False)
        run = run_suite_sync(suite, router,
                             RunSettings(runs=2, retries=1, concurrency=1, backoff_base_s=0.01))
    report = metrics.summarize(run)
    statuses = {c["status"] for c in report["cases"]}
    assert statuses == {"pass", "fail", "error"} and report["summary"]["flaky"] == 1
    root = ET.fromstring(reports.to_junit(report).split("\n", 1)[1])
    assert {s.get("name") for s in root.findall("testsuite")} == {"crm-query", "support-reply", "ledger-reconcile"}
    assert len(root.findall(".//error")) == 1 and len(root.findall(".//failure")) == 2
    assert root.get("tests") == "9"
    html = reports.to_html(report)
    assert "Confusion matrix" in html and "flaky" in html and "HTTP 500" in html
    assert "offline estimate" not in html.lower()
    # gpt-4.1-mini is in the shipped price table; 16 answered requests (18 minus the errored case)
    # x (120 in, 30 out) tokens
    assert report["summary"]["input_tokens"] == 16 * 120 and report["summary"]["output_tokens"] == 16 * 30
    assert report["summary"]["cost_usd"] == pytest.approx(16 * (120 * 0.4 + 30 * 1.6) / 1e6)
    csv_text = reports.to_csv(report)
    assert csv_text.splitlines()[0].startswith("skill,expect,prompt") and len(csv_text.splitlines()) == 10
    (artifacts_dir / "trigger-report-model.html").write_text(html)


def test_history_keeps_runs_without_secrets_and_compares_them(workspace: Path) -> None:
    store = RunStore(workspace / ".skillstudio")
    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        before, run_a = _report(srv, workspace)
        store.save(before, run_a)  # type: ignore[arg-type]
    # Version B: the model now reads ledger-reconcile for the cash question (fixed) and stops
    # treating "refund ticket" as support-reply (broke).
    better = [("cash account", "ledger-reconcile"), *[k for k in KEYWORDS if k[0] != "refund ticket"]]
    with FakeOpenAI(Script(keywords=better)) as srv:
        after, run_b = _report(srv, workspace)
        store.save(after, run_b)  # type: ignore[arg-type]
    ids = store.list()
    assert len(ids) == 2
    with sqlite3.connect(store.path) as conn:  # every byte of the history, not just what load() returns
        dump = "\n".join(conn.iterdump())
    assert "sk-secret-value" not in dump and "Bearer" not in dump and "runs" in dump
    for run_id in ids:
        assert store.load(run_id)["requests_log"][0]["selected"] == "crm-query"
    a, b = store.load("previous"), store.load("latest")
    diff = metrics.compare(a, b)
    assert [f["prompt"] for f in diff["fixed"]] == ["Why is the cash account off from the bank"]
    assert [f["prompt"] for f in diff["broke"]] == ["Reply to the refund ticket from Globex"]
    assert diff["paired_cases"] == 9 and diff["mcnemar_p"] == 1.0  # one each way: no evidence either way
    assert diff["delta"]["accuracy"] == 0.0
    with pytest.raises(Exception, match="cannot read saved run"):
        store.load("no-such-run")


def test_redact_url_drops_credentials_and_queries() -> None:
    assert redact_url("https://user:pw@proxy.local:8443/v1?key=abc") == "https://proxy.local:8443/v1"
    assert redact_url("http://127.0.0.1:11434/v1") == "http://127.0.0.1:11434/v1"
    assert redact_url("") == ""
