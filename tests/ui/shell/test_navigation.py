"""Find/replace in a file (Ctrl+F, Ctrl+H), go to line (Ctrl+G), quick-open (Ctrl+P), a fuzzy palette."""

from __future__ import annotations

from pathlib import Path

import mainwindow_support
from mainwindow_support import open_and_check
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from skillstudio.ui.common.fuzzy import fuzzy_filter, fuzzy_score

make_window = mainwindow_support.make_window  # fixture
CTRL = Qt.KeyboardModifier.ControlModifier


def _activate(qtbot, w) -> None:  # type: ignore[no-untyped-def]
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)


def test_find_and_replace_in_a_file(qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    w = make_window(example_workspace)
    _activate(qtbot, w)
    tab = open_and_check(qtbot, w, example_workspace / "crm-query" / "SKILL.md")
    original = tab.editor.text()
    n = original.lower().count("salesforce")
    assert n >= 2
    tab.editor.setFocus()
    qtbot.keyClick(tab.editor, Qt.Key.Key_F, CTRL)
    bar = tab.find_bar
    assert bar.isVisible() and not bar.replace_row.isVisible()
    assert QApplication.focusWidget() is bar.find_edit
    qtbot.keyClicks(bar.find_edit, "salesforce")
    assert tab.editor.textCursor().selectedText().lower() == "salesforce"
    assert bar.count_label.text().endswith(f"of {n}")
    first = tab.editor.textCursor().selectionStart()
    qtbot.keyClick(bar.find_edit, Qt.Key.Key_Return)
    assert tab.editor.textCursor().selectionStart() > first
    qtbot.keyClick(bar.find_edit, Qt.Key.Key_Escape)
    assert not bar.isVisible() and QApplication.focusWidget() is tab.editor
    # Ctrl+H: replace all is one undo step
    qtbot.keyClick(tab.editor, Qt.Key.Key_H, CTRL)
    assert bar.replace_row.isVisible()
    bar.replace_edit.setText("HubSpot")
    assert bar.replace_all() == n
    assert "salesforce" not in tab.editor.text().lower() and tab.editor.text().count("HubSpot") >= n
    tab.editor.undo()
    assert tab.editor.text() == original
    # a bad regular expression is said, not raised
    bar.regex.setChecked(True)
    bar.find_edit.setText("(unclosed")
    assert "bad pattern" in bar.count_label.text()


def test_go_to_line_and_quick_open(qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    w = make_window(example_workspace)
    _activate(qtbot, w)
    tab = open_and_check(qtbot, w, example_workspace / "crm-query" / "SKILL.md")
    tab.editor.setFocus()
    qtbot.keyClick(tab.editor, Qt.Key.Key_G, CTRL)
    dlg = w.nav.goto_dialog
    assert dlg is not None and dlg.isVisible()
    dlg.setIntValue(7)
    dlg.accept()
    assert tab.editor.current_line() == 7
    # Ctrl+P from anywhere, fuzzy: "ledgscr" finds a script of ledger-reconcile
    w.tree.setFocus()
    qtbot.keyClick(w.tree, Qt.Key.Key_P, CTRL)
    quick = w.nav.quick_dialog
    assert quick is not None and quick.isVisible()
    qtbot.keyClicks(quick.query, "ledgtrig")
    first = quick.list.item(0).text()
    assert first == "ledger-reconcile/evals/triggers.yaml", first
    qtbot.keyClick(quick.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.current_doc() is not None and getattr(w.current_doc(), "path", None) ==
                    (example_workspace / "ledger-reconcile" / "evals" / "triggers.yaml").resolve(), timeout=5000)


def test_palette_matches_fuzzily(qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    assert fuzzy_score("ssc", "Show Sandbox Console") is not None
    assert fuzzy_score("xyz", "Show Sandbox Console") is None
    assert fuzzy_filter("save", ["Save All", "Save", "Show Sandbox"])[:2] == [1, 0]
    w = make_window(example_workspace)
    palette = w.show_palette()
    qtbot.keyClicks(palette.query, "shsbcons")
    assert palette.list.count() >= 1
    assert palette.list.item(0).text().startswith("Show Sandbox Console")
    palette.close()
