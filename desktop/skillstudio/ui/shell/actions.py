"""Every command of the main window, declared as data: one row per action, in menu order.

A row names its handler as a path from the window ("save_current", "features.show_tests",
"help.show_guide"), so this table is the one place that says which commands exist, what they are
called, which keys run them and where they appear. `install_actions` turns the rows into QActions
(kept in `MainWindow.action(id)`), the menus and the toolbar; the command palette and the Keyboard
Shortcuts dialog read the window's actions, so they follow the table by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSize, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from skillstudio.ui.common.settings import AppSettings
from skillstudio.ui.common.theme import load_icon

if TYPE_CHECKING:
    from collections.abc import Callable

Shortcut = QKeySequence.StandardKey | str
_K = QKeySequence.StandardKey


@dataclass(frozen=True)
class ActionSpec:
    """One command: its id, menu text, handler (a path from the window), keys and placement."""

    id: str
    text: str
    handler: str
    menu: str
    shortcuts: tuple[Shortcut, ...] = ()
    icon: str = ""
    icon_text: str = ""  # the shorter text beside the icon on the toolbar
    separator_before: bool = False  # in its menu
    checkable: bool = False


MENUS = ("&File", "&Edit", "&View", "&Run", "&Publish", "&Help")

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("new", "&New Skill…", "new_skill", "&File", (_K.New,), "new", "New Skill"),
    ActionSpec("open_ws", "Open &Workspace…", "choose_workspace", "&File", ("Ctrl+Shift+O",), "open",
               "Open Workspace"),
    ActionSpec("open", "&Open File…", "choose_file", "&File", (_K.Open,), "file"),
    ActionSpec("quick_open", "&Go to File…", "nav.quick_open", "&File", ("Ctrl+P",)),
    ActionSpec("save", "&Save", "save_current", "&File", (_K.Save,), "save", separator_before=True),
    ActionSpec("save_as", "Save &As…", "save_current_as", "&File", ("Ctrl+Shift+S",)),
    ActionSpec("save_all", "Save A&ll", "save_all", "&File", ("Ctrl+Alt+S",), "save"),
    ActionSpec("close", "&Close Tab", "close_current_tab", "&File", ("Ctrl+W", "Ctrl+F4")),
    ActionSpec("reload", "&Reload Workspace", "reload_workspace", "&File", ("F5",), separator_before=True),
    ActionSpec("settings", "Se&ttings…", "show_settings", "&File", ("Ctrl+,",), "settings", "Settings"),
    ActionSpec("quit", "&Quit", "close", "&File", ("Ctrl+Q",), separator_before=True),
    ActionSpec("undo", "&Undo", "undo", "&Edit", (_K.Undo,)),
    ActionSpec("redo", "&Redo", "redo", "&Edit", ("Ctrl+Y", "Ctrl+Shift+Z")),
    ActionSpec("find", "&Find…", "nav.find", "&Edit", (_K.Find,), separator_before=True),
    ActionSpec("replace", "Find and &Replace…", "nav.replace", "&Edit", ("Ctrl+H",)),
    ActionSpec("find_next", "Find Ne&xt", "nav.find_next", "&Edit", ("F3",)),
    ActionSpec("find_previous", "Find Pre&vious", "nav.find_previous", "&Edit", ("Shift+F3",)),
    ActionSpec("goto_line", "&Go to Line…", "nav.go_to_line", "&Edit", ("Ctrl+G",)),
    ActionSpec("find_in_files", "Find in &Workspace…", "show_find_in_files", "&Edit", ("Ctrl+Shift+F",)),
    ActionSpec("next_problem", "&Next Problem", "next_problem", "&Edit", ("F8",), "validate",
               separator_before=True),
    ActionSpec("preview_fix", "Pre&view Fix…", "preview_fix", "&Edit"),
    ActionSpec("palette", "Command &Palette…", "show_palette", "&View", ("Ctrl+Shift+P",)),
    ActionSpec("theme", "&Dark Theme", "toggle_theme", "&View", ("Ctrl+Shift+T",), checkable=True),
    ActionSpec("maximise", "&Maximise Panel or Editor", "layout_state.toggle_maximise", "&View",
               ("Ctrl+Shift+M",), separator_before=True),
    ActionSpec("collapse", "Hide/Show &Bottom Panels", "layout_state.toggle_bottom", "&View", ("Ctrl+J",)),
    ActionSpec("tests", "Show &Trigger Tests", "features.show_tests", "&Run", ("Ctrl+Alt+T",)),
    ActionSpec("try", "&Try a Prompt…", "features.show_try_prompt", "&Run", ("Ctrl+Alt+P",)),
    ActionSpec("optimize", "&Optimize Description…", "features.optimize_description", "&Run", ("Ctrl+Alt+O",)),
    ActionSpec("playground", "Show &Playground", "features.show_playground", "&Run", ("Ctrl+Alt+G",)),
    ActionSpec("sandbox", "Show &Sandbox Console", "features.show_sandbox", "&Run", ("Ctrl+Alt+X",)),
    ActionSpec("secrets", "Manage &Secrets…", "features.show_secrets", "&Run", ("Ctrl+Alt+K",)),
    ActionSpec("export", "&Export Skill…", "features.export_skill", "&Publish", ("Ctrl+E",)),
    ActionSpec("registry", "Show &Registry", "features.show_registry", "&Publish", ("Ctrl+Alt+R",)),
    ActionSpec("user_guide", "&User Guide", "help.show_guide", "&Help", (_K.HelpContents,)),
    ActionSpec("shortcuts", "&Keyboard Shortcuts", "help.show_shortcuts", "&Help", ("Ctrl+F1",)),
    ActionSpec("report", "&Report a Problem…", "help.report_problem", "&Help", separator_before=True),
    ActionSpec("about", "&About Skill Studio", "show_about", "&Help", separator_before=True),
)

TOOLBAR: tuple[str | None, ...] = ("new", "open_ws", "save", "save_all", None, "next_problem", "settings")
RECENT_AFTER = "open"  # File ▸ Recent Workspaces follows this action


def resolve(root: object, path: str) -> Callable[[], object]:
    """The handler a row names: attributes from the window, one dot at a time."""
    target = root
    for name in path.split("."):
        target = getattr(target, name)
    if not callable(target):
        raise TypeError(f"action handler {path!r} is not callable")
    return target


def _keys(spec: ActionSpec) -> list[QKeySequence]:
    return [QKeySequence(k) for k in spec.shortcuts]


def install_actions(win: QMainWindow, docks: list[QDockWidget], settings: AppSettings,
                    open_workspace: Callable[[Path], object]) -> tuple[dict[str, QAction], QMenu, RecentMenu]:
    """Build every action, menu and the toolbar of *win* from ACTIONS (handlers must exist by now).

    Returns the actions by id, the View menu (docks added later put their toggles there too) and the
    Recent Workspaces menu. *docks* get their show/hide toggles in View, after the View commands.
    """
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        act = QAction(spec.text, win)
        act.setObjectName(f"act_{spec.id}")
        if spec.shortcuts:
            act.setShortcuts(_keys(spec))
            act.setToolTip(f"{spec.text.replace('&', '').rstrip('…')} ({act.shortcut().toString()})")
        if spec.icon:
            act.setProperty("icon_name", spec.icon)  # re-coloured on theme changes
            act.setIcon(load_icon(spec.icon))
        if spec.icon_text:
            act.setIconText(spec.icon_text)
        act.setCheckable(spec.checkable)
        act.triggered.connect(resolve(win, spec.handler))
        win.addAction(act)
        actions[spec.id] = act

    tb = win.addToolBar("Main")
    tb.setObjectName("main_toolbar")
    tb.setMovable(False)
    tb.setIconSize(QSize(18, 18))
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for action_id in TOOLBAR:
        if action_id is None:
            tb.addSeparator()
        else:
            tb.addAction(actions[action_id])

    menus = {title: win.menuBar().addMenu(title) for title in MENUS}
    recent: RecentMenu | None = None
    for spec in ACTIONS:
        menu = menus[spec.menu]
        if spec.separator_before:
            menu.addSeparator()
        menu.addAction(actions[spec.id])
        if spec.id == RECENT_AFTER:
            recent = RecentMenu(menu.addMenu("Recent &Workspaces"), settings, open_workspace)
    assert recent is not None, "RECENT_AFTER names no action"
    view = menus["&View"]
    for dock in docks:
        view.addAction(dock.toggleViewAction())
    return actions, view, recent


class RecentMenu(QObject):
    """File ▸ Recent Workspaces, filled from the settings each time it opens."""

    def __init__(self, menu: QMenu, settings: AppSettings, open_workspace: Callable[[Path], object]) -> None:
        super().__init__(menu)
        self.menu, self._settings, self._open_workspace = menu, settings, open_workspace
        menu.aboutToShow.connect(self.fill)

    @Slot()
    def fill(self) -> None:
        self.menu.clear()
        recent = self._settings.recent_workspaces()
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
            self._open_workspace(Path(str(act.data())))
