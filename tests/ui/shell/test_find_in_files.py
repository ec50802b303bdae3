"""Ctrl+Shift+F finds text in every file of the workspace; a hit opens the file with the match selected."""

from __future__ import annotations

from pathlib import Path

import mainwindow_support
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

make_window = mainwindow_support.make_window  # fixture


def test_find_in_workspace(qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    (example_workspace / "crm-query" / "scripts").mkdir(exist_ok=True)
    (example_workspace / "crm-query" / "scripts" / "note.txt").write_text("first\nthe Opportunity table\n",
                                                                          encoding="utf-8")
    (example_workspace / "crm-query" / "blob.bin").write_bytes(b"\0\0opportunity\0")
    w = make_window(example_workspace)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    w.tree.tree.setFocus()
    qtbot.keyClick(w.tree.tree, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    panel = w.find_in_files
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.query, timeout=5000)
    qtbot.keyClicks(panel.query, "opportunity")
    qtbot.keyClick(panel.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not panel.busy and bool(panel.hits), timeout=20000)
    files = {h.rel for h in panel.hits}
    assert "crm-query/scripts/note.txt" in files and "crm-query/SKILL.md" in files
    assert "crm-query/blob.bin" not in files  # binary files are skipped
    assert "match" in panel.status.text()
    head = next(panel.results.topLevelItem(i) for i in range(panel.results.topLevelItemCount())
                if panel.results.topLevelItem(i).text(0) == "crm-query/scripts/note.txt")
    panel.results.itemActivated.emit(head.child(0), 0)
    qtbot.waitUntil(lambda: w.current_tab() is not None, timeout=5000)
    tab = w.current_tab()
    assert tab.path == (example_workspace / "crm-query" / "scripts" / "note.txt").resolve()
    assert tab.editor.current_line() == 2 and tab.editor.textCursor().selectedText() == "Opportunity"
    # a bad regular expression is said, not raised
    panel.regex.setChecked(True)
    panel.query.setText("(oops")
    panel.search()
    assert "regular expression" in panel.status.text()
