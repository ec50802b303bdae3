"""A Fix can show what it will do before it does it: "Preview Fix…" from the problem's context menu
(right click or the Menu key) and from the command palette; Cancel changes nothing, Apply Fix applies."""

from __future__ import annotations

from pathlib import Path

from mainwindow_support import open_and_check, wait_checked
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from skillstudio.bundle import skillmd
from skillstudio.ui.common.diff_view import DiffDialog, diff_lines
from skillstudio.ui.common.theme import apply_theme


def _broken(qtbot, w, example_workspace: Path):  # type: ignore[no-untyped-def]
    tab = open_and_check(qtbot, w, example_workspace / "crm-query" / "SKILL.md")
    wait_checked(qtbot, w, tab)
    tab.apply_text(skillmd.set_field(tab.editor.text(), "name", "CRM-Query"))
    qtbot.waitUntil(lambda: any(p.fix for p in w.problems.problems), timeout=10000)
    wait_checked(qtbot, w, tab)
    return tab


def _dialog(qtbot, w) -> DiffDialog:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: any(d.isVisible() for d in w.findChildren(DiffDialog)), timeout=5000)
    return next(d for d in w.findChildren(DiffDialog) if d.isVisible())


def test_preview_fix_from_the_context_menu_then_apply(qtbot, make_window, example_workspace: Path) -> None:
    w = make_window(example_workspace)
    tab = _broken(qtbot, w, example_workspace)
    before = tab.editor.text()
    row = next(i for i, p in enumerate(w.problems.problems) if p.fix)
    w.problems_dock.raise_()
    tree = w.problems.tree
    rect = tree.visualItemRect(tree.topLevelItem(row))
    tree.customContextMenuRequested.emit(rect.center())  # what a right click on the row sends
    menu = w.problems.menu
    assert menu is not None and [a.text() for a in menu.actions()] == ["Fix", "Preview Fix…"]
    menu.actions()[1].trigger()
    dialog = _dialog(qtbot, w)
    text = dialog.view.toPlainText()
    assert "-name: CRM-Query" in text and "+name: crm-query" in text
    assert tab.editor.text() == before  # a preview changes nothing
    qtbot.mouseClick(dialog.reject_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert tab.editor.text() == before

    w.action("preview_fix").trigger()  # the palette's command: the selected row's fix
    dialog = _dialog(qtbot, w)
    qtbot.mouseClick(dialog.accept_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "CRM-Query" not in tab.editor.text(), timeout=5000)
    assert skillmd.load_front_matter(tab.editor.text())[0]["name"] == "crm-query"
    tab.editor.undo()
    assert tab.editor.text() == before


def test_preview_fix_from_the_palette_by_keyboard(qtbot, make_window, example_workspace: Path) -> None:
    w = make_window(example_workspace)
    tab = _broken(qtbot, w, example_workspace)
    before = tab.editor.text()
    palette = w.show_palette()
    qtbot.keyClicks(palette.query, "preview fix")
    qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    dialog = _dialog(qtbot, w)
    assert "+name: crm-query" in dialog.view.toPlainText()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Cancel
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert tab.editor.text() == before


def test_diff_view_follows_the_dark_theme(qtbot) -> None:  # type: ignore[no-untyped-def]
    from skillstudio.ui.common.diff_view import DiffView

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    colours = {}
    for theme in ("light", "dark"):
        apply_theme(app, theme)
        view = DiffView()
        qtbot.addWidget(view)
        view.set_texts("a\nb\n", "a\nc\n", "x", "y")
        colours[theme] = {s.format.background().color().name() for s in view.extraSelections()
                          if s.format.background().style() != Qt.BrushStyle.NoBrush}
    apply_theme(app, "light")
    assert len(colours["light"]) == 2 and len(colours["dark"]) == 2  # added and removed
    assert not colours["light"] & colours["dark"]
    assert diff_lines("same\n", "same\n", "a", "b") == []
