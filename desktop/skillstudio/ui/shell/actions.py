"""The main window's commands: actions with their shortcuts, the menus, the toolbar, recent workspaces.

Every action is also an attribute of the window (`win.act_save`, …) so tests and the command
palette can reach it; each triggers a window method.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSize, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from skillstudio.ui.common.theme import load_icon
from skillstudio.ui.shell.help_menu import HelpActions

if TYPE_CHECKING:
    from skillstudio.ui.shell.main_window import MainWindow

Shortcut = QKeySequence | QKeySequence.StandardKey | str | None


def _action(win: MainWindow, text: str, slot: object, shortcut: Shortcut = None, icon: str = "",
            extra: tuple[str, ...] = ()) -> QAction:
    act = QAction(text, win)
    if shortcut is not None:
        act.setShortcuts([QKeySequence(shortcut), *(QKeySequence(s) for s in extra)])
    if icon:
        act.setProperty("icon_name", icon)  # re-coloured on theme changes
        act.setIcon(load_icon(icon))
    act.triggered.connect(slot)
    win.addAction(act)
    return act


def install_actions(win: MainWindow) -> None:
    K = QKeySequence.StandardKey  # noqa: N806
    win.act_new = _action(win, "&New Skill…", win.new_skill, K.New, "new")
    win.act_new.setIconText("New Skill")
    win.act_open_ws = _action(win, "Open &Workspace…", win.choose_workspace, "Ctrl+Shift+O", "open")
    win.act_open_ws.setIconText("Open Workspace")
    win.act_open = _action(win, "&Open File…", win.choose_file, K.Open, "file")
    win.act_save = _action(win, "&Save", win.save_current, K.Save, "save")
    win.act_save_as = _action(win, "Save &As…", win.save_current_as, "Ctrl+Shift+S")
    win.act_save_all = _action(win, "Save A&ll", win.save_all, "Ctrl+Alt+S", "save")
    win.act_close = _action(win, "&Close Tab", win.close_current_tab, "Ctrl+W", extra=("Ctrl+F4",))
    win.act_reload = _action(win, "&Reload Workspace", win.reload_workspace, "F5")
    win.act_settings = _action(win, "Se&ttings…", win.show_settings, "Ctrl+,", "settings")
    win.act_settings.setIconText("Settings")
    win.act_quit = _action(win, "&Quit", win.close, "Ctrl+Q")
    win.act_undo = _action(win, "&Undo", win.undo, K.Undo)
    win.act_redo = _action(win, "&Redo", win.redo, "Ctrl+Y", extra=("Ctrl+Shift+Z",))
    win.act_next_problem = _action(win, "&Next Problem", win.next_problem, "F8", "validate")
    win.act_palette = _action(win, "Command &Palette…", win.show_palette, "Ctrl+Shift+P")
    win.act_theme = _action(win, "&Dark Theme", win.toggle_theme, "Ctrl+Shift+T")
    win.act_theme.setCheckable(True)
    win.act_theme.setChecked(win.settings.theme == "dark")
    win.act_about = _action(win, "&About Skill Studio", win.show_about)
    win.help = HelpActions(win)  # User Guide (F1), Keyboard Shortcuts, Report a Problem…
    win.help.make_actions(lambda text, slot, key: _action(win, text, slot, key))
    for a in win.actions():
        if a.shortcut().toString():
            a.setToolTip(f"{a.text().replace('&', '').rstrip('…')} ({a.shortcut().toString()})")

    tb = win.addToolBar("Main")
    tb.setObjectName("main_toolbar")
    tb.setMovable(False)
    tb.setIconSize(QSize(18, 18))
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for a in (win.act_new, win.act_open_ws, win.act_save, win.act_save_all, None, win.act_next_problem,
              win.act_settings):
        if a is None:
            tb.addSeparator()
        else:
            tb.addAction(a)

    bar = win.menuBar()
    m = bar.addMenu("&File")
    m.addActions([win.act_new, win.act_open_ws, win.act_open])
    win.recent = RecentWorkspacesMenu(win, m.addMenu("Recent &Workspaces"))
    m.addSeparator()
    m.addActions([win.act_save, win.act_save_as, win.act_save_all, win.act_close])
    m.addSeparator()
    m.addActions([win.act_reload, win.act_settings])
    m.addSeparator()
    m.addAction(win.act_quit)
    m = bar.addMenu("&Edit")
    m.addActions([win.act_undo, win.act_redo])
    m.addSeparator()
    m.addAction(win.act_next_problem)
    m = bar.addMenu("&View")
    m.addActions([win.act_palette, win.act_theme, win.problems_dock.toggleViewAction(),
                  win.versions_dock.toggleViewAction()])
    win.view_menu = m
    m = bar.addMenu("&Help")
    m.addActions([win.act_user_guide, win.act_shortcuts])
    m.addSeparator()
    m.addAction(win.act_report)
    m.addSeparator()
    m.addAction(win.act_about)


class RecentWorkspacesMenu(QObject):
    """File ▸ Recent Workspaces, filled from the settings each time it opens."""

    def __init__(self, win: MainWindow, menu: QMenu) -> None:
        super().__init__(win)
        self.win, self.menu = win, menu
        menu.aboutToShow.connect(self.fill)

    @Slot()
    def fill(self) -> None:
        self.menu.clear()
        recent = self.win.settings.recent_workspaces()
        if not recent:
            self.menu.addAction("(none yet)").setEnabled(False)
        for p in recent:
            act = self.menu.addAction(f"{p.name} — {p}")
            act.setData(str(p))
            act.triggered.connect(self._open)

    @Slot()
    def _open(self) -> None:
        act = self.sender()
        if isinstance(act, QAction):
            self.win.open_workspace(Path(str(act.data())))
