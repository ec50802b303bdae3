"""The Test panel shows saved runs as typed reports: one stored by schema 1 (before trajectories,
"first-call rule") and a current one, as the latest run, in the case view and in Compare runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from skillstudio.services.providers import ProviderChoice, ProviderKind
from skillstudio.services.settings import RunOptions
from skillstudio.services.trigger_runs import SuiteRunRequest, TriggerReport, run_and_record
from skillstudio.ui.triggers.panel import TriggerPanel
from skillstudio.ui.triggers.results_model import COL_RESULT, COL_SELECTED
from support.old_history import write_schema_1_history
from support.trigger_workspace import write_workspace

OFFLINE = ProviderChoice(kind=ProviderKind.OFFLINE)


@pytest.fixture()
def panel(trigger_panel):  # type: ignore[no-untyped-def]
    return trigger_panel


def test_a_schema_1_run_and_a_current_run_show_in_the_panel(
        qtbot, panel: TriggerPanel, tmp_path: Path, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    ws = write_workspace(tmp_path / "ws")
    base = run_and_record(SuiteRunRequest(path=ws, provider=OFFLINE, options=RunOptions(runs=2), save=False))
    write_schema_1_history(ws / ".skillstudio", base.report.as_dict(), base.requests_log)
    old_only = tmp_path / "old-only"
    shutil.copytree(ws, old_only)  # a workspace whose history holds the schema-1 run alone

    # The schema-1 run as the last saved run: the table, the summary and the case view read it typed.
    panel.set_workspace(old_only)
    shown = panel.report
    assert isinstance(shown, TriggerReport) and shown.id == "old-1" and shown.verdict_rule == "first-call rule"
    assert panel.model.rowCount() == len(shown.cases) == 9
    assert panel.summary.text("cases") == f"{shown.summary.passed} / 9"
    assert panel.confusion.model.total() == 18 and len(panel.requests_log) == 18
    assert "last saved run" in panel.info.text() and not panel.notice.isVisible()
    tip = panel.model.index(0, COL_SELECTED).data(Qt.ItemDataRole.ToolTipRole)
    assert "first-call rule" in tip  # how each run decided
    panel.show_case_runs(0)
    runs = panel.case_runs
    assert runs.topLevelItemCount() == 2 and {runs.topLevelItem(i).text(2) for i in range(2)} == {"first-call rule"}
    assert panel.export_report(tmp_path / "old.xml", "junit")
    assert 'value="first-call rule"' in (tmp_path / "old.xml").read_text(encoding="utf-8")

    # A current run saved after it: shown as the latest; both are offered for comparison.
    current = run_and_record(SuiteRunRequest(path=ws, provider=OFFLINE, options=RunOptions(runs=2)))
    panel.set_workspace(ws)
    assert panel.report is not None and panel.report.id == current.run_id
    assert panel.report.verdict_rule == "follow until decided"
    results = [panel.model.index(r, COL_RESULT).data() for r in range(panel.model.rowCount())]
    assert results.count("FAIL") == current.report.summary.failed
    assert panel.compare.run_ids() == [current.run_id, "old-1"]  # newest first
    panel.tabs.setCurrentWidget(panel.compare)
    cmp = panel.compare.comparison
    assert cmp is not None and cmp["paired_cases"] == 9 and cmp["fixed"] == cmp["broke"] == []
    assert panel.compare.run_a.currentData() == "old-1" and panel.compare.run_b.currentData() == current.run_id
    QApplication.processEvents()
    assert panel.grab().save(str(artifacts_dir / "test_panel_schema_1_compare.png"))
