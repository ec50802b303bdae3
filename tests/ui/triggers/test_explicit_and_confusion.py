"""The Test panel with explicit-only skills and near-misses (issue 11): explicit-only cases in the results
table, misrouted runs in the confusion matrix, a cell drilled down to its cases, and a run saved before
verdicts followed the model labelled "first-call rule" in the comparison. Runs go through the real core
against the scripted OpenAI-compatible server (the only double, at the HTTP boundary)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from skillstudio.evals import metrics
from skillstudio.evals.routers.offline import OfflineRouter
from skillstudio.evals.runner import RunSettings, run_suite_sync
from skillstudio.evals.store import RunStore
from skillstudio.evals.suite import build_suite
from skillstudio.services.trigger_runs import CaseResult
from skillstudio.ui.common.provider_form import RESPONSES
from skillstudio.ui.common.theme import apply_theme
from skillstudio.ui.triggers.panel import TriggerPanel
from skillstudio.ui.triggers.results_model import CASE_ROLE, COL_RESULT, COL_WHY, FILTER_FAILURES
from skillstudio.ui.triggers.run_compare import RunCompareWidget
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import KEYWORDS, write_workspace


def _snapshot(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    assert widget.grab().save(str(path))


def _edit_cases(skill_dir: Path, routes: dict[str, str]) -> None:
    f = skill_dir / "evals" / "triggers.yaml"
    data = yaml.safe_load(f.read_text())
    for c in data["cases"]:
        for start, target in routes.items():
            if c["prompt"].startswith(start):
                c["route_to"] = target
    f.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    ws = write_workspace(tmp_path / "ws")
    md = ws / "ledger-reconcile" / "SKILL.md"
    md.write_text(md.read_text().replace("metadata:", "disable-model-invocation: true\nmetadata:", 1))
    # near-misses: the login reply is meant for no skill (the model reads support-reply: misrouted);
    # ticket volume belongs to crm-query (the model reads support-reply: misrouted too)
    _edit_cases(ws / "crm-query", {"A customer cannot log in": "none"})
    _edit_cases(ws / "support-reply", {"Summarise ticket volume": "crm-query"})
    return ws


@pytest.fixture()
def panel(trigger_panel):  # type: ignore[no-untyped-def]
    return trigger_panel


def _rows(panel: TriggerPanel) -> list[CaseResult]:
    return [panel.proxy.index(r, 0).data(CASE_ROLE) for r in range(panel.proxy.rowCount())]


def test_explicit_only_cases_misrouted_cells_and_drill_down(
        qtbot, panel: TriggerPanel, workspace: Path, artifacts_dir: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        panel.set_workspace(workspace)
        panel.provider.set_kind(RESPONSES)
        panel.provider.base_url.setText(srv.base_url)
        panel.provider.runs.setValue(2)
        with qtbot.waitSignal(panel.sig_run_finished, timeout=60000) as blocker:
            panel.run_button.click()
    report = blocker.args[0]
    assert report.summary.explicit_only == 2

    # Explicit-only cases: in the table with their reason, never among the failures.
    shown = {panel.proxy.index(r, 0).data(CASE_ROLE).prompt: r for r in range(panel.proxy.rowCount())}
    row = shown["Why is the cash account off from the bank"]
    assert panel.proxy.index(row, COL_RESULT).data() == "explicit-only"
    tip = panel.proxy.index(row, COL_RESULT).data(Qt.ItemDataRole.ToolTipRole)
    assert "disable-model-invocation: true" in tip and "not a miss" in tip
    assert "not offered" in panel.proxy.index(row, COL_WHY).data()
    assert panel.info.isVisibleTo(panel) and "Explicit-only, not offered to the model: ledger-reconcile" \
        in panel.info.text()
    assert panel.summary.text("cases") == "6 / 7"  # explicit-only cases are counted apart
    assert panel.summary.tiles["cases"].caption.text() == "Passed / cases · 2 explicit-only"
    panel.show_case_runs(row)
    assert panel.case_runs.headerItem().text(0).startswith("Not run: explicit-only skill")
    _snapshot(panel, artifacts_dir / "test_panel_explicit_only.png")
    panel.set_filter(FILTER_FAILURES)
    assert all(c.status != "explicit_only" for c in _rows(panel))
    panel.set_filter("all")

    # The confusion matrix: misrouted near-misses are marked; the explicit-only skill is no column.
    view = panel.confusion
    cm = view.model
    cols = [cm.headerData(c, Qt.Orientation.Horizontal) for c in range(cm.columnCount())]
    rows = [cm.headerData(r, Qt.Orientation.Vertical) for r in range(cm.rowCount())]
    assert "ledger-reconcile" not in cols
    none_r, crm_r, sr_c = rows.index("none"), rows.index("crm-query"), cols.index("support-reply")
    assert cm.misrouted(none_r, sr_c) == 2 and cm.index(none_r, sr_c).data() == "2  ↷2"
    assert cm.misrouted(crm_r, sr_c) == 2
    assert "misrouted near-miss" in cm.index(none_r, sr_c).data(Qt.ItemDataRole.ToolTipRole)
    assert "4 run(s) in 2 of 2 routed case(s) misrouted" in view.legend.text()
    panel.tabs.setCurrentWidget(view)
    _snapshot(panel, artifacts_dir / "test_panel_confusion_misrouted.png")

    # Drill down: a click on a cell shows its cases in the Results tab, and "Show all" brings the rest back.
    rect = view.table.visualRect(cm.index(none_r, sr_c))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.tabs.currentIndex() == 0
    assert [c.prompt for c in _rows(panel)] == ["A customer cannot log in, draft a reply"]
    assert panel.cell_filter.isVisibleTo(panel)
    assert panel.cell_filter.text() == "Cell <b>none</b> → <b>support-reply</b>"
    assert panel.case_runs.case is not None and panel.case_runs.case.prompt.startswith("A customer")
    assert panel.proxy.index(0, COL_RESULT).data() == "pass · misrouted"
    assert panel.shown.text() == f"1 of {len(report.cases)} cases"
    _snapshot(panel, artifacts_dir / "test_panel_confusion_drilldown.png")
    diag = cm.index(rows.index("support-reply"), sr_c)
    view.table.activated.emit(diag)  # the keyboard way (Enter) drills down too
    drilled = _rows(panel)
    assert len(drilled) == 2 and {c.skill for c in drilled} == {"support-reply"}
    assert {c.expect for c in drilled} == {"trigger"}
    panel.cell_filter_clear.click()
    assert len(_rows(panel)) == len(report.cases) and not panel.cell_filter.isVisibleTo(panel)


def test_a_run_saved_before_trajectories_is_labelled_first_call_rule_in_the_comparison(
        qtbot, qapp, tmp_path: Path, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    ws = write_workspace(tmp_path / "ws")
    store = RunStore(ws / ".skillstudio")
    suite = build_suite(ws)
    old_run = run_suite_sync(suite, OfflineRouter(), RunSettings(runs=1))
    old = metrics.summarize(old_run)
    old.pop("verdict_rule")  # as a report saved before verdicts followed the model
    for c in old["cases"]:
        c.pop("categories")
    store.save(old, old_run)
    new_run = run_suite_sync(suite, OfflineRouter(), RunSettings(runs=1))
    store.save(metrics.summarize(new_run), new_run)

    apply_theme(qapp, "light")
    w = RunCompareWidget()
    qtbot.addWidget(w)
    w.resize(1280, 720)
    w.show()
    w.set_workspace(ws)
    labels = [w.run_a.itemText(i) for i in range(w.run_a.count())]
    assert len(labels) == 2
    assert "first-call rule" in labels[1] and "first-call rule" not in labels[0]  # newest first
    assert w.comparison is not None and w.body.isVisible()
    assert "Run A: first-call rule" in w.verdict.text() and "rule change" in w.verdict.text()
    assert w.comparison["paired_cases"] == 9  # compared unchanged
    _snapshot(w, artifacts_dir / "test_compare_first_call_rule.png")


def test_try_a_prompt_in_the_app_never_offers_an_explicit_only_skill(
        qtbot, qapp, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    from skillstudio.ui.common.provider_form import OFFLINE
    from skillstudio.ui.triggers.try_prompt import TryPromptWidget

    w = TryPromptWidget()
    qtbot.addWidget(w)
    w.show()
    w.set_workspace(workspace)
    w.provider.set_kind(OFFLINE)
    w.prompt.setPlainText("Reconcile the bank statement with the ledger")
    with qtbot.waitSignal(w.sig_tried, timeout=20000) as blocker:
        w.try_button.click()
    result = blocker.args[0]
    assert result.skills == ["crm-query", "support-reply"] and result.selected != "ledger-reconcile"
    assert w.scores.rowCount() == 2
    assert "Not offered: ledger-reconcile: explicit-only (disable-model-invocation: true" in w.detail.text()
    w.shutdown()
