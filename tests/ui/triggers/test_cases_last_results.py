"""The cases editor shows each case's last result beside it: from the workspace's last saved run when
the table opens, and from each run as it finishes (pass/fail with the trigger rate, explicit-only)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from skillstudio.ui.common.provider_form import OFFLINE
from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor
from skillstudio.ui.triggers.cases_model import COL_LAST, COL_PROMPT
from skillstudio.ui.triggers.last_results import LastResult, latest_report


def _column(editor: TriggerCasesEditor) -> list[str]:
    return [editor.model.index(r, COL_LAST).data() for r in range(editor.model.rowCount())]


def test_last_results_beside_the_cases_after_a_run_and_after_reopening(
        qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    skill = example_workspace / "crm-query"
    w = make_window(example_workspace)
    editor = w.open_cases(skill)
    assert isinstance(editor, TriggerCasesEditor) and editor.model.rowCount() > 0
    assert editor.model.headerData(COL_LAST, Qt.Orientation.Horizontal) == "Last run"
    assert set(_column(editor)) == {""}  # no run yet

    w.action("tests").trigger()  # Show Trigger Tests
    panel = w.features.test_panel
    qtbot.waitUntil(lambda: panel.isVisible(), timeout=10000)
    panel.provider.set_kind(OFFLINE)
    with qtbot.waitSignal(panel.sig_run_finished, timeout=60000) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    report = blocker.args[0]
    mine = {(c.prompt, c.expect): c for c in report.cases if c.skill == "crm-query"}
    shown = _column(editor)
    assert all(shown)  # every case has its verdict beside it
    for r in range(editor.model.rowCount()):
        row = editor.model.row(r)
        case = mine[(row.prompt, row.expect)]
        assert editor.model.result(r) is not None and editor.model.result(r).status == case.status  # type: ignore[union-attr]
        if case.status in ("pass", "fail") and case.trigger_rate is not None:
            assert shown[r].endswith(f"{round(case.trigger_rate * 100)}%")
            assert ("pass" in shown[r]) == (case.status == "pass")
    assert not editor.is_dirty()  # a verdict is not an edit

    # An edited prompt is no longer the case that ran.
    editor.model.set_cell(0, COL_PROMPT, "a prompt nobody ran yet")
    assert _column(editor)[0] == ""
    editor.undo_stack.undo()

    # Reopened (or after a restart): the last saved run of the workspace.
    w.remove_document(editor)
    again = w.open_cases(skill)
    assert again is not editor and _column(again) == shown


def test_result_words_and_no_history(example_workspace: Path) -> None:
    assert LastResult("pass", 1.0, 3, 3).text() == "✓ pass 100%"
    assert LastResult("fail", 1 / 3, 3, 1).text() == "✗ fail 33%"
    assert LastResult("explicit_only", None, 0, 0).text() == "explicit-only"
    assert latest_report(example_workspace) is None  # no history: nothing, not an error
