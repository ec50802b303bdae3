"""The Test panel end to end: a real run of the example workspace, cancel mid-run, compare two runs.

Runs go through the real evals core. The offline estimator needs nothing; the slow run for the
cancel test talks to the scripted OpenAI-compatible server (tests/support/fake_openai.py) over
real sockets — the only test double, at the HTTP boundary.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from skillstudio.bundle import skillmd
from skillstudio.evals.store import RunStore
from skillstudio.services.trigger_runs import CaseResult, TriggerReport
from skillstudio.ui.common.provider_form import CHAT, OFFLINE, RESPONSES
from skillstudio.ui.common.theme import apply_theme
from skillstudio.ui.triggers.panel import TriggerPanel
from skillstudio.ui.triggers.results_model import (
    CASE_ROLE,
    COL_RESULT,
    FILTER_FAILURES,
    FILTER_FLAKY,
)
from skillstudio.ui.triggers.run_compare import saved_runs
from support.fake_openai import FakeOpenAI, Script

# The scripted model's reading of the example workspace: first keyword found names the skill read.
KEYWORDS = [("salesforce", "crm-query"), ("opportunit", "crm-query"), ("pipeline", "crm-query"),
            ("reconcil", "ledger-reconcile"), ("ledger", "ledger-reconcile"), ("ticket", "support-reply"),
            ("reply", "support-reply"), ("vlan", "network-config"), ("switch", "network-config"),
            ("soc 2", "compliance-evidence"), ("audit", "compliance-evidence")]


def _snapshot(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    assert widget.grab().save(str(path))


@pytest.fixture()
def panel(qtbot, qapp):  # type: ignore[no-untyped-def]
    apply_theme(qapp, "light")
    p = TriggerPanel()
    qtbot.addWidget(p)
    p.resize(1360, 900)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()


def _run(qtbot, panel: TriggerPanel, timeout: int = 30000) -> TriggerReport:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(panel.sig_run_finished, timeout=timeout) as blocker:
        panel.run_button.click()
    return blocker.args[0]


def _rows(panel: TriggerPanel) -> list[CaseResult]:
    return [panel.proxy.index(r, 0).data(CASE_ROLE) for r in range(panel.proxy.rowCount())]


def test_offline_run_fills_table_summary_matrix_and_says_it_is_an_estimate(
        qtbot, panel: TriggerPanel, example_workspace: Path, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    panel.set_workspace(example_workspace)
    assert panel.results_stack.currentWidget() is panel.empty
    assert "Run (Ctrl+R)" in panel.empty.text()
    _snapshot(panel, artifacts_dir / "test_panel_empty.png")
    panel.provider.set_kind(OFFLINE)
    panel.provider.runs.setValue(3)
    report = _run(qtbot, panel)

    s = report.summary
    assert report.estimate is True and s.finished == s.total == s.cases * 3 and not s.cancelled
    assert panel.results_stack.currentWidget() is panel.table
    assert panel.model.rowCount() == s.cases == len(report.cases)
    # The table shows the report's cases in suite order and their outcomes.
    assert [c.prompt for c in _rows(panel)] == [c.prompt for c in report.cases]
    statuses = [panel.proxy.index(r, COL_RESULT).data() for r in range(panel.proxy.rowCount())]
    assert statuses.count("FAIL") == s.failed and statuses.count("pass") == s.passed
    # Summary tiles and the banner nobody can miss.
    assert panel.summary.text("accuracy") == f"{s.accuracy:.2f}"
    assert panel.summary.text("cases") == f"{s.passed} / {s.cases}"
    assert panel.estimate_banner.isVisible() and "not a model result" in panel.estimate_banner.text()
    # Confusion matrix: every run lands in exactly one cell.
    cm = panel.confusion.model
    assert cm.rowCount() == len(report.confusion.rows) and cm.columnCount() == len(report.confusion.labels)
    assert cm.total() == s.total
    assert cm.headerData(cm.columnCount() - 1, Qt.Orientation.Horizontal) == "none"
    # Filters: failures, flaky, per skill.
    panel.set_filter(FILTER_FAILURES)
    assert {c.status for c in _rows(panel)} <= {"fail", "error"}
    assert len(_rows(panel)) == s.failed + s.errors
    panel.set_filter(FILTER_FLAKY)
    assert len(_rows(panel)) == s.flaky  # the estimator is deterministic: 0 here
    panel.set_filter("all", "crm-query")
    assert _rows(panel) and {c.skill for c in _rows(panel)} == {"crm-query"}
    assert len(_rows(panel)) == sum(1 for c in report.cases if c.skill == "crm-query")
    assert panel.shown.text() == f"{len(_rows(panel))} of {s.cases} cases"
    panel.set_filter("all")
    # Saved to the history and offered for comparison.
    assert len(RunStore(example_workspace / ".skillstudio").list()) == 1
    assert len(panel.compare.run_ids()) == 1 and not panel.compare.body.isVisible()
    assert "two saved runs" in panel.compare.empty.text()
    _snapshot(panel, artifacts_dir / "test_panel_after_run.png")
    panel.tabs.setCurrentWidget(panel.confusion)
    _snapshot(panel, artifacts_dir / "test_panel_confusion.png")
    panel.tabs.setCurrentWidget(panel.chart)
    assert not panel.chart.has_data()  # the estimator is not timed, and the chart says so
    panel.tabs.setCurrentIndex(0)

    # Reopening the workspace shows the last saved run straight away.
    other = TriggerPanel()
    qtbot.addWidget(other)
    other.set_workspace(example_workspace)
    assert other.report is not None and other.model.rowCount() == s.cases
    assert other.info.isVisibleTo(other) and "last saved run" in other.info.text()
    other.shutdown()


def test_ctrl_r_runs_and_a_bad_provider_setting_is_one_clear_line(
        qtbot, panel: TriggerPanel, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    panel.set_workspace(example_workspace)
    panel.provider.set_kind(RESPONSES)  # no key, no base URL in the test environment
    panel.provider.base_url.setText("")
    panel.table.setFocus()
    qtbot.keyClick(panel, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: panel.notice.isVisible(), timeout=15000)
    assert "no OpenAI API key" in panel.notice.text() and "\n" not in panel.notice.text()
    assert panel.run_button.isEnabled() and not panel.running


def test_cancel_mid_run_keeps_finished_results(
        qtbot, panel: TriggerPanel, example_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI(Script(keywords=KEYWORDS, delay_s=0.12)) as srv:
        panel.set_workspace(example_workspace)
        panel.provider.set_kind(RESPONSES)
        panel.provider.base_url.setText(srv.base_url)
        panel.provider.model.setText("gpt-test")
        panel.provider.runs.setValue(1)
        panel.provider.concurrency.setValue(2)
        panel.run_button.click()
        assert panel.running and panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
        qtbot.waitUntil(lambda: panel.progress.value() >= 4, timeout=20000)
        assert "req/s" in panel.status.text() and "ETA" in panel.status.text()

        def partial_rows_shown() -> bool:  # the table fills in while the run goes on
            statuses = [panel.model.case(r).status for r in range(panel.model.rowCount())]
            return "not_run" in statuses and any(st in ("pass", "fail") for st in statuses)

        qtbot.waitUntil(partial_rows_shown, timeout=20000)
        assert panel.running and panel.report is None  # nothing final yet
        panel.cancel_button.setFocus()
        with qtbot.waitSignal(panel.sig_run_finished, timeout=20000) as blocker:
            qtbot.keyClick(panel.cancel_button, Qt.Key.Key_Escape)
        report = blocker.args[0]
    s = report.summary
    assert s.cancelled is True
    assert 4 <= s.finished < s.total
    done = [c for c in report.cases if c.status in ("pass", "fail")]
    assert len(done) == s.finished and s.not_run == s.cases - len(done)
    # The finished results are in the table; the rest say "not run"; the notice says what happened.
    statuses = [panel.proxy.index(r, COL_RESULT).data() for r in range(panel.proxy.rowCount())]
    assert statuses.count("not run") == s.not_run
    assert len(statuses) - statuses.count("not run") == s.finished
    assert panel.notice.isVisible() and "Cancelled" in panel.notice.text()
    assert not panel.estimate_banner.isVisible()
    assert panel.run_button.isEnabled() and not panel.running
    assert len(panel.requests_log) == s.finished
    store = RunStore(example_workspace / ".skillstudio")
    saved = store.load(saved_runs(store)[-1])
    assert saved["summary"]["cancelled"] is True and saved["summary"]["finished"] == s.finished


def test_closing_the_panel_mid_run_cancels_and_waits(
        qtbot, example_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI(Script(keywords=KEYWORDS, delay_s=0.2)) as srv:
        p = TriggerPanel()
        qtbot.addWidget(p)
        p.show()
        p.set_workspace(example_workspace)
        p.provider.set_kind(RESPONSES)
        p.provider.base_url.setText(srv.base_url)
        p.provider.runs.setValue(2)
        p.run_button.click()
        qtbot.waitUntil(lambda: p.progress.value() >= 1, timeout=20000)
        p.close()  # cancels and waits: no thread outlives the window (the autouse fixture checks)
        assert p._pool.active_threads() == 0
        assert not p.run_button.isEnabled()
    store = RunStore(example_workspace / ".skillstudio")
    assert len(store.list()) == 1 and store.load(store.list()[0])["summary"]["cancelled"] is True


def test_compare_two_runs_shows_the_flipped_case(
        qtbot, panel: TriggerPanel, example_workspace: Path, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    panel.set_workspace(example_workspace)
    panel.provider.set_kind(OFFLINE)
    panel.provider.runs.setValue(1)
    first = _run(qtbot, panel)
    missed = next(c for c in first.cases if c.expect == "trigger" and c.status == "fail")
    # Teach the skill's description the words of its missed prompt: that case must flip to a pass.
    md = example_workspace / missed.skill / "SKILL.md"
    text = md.read_text(encoding="utf-8")
    desc = next(s["description"] for s in first.skills if s["name"] == missed.skill)
    md.write_text(skillmd.set_field(text, "description", f"{desc} Also: {missed.prompt}"), encoding="utf-8")
    second = _run(qtbot, panel)

    cmp_widget = panel.compare
    assert len(cmp_widget.run_ids()) == 2
    panel.tabs.setCurrentWidget(cmp_widget)
    cmp = cmp_widget.comparison
    assert cmp is not None
    fixed = {c["prompt"] for c in cmp["fixed"]}
    assert missed.prompt in fixed
    flipped = cmp_widget.flipped_rows()
    assert flipped[missed.prompt] == "fixed"
    assert len(flipped) == len(cmp["fixed"]) + len(cmp["broke"])
    assert f"{cmp['mcnemar_p']:.3g}" in cmp_widget.verdict.text()
    # Deltas: B − A of the two reports, as shown.
    acc_delta = second.summary.accuracy - first.summary.accuracy
    shown_delta = cmp_widget.metrics.item(0, 2)
    assert shown_delta is not None and shown_delta.text() == f"{acc_delta:+.3f}"
    assert cmp_widget.estimate_banner.isVisible()  # both runs are estimates: said so here too
    cmp_widget.only_flipped.setChecked(True)
    visible = [r for r in range(cmp_widget.cases.rowCount()) if not cmp_widget.cases.isRowHidden(r)]
    assert len(visible) == len(flipped)
    _snapshot(panel, artifacts_dir / "test_panel_compare.png")


def test_model_run_shows_timing_tokens_cost_and_a_cached_rerun_costs_nothing(
        qtbot, panel: TriggerPanel, example_workspace: Path, artifacts_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI(Script(keywords=KEYWORDS, delay_s=0.01, jitter_by_prompt=True)) as srv:
        panel.set_workspace(example_workspace)
        panel.provider.set_kind(RESPONSES)
        panel.provider.base_url.setText(srv.base_url)
        panel.provider.model.setText("gpt-5")  # in the shipped price table
        panel.provider.runs.setValue(1)
        report = _run(qtbot, panel)
        s = report.summary
        assert s.requests == srv.calls("responses") == s.cases and s.cached == 0
        assert not panel.estimate_banner.isVisible()
        assert panel.summary.text("ttft") != "— / —" and panel.summary.text("latency") != "— / —"
        # Streams are closed as soon as the decision is known, before any usage is reported: the
        # tokens and cost shown are a local estimate, marked with ~.
        assert s.usage_reported == 0 and s.usage_estimated == s.cases and s.cost_is_estimate
        assert panel.summary.text("tokens") == f"~{s.input_tokens:,} / {s.output_tokens:,}"
        assert panel.summary.text("cost") == f"~${s.cost_usd:.4f}"
        assert panel.chart.has_data()
        panel.tabs.setCurrentWidget(panel.chart)
        _snapshot(panel, artifacts_dir / "test_panel_latency.png")

        again = _run(qtbot, panel)  # unchanged suite: every result from the cache, no model call
        assert srv.calls("responses") == s.cases
        assert again.summary.cached == s.cases and again.summary.requests == 0
        assert panel.summary.text("requests") == f"0 · {s.cases}"
        assert not panel.chart.has_data()
        panel.provider.no_cache.setChecked(True)
        _run(qtbot, panel)
        assert srv.calls("responses") == 2 * s.cases

        panel.provider.set_kind(CHAT)  # a chat server reports usage: tokens and cost appear
        chat = _run(qtbot, panel).summary
        assert srv.calls("completions") == chat.cases and chat.usage_reported == chat.cases
        assert panel.summary.text("tokens") == f"{chat.input_tokens:,} / {chat.output_tokens:,}"
        assert chat.cost_usd is not None and panel.summary.text("cost") == f"${chat.cost_usd:.4f}"


def test_a_broken_workspace_says_which_file_in_one_line(
        qtbot, panel: TriggerPanel, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    bad = example_workspace / "crm-query" / "evals" / "triggers.yaml"
    bad.write_text("cases:\n  - prompt: [unclosed\n", encoding="utf-8")
    panel.set_workspace(example_workspace)
    panel.provider.set_kind(OFFLINE)
    panel.run_button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=15000)
    assert panel.notice.isVisible() and "crm-query" in panel.notice.text() and "\n" not in panel.notice.text()
    assert panel.report is None and panel.results_stack.currentWidget() is panel.empty
    assert bad.read_text(encoding="utf-8") == "cases:\n  - prompt: [unclosed\n"


def test_a_damaged_run_history_is_set_aside_and_the_panel_says_so(
        qtbot, panel: TriggerPanel, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    state = example_workspace / ".skillstudio"
    state.mkdir(exist_ok=True)
    (state / "runs.sqlite").write_bytes(b"not a database" * 100)
    panel.set_workspace(example_workspace)
    assert panel.notice.isVisible() and "moved to runs.sqlite.damaged-" in panel.notice.text()
    assert [p.read_bytes() for p in state.glob("runs.sqlite.damaged-*")] == [b"not a database" * 100]
    panel.provider.set_kind(OFFLINE)
    panel.provider.runs.setValue(1)
    report = _run(qtbot, panel)  # the fresh history takes the new run
    assert RunStore(state).latest()["summary"] == report.as_dict()["summary"]


def test_export_and_double_click_a_case(qtbot, panel: TriggerPanel, example_workspace: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    panel.set_workspace(example_workspace)
    assert not panel.export_button.isEnabled()  # nothing to export yet
    panel.provider.set_kind(OFFLINE)
    panel.provider.runs.setValue(1)
    report = _run(qtbot, panel)
    assert panel.export_button.isEnabled()
    # The save dialog is stubbed (a modal dialog cannot be clicked offscreen); the writing is real.
    target = tmp_path / "out" / "report.html"
    monkeypatch.setattr("skillstudio.ui.triggers.panel.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), "HTML (*.html)"))
    html_action = next(a for a in panel.export_button.menu().actions() if a.data() == "html")
    html_action.trigger()
    text = target.read_text(encoding="utf-8")
    assert "Offline estimate" in text and report.cases[0].prompt.split()[0] in text
    assert panel.export_report(tmp_path / "r.xml", "junit")
    assert f'failures="{report.summary.failed}"' in (tmp_path / "r.xml").read_text(encoding="utf-8")

    first = panel.proxy.index(0, 1)
    with qtbot.waitSignal(panel.sig_case_activated, timeout=2000) as activated:
        centre = panel.table.visualRect(first).center()
        qtbot.mousePress(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=centre)  # Qt 6 needs the press
        qtbot.mouseDClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert activated.args == [example_workspace / report.cases[0].skill, report.cases[0].prompt]


def test_provider_settings_are_remembered(qtbot) -> None:  # type: ignore[no-untyped-def]
    from skillstudio.ui.common.provider_form import ProviderForm

    form = ProviderForm()
    qtbot.addWidget(form)
    form.set_kind(CHAT)
    form.base_url.setText("http://127.0.0.1:11434/v1")
    form.model.setText("llama3.1")
    form.runs.setValue(5)
    form.threshold.setValue(0.7)
    form.remember()
    again = ProviderForm()
    qtbot.addWidget(again)
    choice = again.choice()
    assert (choice.kind, choice.base_url, choice.model, choice.runs, choice.threshold) == (
        CHAT, "http://127.0.0.1:11434/v1", "llama3.1", 5, 0.7)
    assert again.base_url.isEnabled() and "base URL" in again.hint.text()


def test_opening_another_workspace_mid_run_drops_the_old_runs_answer(
        qtbot, panel: TriggerPanel, example_workspace: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    other = tmp_path / "other"
    shutil.copytree(example_workspace / "crm-query", other / "crm-query")
    shutil.copytree(example_workspace / "support-reply", other / "support-reply")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI(Script(keywords=KEYWORDS, delay_s=0.1)) as srv:
        panel.set_workspace(example_workspace)
        panel.provider.set_kind(RESPONSES)
        panel.provider.base_url.setText(srv.base_url)
        panel.provider.runs.setValue(1)
        panel.provider.concurrency.setValue(1)
        panel.run_button.click()
        qtbot.waitUntil(lambda: panel.progress.value() >= 1, timeout=20000)
        panel.set_workspace(other)  # the first run is cancelled; its answer must not show up here
        assert not panel.running and panel.run_button.isEnabled()
        panel.provider.set_kind(OFFLINE)
        report = _run(qtbot, panel)
        qtbot.wait(300)  # give the abandoned run's late signals time to arrive (and be ignored)
    assert {c.skill for c in report.cases} == {"crm-query", "support-reply"}
    assert panel.report is report and {panel.model.case(r).skill for r in range(panel.model.rowCount())} == {
        "crm-query", "support-reply"}
    assert not panel.notice.isVisible()  # no "Cancelled" from the old run


def test_run_one_skill_against_the_whole_catalog(qtbot, panel: TriggerPanel, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    panel.set_workspace(example_workspace)
    panel.provider.set_kind(OFFLINE)
    with qtbot.waitSignal(panel.sig_run_finished, timeout=30000) as blocker:
        panel.run_skills(["support-reply"])
    report = blocker.args[0]
    assert {c.skill for c in report.cases} == {"support-reply"}
    assert len(report.skills) == 5  # the other skills still compete for its prompts
    assert panel.model.skills() == ["support-reply"]
    panel.run_skills(["no-such-skill"])
    qtbot.waitUntil(lambda: not panel.running, timeout=15000)
    assert "no skill named no-such-skill" in panel.notice.text()
