"""Stored verdicts across the rule change, misrouted near-misses, the estimate routed once per case."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import yaml

from skillstudio.evals import metrics, reports
from skillstudio.evals.cache import ResultCache, cache_key, run_extra
from skillstudio.evals.routers.offline import OfflineRouter
from skillstudio.evals.routers.responses import ResponsesRouter
from skillstudio.evals.runner import RunSettings, run_suite_sync
from skillstudio.evals.store import RunStore
from skillstudio.evals.suite import build_suite
from support.fake_openai import FakeOpenAI, Script
from support.old_history import SCHEMA_1
from support.trigger_workspace import KEYWORDS


def test_a_run_stored_before_trajectories_stays_readable_labelled_first_call_rule(workspace: Path) -> None:
    state = workspace / ".skillstudio"
    state.mkdir()
    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        old = metrics.summarize(run_suite_sync(build_suite(workspace), ResponsesRouter(
            model="m", api_key="k", base_url=srv.base_url), RunSettings(runs=1)))
        new_run = run_suite_sync(build_suite(workspace), ResponsesRouter(model="m", api_key="k",
                                                                         base_url=srv.base_url), RunSettings(runs=1))
    # write the old run the way schema 1 did: no rule, no categories, request rows without trajectories
    for key in ("verdict_rule", "max_turns"):
        old.pop(key)
    for c in old["cases"]:
        for key in ("categories", "undecided", "turns", "trajectories"):
            c.pop(key)
    with sqlite3.connect(state / "runs.sqlite") as conn:
        conn.executescript(SCHEMA_1)
        conn.execute("INSERT INTO runs (id, started_at, saved_at, provider, model, base_url, settings, summary, "
                     "report) VALUES ('old-1', '2026-01-01T00:00:00.000000+00:00', 'x', 'responses', 'm', '', "
                     "'{}', ?, ?)", (json.dumps(old["summary"]), json.dumps(old)))
        conn.execute("INSERT INTO requests (run_seq, case_index, run_index, selected, first_command) "
                     "VALUES (1, 0, 0, 'crm-query', 'cat /skills/crm-query/SKILL.md')")
    store = RunStore(state)
    loaded = store.load("old-1")
    assert loaded["verdict_rule"] == "first-call rule"
    assert loaded["requests_log"][0]["category"] == "first_call_rule" and loaded["requests_log"][0]["trajectory"] == []
    assert reports.run_labels(loaded["cases"][0]) == ["first-call rule"]
    assert "verdicts: first-call rule" in reports.to_html(loaded)
    assert 'value="first-call rule"' in reports.to_junit(loaded)
    # a new run saves into the migrated history, with its trajectories; both compare unchanged
    new_id = store.save(metrics.summarize(new_run), new_run)
    with sqlite3.connect(state / "runs.sqlite") as conn:
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(2,)]
    fresh = store.load(new_id)
    assert fresh["verdict_rule"] == "follow until decided"
    assert {r["category"] for r in fresh["requests_log"]} == {"direct", "answered", "other_skill"}
    assert all(r["trajectory"] for r in fresh["requests_log"])
    diff = store.compare("old-1", new_id)
    assert diff["paired_cases"] == 9 and diff["fixed"] == [] and diff["broke"] == [] and diff["mcnemar_p"] == 1.0


def test_route_to_scores_misrouted_runs_and_feeds_the_confusion_matrix(workspace: Path) -> None:
    f = workspace / "crm-query" / "evals" / "triggers.yaml"
    data = yaml.safe_load(f.read_text())
    for c in data["cases"]:
        if c["prompt"].startswith("A customer cannot log in"):
            c["route_to"] = "support-reply"  # the model picks support-reply: routed right
        if c["prompt"].startswith("Reconcile the bank"):
            c["route_to"] = "none"  # but the model reads ledger-reconcile: misrouted
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        report = metrics.summarize(run_suite_sync(build_suite(workspace), ResponsesRouter(
            model="m", api_key="k", base_url=srv.base_url), RunSettings(runs=2)))
    by = {(c["skill"], c["prompt"][:12]): c for c in report["cases"]}
    assert by[("crm-query", "A customer c")]["misrouted"] == 0
    assert by[("crm-query", "A customer c")]["route_to"] == "support-reply"
    assert by[("crm-query", "Reconcile th")]["misrouted"] == 2
    s = report["summary"]
    assert (s["routed_cases"], s["misrouted_runs"], s["misrouted_cases"]) == (2, 2, 1)
    cm = report["confusion"]
    row = cm["matrix"][cm["rows"].index("support-reply")]
    assert row[cm["labels"].index("support-reply")] == 6  # its own 2 cases x2 runs, plus the routed near-miss x2
    none_row = cm["matrix"][cm["rows"].index("none")]
    assert none_row[cm["labels"].index("ledger-reconcile")] == 2  # the near-miss meant for nothing
    assert ",support-reply,0" in reports.to_csv(report) and "misrouted in 2 run(s)" in reports.to_junit(report)


def test_the_estimate_routes_each_case_once_whatever_runs_says(workspace: Path) -> None:
    suite = build_suite(workspace)
    once, thrice = OfflineRouter(), OfflineRouter()
    r1 = run_suite_sync(suite, once, RunSettings(runs=1))
    r3 = run_suite_sync(suite, thrice, RunSettings(runs=3))
    assert once.routed == thrice.routed == len(suite.cases)
    assert len(r3.outcomes) == 3 * len(suite.cases) and r3.requests == 0
    a, b = metrics.summarize(r1), metrics.summarize(r3)
    assert [c["selected"][0] for c in a["cases"]] == [c["selected"][0] for c in b["cases"]]
    assert all(len(set(c["selected"])) == 1 for c in b["cases"])
    cats = b["summary"]["categories"]
    assert sum(cats.values()) == 27 and cats["explored"] == cats["undecided"] == 0  # the estimate never explores


def test_fixture_and_turn_budget_are_part_of_the_cache_key(workspace: Path) -> None:
    suite = build_suite(workspace)
    case = suite.cases[0]
    body = {"model": "m", "input": case.prompt}
    base = cache_key("responses", "u", "m", body, 0, run_extra(case, 4))
    assert base == cache_key("responses", "u", "m", body, 0, run_extra(case, 4))
    assert base != cache_key("responses", "u", "m", body, 0, run_extra(case, 6))
    f = workspace / "crm-query" / "evals" / "triggers.yaml"
    data = yaml.safe_load(f.read_text())
    data["cases"][0]["files"] = {"q3.csv": "account,amount\nAcme,10\n"}
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    with_fixture = build_suite(workspace).cases[0]
    assert base != cache_key("responses", "u", "m", body, 0, run_extra(with_fixture, 4))
    # entries written by the first-call rule (cache version 1) are never served as new verdicts
    rc = ResultCache(workspace / ".skillstudio" / "cache")
    path = rc._path(base)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"v": 1, "result": {"selected": "crm-query"}}))
    assert rc.get(base) is None
