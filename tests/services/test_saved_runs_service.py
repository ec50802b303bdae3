"""Saved runs become typed reports at one boundary (`load_saved`), whatever schema stored them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstudio.errors import SkillStudioError
from skillstudio.evals.store import RunStore
from skillstudio.services.providers import ProviderChoice, ProviderKind
from skillstudio.services.settings import RunOptions
from skillstudio.services.trigger_runs import SuiteRunRequest, TriggerReport, load_saved, run_and_record
from support.old_history import NEWER_CASE_KEYS, NEWER_SUMMARY_KEYS, write_schema_1_history

OFFLINE = ProviderChoice(kind=ProviderKind.OFFLINE)


def test_a_schema_1_run_and_a_current_run_both_load_typed(workspace: Path) -> None:
    state = workspace / ".skillstudio"
    base = run_and_record(SuiteRunRequest(path=workspace, provider=OFFLINE, options=RunOptions(runs=2), save=False))
    write_schema_1_history(state, base.report.as_dict(), base.requests_log)
    current = run_and_record(SuiteRunRequest(path=workspace, provider=OFFLINE, options=RunOptions(runs=2)))
    store = RunStore(state)
    assert store.list() == ["old-1", current.run_id]

    old = load_saved(store, "old-1")
    assert isinstance(old.report, TriggerReport) and old.report.id == "old-1"
    assert old.report.verdict_rule == "first-call rule"  # judged by the first shell call only
    assert len(old.report.cases) == len(base.report.cases) == 9
    assert all(c.categories is None and c.run_labels() == ["first-call rule"] * 2 for c in old.report.cases)
    assert old.report.summary.undecided == 0 and old.report.summary.categories == {}  # not stored: defaults
    assert old.report.confusion is not None and old.report.confusion.matrix == base.report.as_dict()["confusion"][
        "matrix"]
    assert len(old.requests_log) == 18 and {r["category"] for r in old.requests_log} == {"first_call_rule"}
    # What the history holds comes back unchanged: a default filled in is not written into an export.
    stored = store.load("old-1", with_requests=False)
    assert old.report.as_dict() == stored
    assert not set(NEWER_SUMMARY_KEYS) & set(old.report.as_dict()["summary"])
    assert not set(NEWER_CASE_KEYS) & set(old.report.as_dict()["cases"][0])

    new = load_saved(store, "latest")
    assert new.report.id == current.run_id and new.report.verdict_rule == "follow until decided"
    assert all(c.categories is not None for c in new.report.cases)
    assert new.report.summary == current.report.summary
    assert len(new.requests_log) == 18
    assert load_saved(store, "latest", with_requests=False).requests_log == []


def test_a_saved_run_that_is_no_report_is_one_clear_error(workspace: Path, tmp_path: Path) -> None:
    store = RunStore(workspace / ".skillstudio")
    broken = tmp_path / "run.json"
    broken.write_text(json.dumps({"model": "m", "base_url": "", "runs": 1, "threshold": 0.5, "cases": []}),
                      encoding="utf-8")
    with pytest.raises(SkillStudioError, match=r"cannot read saved run .*run\.json: summary: Field required") as err:
        load_saved(store, broken)
    assert err.value.hint and "\n" not in err.value.message
