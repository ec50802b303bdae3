"""The command palette lists every command a mouse user could reach, with its shortcut."""

from __future__ import annotations

from pathlib import Path

from mainwindow_support import shot
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from skillstudio.ui.shell.palette import CommandPalette


def _menu_actions(menu: QMenu) -> list[QAction]:
    out: list[QAction] = []
    for act in menu.actions():
        sub = act.menu()
        if isinstance(sub, QMenu):
            out += _menu_actions(sub)
        elif not act.isSeparator() and act.text() and act.isEnabled():
            out.append(act)
    return out


def _rows(palette: CommandPalette) -> list[str]:
    return [palette.list.item(i).text() for i in range(palette.list.count())]


def test_palette_lists_every_menu_action_with_shortcut(qtbot, make_window, example_workspace: Path,
                                                       artifacts_dir: Path) -> None:
    w = make_window(example_workspace)
    menus = [a.menu() for a in w.menuBar().actions() if isinstance(a.menu(), QMenu)]
    titles = {m.title().replace("&", "") for m in menus}
    assert {"File", "Edit", "View", "Run", "Publish", "Help"} <= titles  # incl. menus added by other modules
    palette = w.show_palette()
    rows = _rows(palette)
    assert len(rows) == len(set(rows)), "duplicate palette entries"
    expected = [a for m in menus for a in _menu_actions(m) if a is not w.action("palette")]
    assert len(expected) > 25
    for act in expected:
        assert CommandPalette.entry(act) in rows, f"menu action {act.text()!r} missing from the palette"
    # shortcuts are shown next to the name
    assert any(r.startswith("Save All") and "Ctrl+Alt+S" in r for r in rows)
    assert any(r.startswith("Show Trigger Tests") and "Ctrl+Alt+T" in r for r in rows)
    # every dock can be shown from the palette
    for name in ("Problems", "Versions"):
        assert any(r.split("    ")[0] == f"Show/Hide Panel: {name}" for r in rows), name
    shot(palette, artifacts_dir, "command_palette")
    palette.close()


def test_palette_filters_as_you_type_and_runs_a_dock_toggle(qtbot, make_window,
                                                            example_workspace: Path) -> None:
    w = make_window(example_workspace)
    w.versions_dock.hide()
    palette = w.show_palette()
    total = palette.list.count()
    qtbot.keyClicks(palette.query, "playgr")
    rows = _rows(palette)
    assert 0 < len(rows) < total
    assert all("playgr" in r.lower() for r in rows)
    palette.query.clear()
    qtbot.keyClicks(palette.query, "versions")
    assert [r.split("    ")[0] for r in _rows(palette)] == ["Show/Hide Panel: Versions"]
    qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.versions_dock.isVisible())
