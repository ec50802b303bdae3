"""Run and record a suite through the service: typed report, history, partial results, cancellation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstudio.errors import SkillStudioError
from skillstudio.evals.store import RunStore
from skillstudio.services.context import JobContext
from skillstudio.services.providers import NoModelConfigured, ProviderChoice, ProviderKind
from skillstudio.services.settings import RunOptions
from skillstudio.services.trigger_runs import SuiteRunRequest, TriggerReport, run_and_record
from support.cli_runner import cli
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import KEYWORDS

OFFLINE = ProviderChoice(kind=ProviderKind.OFFLINE)


def test_offline_run_is_typed_saved_and_keeps_the_contract_fields(workspace: Path) -> None:
    result = run_and_record(SuiteRunRequest(path=workspace, provider=OFFLINE, options=RunOptions(runs=2)))
    report = result.report
    assert isinstance(report, TriggerReport) and report.estimate and report.runs == 2
    assert report.summary.cases == len(report.cases) == 9
    assert all(len(c.selected) == 2 for c in report.cases)
    data = report.as_dict()
    for key in ("model", "base_url", "runs", "threshold", "cases", "summary", "confusion", "per_skill"):
        assert key in data  # typed fields and the carried-along ones alike
    assert "compare" not in data
    saved = RunStore(workspace / ".skillstudio").load(result.run_id or "")
    assert saved["summary"]["cases"] == 9 and result.save_error is None


def test_nothing_runs_or_is_saved_without_a_model(workspace: Path) -> None:
    with pytest.raises(NoModelConfigured):
        run_and_record(SuiteRunRequest(path=workspace))
    assert not (workspace / ".skillstudio" / "runs.sqlite").exists()


def test_compare_needs_a_saved_run_and_then_reports_the_flips(workspace: Path) -> None:
    with pytest.raises(SkillStudioError, match="no saved run"):
        run_and_record(SuiteRunRequest(path=workspace, provider=OFFLINE, compare="previous"))
    run_and_record(SuiteRunRequest(path=workspace, provider=OFFLINE, options=RunOptions(runs=1)))
    again = run_and_record(SuiteRunRequest(path=workspace, provider=OFFLINE, options=RunOptions(runs=1),
                                           compare="previous", save=False))
    assert again.report.compare is not None and again.report.compare["paired_cases"] == 9
    assert again.run_id is None and len(RunStore(workspace / ".skillstudio").list()) == 1


def test_only_one_skill_still_competes_with_the_whole_catalog(workspace: Path) -> None:
    result = run_and_record(SuiteRunRequest(path=workspace, provider=OFFLINE, only=["ledger-reconcile"], save=False))
    assert {c.skill for c in result.report.cases} == {"ledger-reconcile"}
    assert len(result.report.as_dict()["skills"]) == 3
    with pytest.raises(SkillStudioError, match="no skill named nope"):
        run_and_record(SuiteRunRequest(path=workspace, provider=OFFLINE, only=["nope"]))


def test_a_model_run_reports_progress_and_partial_reports_and_cancels_keeping_results(
        workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    progress: list[tuple[int, int, int]] = []
    partials: list[TriggerReport] = []
    ctx = JobContext(on_progress=lambda d, t, c: progress.append((d, t, c)), on_partial=partials.append)

    def cancel_after_some(d: int, t: int, c: int) -> None:
        progress.append((d, t, c))
        if d >= 6:
            ctx.cancel.cancel()

    with FakeOpenAI(Script(keywords=list(KEYWORDS), delay_s=0.05)) as srv:
        choice = ProviderChoice(base_url=srv.base_url, model="gpt-test")
        import skillstudio.services.context as context

        monkeypatch.setattr(context, "PARTIAL_INTERVAL_S", 0.0)  # every outcome may send a partial report
        full = run_and_record(SuiteRunRequest(path=workspace, provider=choice,
                                              options=RunOptions(runs=3, concurrency=2)), ctx)
        assert full.report.summary.requests == 27 and progress[0] == (0, 27, 0) and progress[-1][0] == 27
        assert partials and all(isinstance(p, TriggerReport) for p in partials)
        assert max(sum(len([s for s in c.run_status if s != "not_run"]) for c in p.cases) for p in partials) < 27
        ctx.on_progress = cancel_after_some
        cut = run_and_record(SuiteRunRequest(path=workspace, provider=choice,
                                             options=RunOptions(runs=3, concurrency=1, use_cache=False)), ctx)
    assert cut.cancelled and 0 < cut.not_run < 27 and cut.total == 27
    assert cut.run_id is not None  # the finished requests are kept in the history
    assert RunStore(workspace / ".skillstudio").load(cut.run_id)["summary"]["cancelled"] is True


def test_cli_json_is_the_service_report(workspace: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    p = cli(str(workspace), "--offline", "--runs", "1", "--json", str(out), "--no-save")
    assert p.returncode in (0, 1), p.stderr
    on_disk = json.loads(out.read_text())
    direct = run_and_record(SuiteRunRequest(path=workspace, provider=OFFLINE, options=RunOptions(runs=1),
                                            save=False)).report.as_dict()
    for key in ("model", "base_url", "runs", "threshold"):
        assert on_disk[key] == direct[key]
    assert [(c["skill"], c["prompt"], c["selected"]) for c in on_disk["cases"]] == \
           [(c["skill"], c["prompt"], c["selected"]) for c in direct["cases"]]
    bad = cli(str(workspace), "--offline", "--runs", "0")
    assert bad.returncode == 2 and "Runs must be at least 1 (--runs)" in bad.stderr
