"""The main window: workspace tree, tabbed editors, problems, token meter, and the file lifecycle.

It owns the GUI-thread controllers — RecoveryController (autosave, restore), DiskSync (changes by
other programs), FixController (fix-its), one LiveChecker per open tab — and the WorkerPool through
which all slow work (loading a workspace, validating a buffer) runs; results come back to @Slot
methods. Commands, menus and the toolbar are rows of the table in shell/actions.py. The controllers
and panels see the window only through the protocols of shell/host.py (no import cycle). Closing the window asks about
unsaved buffers, then cancels and waits for every worker.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from skillstudio import resources
from skillstudio.bundle.problems import Problem
from skillstudio.cancel import CancelToken
from skillstudio.errors import Cancelled, SkillStudioError
from skillstudio.ui.common import dialogs
from skillstudio.ui.common.contracts import Document
from skillstudio.ui.common.fit import fit
from skillstudio.ui.common.proxy import apply_proxy
from skillstudio.ui.common.settings import AppSettings
from skillstudio.ui.common.theme import apply_theme, load_icon
from skillstudio.ui.common.workers import WorkerPool
from skillstudio.ui.editor.prefs import EditorPrefs
from skillstudio.ui.editor.problems_panel import ProblemsPanel
from skillstudio.ui.editor.token_meter import TokenMeter
from skillstudio.ui.shell import gc_pin
from skillstudio.ui.shell.actions import install_actions
from skillstudio.ui.shell.feature_panels import FeaturePanels
from skillstudio.ui.shell.focus_guard import FocusGuard
from skillstudio.ui.shell.help_menu import HelpActions
from skillstudio.ui.shell.layout import WindowLayout
from skillstudio.ui.shell.navigation import Navigation
from skillstudio.ui.shell.palette import CommandPalette, window_actions
from skillstudio.ui.shell.recovery_controller import RecoveryController
from skillstudio.ui.shell.tree_actions import TreeFileActions
from skillstudio.ui.shell.trust_banner import WorkspaceTrustBanner
from skillstudio.ui.shell.welcome import WelcomePage
from skillstudio.ui.shell.workspace_problems import WorkspaceProblems, WorkspaceProblemsView
from skillstudio.ui.shell.workspace_tree import WorkspaceTree

if TYPE_CHECKING:
    from skillstudio.bundle.model import Skill
    from skillstudio.bundle.workspace import Workspace
    from skillstudio.services.analysis import CheckResult
    from skillstudio.ui.editor.live_check import LiveChecker
    from skillstudio.ui.editor.tab import EditorTab
    from skillstudio.ui.shell.find_in_files import FindInFiles
    from skillstudio.ui.shell.fix_controller import FixController
    from skillstudio.ui.shell.settings_dialog import SettingsDialog
    from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor
    from skillstudio.ui.versions.panel import VersionsPanel

APP_NAME = "Skill Studio"


def _load_skill_job(skill_dir: Path, _token: CancelToken, _progress: object) -> Skill:
    from skillstudio.bundle.model import load_skill

    return load_skill(skill_dir)


def _release_state_job(workspace: Path, skill_dir: Path, _token: CancelToken,
                       _progress: object) -> tuple[str, str, str] | None:
    """Worker side (git): (skill, released version, next version) when SKILL.md's version is released."""
    from skillstudio.bundle.model import load_skill
    from skillstudio.bundle.release import next_version

    new = next_version(workspace, skill_dir)
    if new is None:
        return None
    skill = load_skill(skill_dir, with_files=False)
    return skill.name, (skill.version or "").strip(), new


def _load_workspace_job(root: Path, token: CancelToken, progress: object) -> Workspace:
    """Worker side: read every skill of the workspace (never touches a widget)."""
    from skillstudio.bundle.workspace import load_workspace


    def report(done: int, total: int) -> None:
        if token.cancelled:
            raise Cancelled()
        if done == total or done % 25 == 0:
            progress(done, total)  # type: ignore[operator]

    return load_workspace(root, progress=report)


def _is_packaged_examples(root: Path) -> bool:
    """The examples shipped inside the installed package (a source checkout's skills/ is the user's own)."""
    bundled = resources.examples_dir()
    return bundled.name == "_examples" and (root == bundled.resolve() or root.is_relative_to(bundled.resolve()))


class MainWindow(QMainWindow):
    """One workspace: its skills in a tree, open files in tabs, their problems and costs below."""

    sig_workspace_loaded = Signal(object)  # Workspace
    sig_checked = Signal(object)  # CheckResult shown for the current tab

    def __init__(self, settings: AppSettings | None = None) -> None:
        from skillstudio.ui.shell.disk_sync import DiskSync

        super().__init__()
        gc_pin.acquire()  # no garbage collection on worker threads while this window lives
        self._painted = False  # heavy work waits for the first paint: the window shows up at once
        self._after_paint: list[Callable[[], object]] = []
        self.setObjectName("MainWindow")
        self.settings = settings or AppSettings()
        apply_proxy(self.settings.proxy, self.settings.no_proxy)  # model requests of this app only
        self.pool = WorkerPool(self, max_threads=2)
        self.workspace_root: Path | None = None
        self.workspace: Workspace | None = None
        self._load_job: int | None = None
        self._checkers: dict[QWidget, LiveChecker] = {}  # editor or cases tab -> its skill's live check
        self._closing = False
        self._open_after_load: Path | None = None
        self._after_load_message: str | None = None
        self._restore_session = False  # reopen the workspace's last tabs when its load completes
        self._panel_docks: list[QDockWidget] = []
        self.setWindowTitle(APP_NAME)
        self.resize(1280, 820)

        self.tree = WorkspaceTree()
        self.tree.sig_open_file.connect(self.open_file)
        self.tree.sig_open_cases.connect(self.open_cases)
        self.tree.sig_skill_selected.connect(self._on_skill_selected)
        tree_dock = QDockWidget("Workspace", self)
        tree_dock.setObjectName("dock_workspace")
        tree_dock.setWidget(self.tree)
        tree_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, tree_dock)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("editor_tabs")
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabBar().setDrawBase(False)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(self._on_current_tab_changed)
        self.welcome = WelcomePage()
        self.welcome.sig_new_skill.connect(self.new_skill)
        self.welcome.sig_open_workspace.connect(self.choose_workspace)
        self.welcome.sig_open_recent.connect(self.open_workspace)
        self.welcome.sig_open_examples.connect(self.open_examples_copy)
        self.center = QStackedWidget()
        self.center.addWidget(self.welcome)
        self.center.addWidget(self.tabs)
        self.trust_banner = WorkspaceTrustBanner()  # unapproved secret bindings / sandbox policies
        central = QWidget()
        central_lay = QVBoxLayout(central)
        central_lay.setContentsMargins(0, 0, 0, 0)
        central_lay.setSpacing(0)
        central_lay.addWidget(self.trust_banner)
        central_lay.addWidget(self.center, 1)
        self.setCentralWidget(central)

        self.problems = ProblemsPanel()
        self.problems.sig_activated.connect(self.go_to_problem)
        self.problems_dock = QDockWidget("Problems", self)
        self.problems_dock.setObjectName("dock_problems")
        self.problems_dock.setWidget(self.problems)  # small by itself: no scroll area (start-up cost)
        self.problems_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                       | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.problems_dock)
        self.resizeDocks([tree_dock], [260], Qt.Orientation.Horizontal)
        self.resizeDocks([self.problems_dock], [180], Qt.Orientation.Vertical)  # the editor keeps most of 720 px
        self._make_versions_dock()

        self.token_meter = TokenMeter()
        self.cursor_label = QLabel("")
        self.cursor_label.setObjectName("CursorPosition")
        self.statusBar().addPermanentWidget(self.cursor_label)
        self.statusBar().addPermanentWidget(self.token_meter)

        self.recovery = RecoveryController(self)  # autosave of unsaved buffers, restore after a crash
        self.disk = DiskSync(self)  # changes made by other programs
        self._fixes: FixController | None = None  # built on the first fix-it (its imports cost start-up time)
        self.problems.sig_fix_requested.connect(self._apply_fix)
        self.problems.sig_fix_preview_requested.connect(self._preview_fix)

        self.view_menu: QMenu | None = None  # made by install_actions; docks added later list themselves there
        self.help = HelpActions(self)  # User Guide (F1), Keyboard Shortcuts, Report a Problem…
        # every skill's problems, checked in the background (the view is built when first shown)
        self._all_problems: WorkspaceProblemsView | None = None
        self.all_problems_dock = self.add_panel("All Problems", QWidget())
        self.all_problems_dock.visibilityChanged.connect(self._all_problems_visible)
        self.ws_problems = WorkspaceProblems(self.pool, None, self.tree.set_badge, self.when_painted)
        self._find_in_files: FindInFiles | None = None  # Ctrl+Shift+F (built when first shown)
        self.search_dock = self.add_panel("Search", QWidget(), Qt.DockWidgetArea.LeftDockWidgetArea,
                                          tabify_with=tree_dock)
        self.search_dock.visibilityChanged.connect(self._search_visible)
        tree_dock.raise_()
        # new, rename, trash, run a script…
        self.tree_actions = TreeFileActions(self, self.tree, self.documents, self.remove_document,
                                            lambda script, skill: self.features.run_script(script, skill))
        self.sig_workspace_loaded.connect(self.ws_problems.on_workspace_loaded)
        self.features = FeaturePanels(self)  # trigger tests, playground, sandbox, publish
        self.layout_state = WindowLayout(self, self.settings)  # maximise, collapse, dock sizes per workspace
        self.nav = Navigation(self, self.current_doc, lambda: self.workspace_root, self.open_file,
                              self.statusBar)  # find/replace, go to line, quick open
        self.sig_workspace_loaded.connect(self.features.on_workspace_loaded)
        self.tree.sig_skill_selected.connect(self.features.on_skill_selected)
        self.problems_dock.raise_()
        self._actions, self.view_menu, self.recent = install_actions(
            self, [self.problems_dock, self.versions_dock, *self._panel_docks], self.settings, self.open_workspace)
        self.action("theme").setChecked(self.settings.theme == "dark")
        # focus never falls into the skill filter
        self.focus_guard = FocusGuard(self, self.tree.filter, self.current_doc)
        geometry = self.settings.value("ui/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        self._update_center()

    # ================================================================== versions (history, diff, release)
    def _make_versions_dock(self) -> None:
        """The Versions dock; its panel is built when first shown (or used), in a FitArea — at start-up it
        is behind the Problems tab, and building it early cost start-up time and 245 px of minimum height."""
        self._versions: VersionsPanel | None = None
        self.versions_dock = QDockWidget("Versions", self)
        self.versions_dock.setObjectName("dock_versions")
        self.versions_dock.setWidget(QWidget())
        self.versions_dock.visibilityChanged.connect(self._versions_visible)
        self.versions_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                       | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.versions_dock)
        self.tabifyDockWidget(self.problems_dock, self.versions_dock)
        self.problems_dock.raise_()
        self._versions_skill: Path | None = None

    @property
    def versions(self) -> VersionsPanel:
        if self._versions is None:
            from skillstudio.ui.versions.panel import VersionsPanel  # on first use, not at start-up

            panel = VersionsPanel()
            panel.setObjectName("versions_panel")
            panel.sig_about_to_release.connect(self.save_all)
            panel.sig_released.connect(self._on_released)
            self.versions_dock.setWidget(fit(panel))
            self._versions = panel
            if self._versions_skill is not None and self.workspace_root is not None:
                panel.set_skill(self.workspace_root, self._versions_skill)
        return self._versions

    @property
    def fixes(self) -> FixController:
        if self._fixes is None:
            from skillstudio.ui.shell.fix_controller import FixController  # on first use, not at start-up

            self._fixes = FixController(self)
        return self._fixes

    @Slot(object)
    def _apply_fix(self, problem: object) -> None:
        self.fixes.apply(problem)

    @Slot(object)
    def _preview_fix(self, problem: object) -> None:
        self.fixes.preview(problem)

    @Slot(bool)
    def _versions_visible(self, shown: bool) -> None:
        if shown:
            self._build_when_on_screen(self.versions_dock, "versions")

    @Slot(bool)
    def _all_problems_visible(self, shown: bool) -> None:
        if shown:
            self._build_when_on_screen(self.all_problems_dock, "all_problems")

    @Slot(bool)
    def _search_visible(self, shown: bool) -> None:
        if shown:
            self._build_when_on_screen(self.search_dock, "find_in_files")

    def _build_when_on_screen(self, dock: QDockWidget, attr: str) -> None:
        """Build a lazy dock's panel once a person can see it (Qt reports docks parked behind another tab
        as visible, so the visible region decides), after the event that showed it."""

        def build() -> None:
            if not self._closing and not dock.visibleRegion().isEmpty():
                getattr(self, attr)

        QTimer.singleShot(0, self, build)

    def add_panel(self, title: str, widget: QWidget, area: Qt.DockWidgetArea = Qt.DockWidgetArea.BottomDockWidgetArea,
                  tabify_with: QDockWidget | None = None, scroll: bool = False) -> QDockWidget:
        """Host a feature's panel as a dock (listed in View); bottom panels share the Problems tab strip."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        # a busy panel never makes the window grow: hosted in a FitArea (lazily built panels get one when
        # they are built, see FeaturePanels._page — a scroll area costs start-up time)
        dock.setWidget(fit(widget) if scroll else widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        partner = tabify_with or (self.problems_dock if area == Qt.DockWidgetArea.BottomDockWidgetArea else None)
        if partner is not None:
            self.tabifyDockWidget(partner, dock)
        self._panel_docks.append(dock)
        if self.view_menu is not None:
            self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def raise_dock(self, dock: QDockWidget) -> None:
        """Show a feature's dock in front, with room to work in."""
        dock.show()
        dock.raise_()
        if not dock.isFloating() and dock.height() < self.height() * 0.45:
            # feature panels need room: give the bottom area most of the window
            self.resizeDocks([dock], [int(self.height() * 0.6)], Qt.Orientation.Vertical)

    def action(self, action_id: str) -> QAction:
        """The window's action with this id (a row of shell.actions.ACTIONS)."""
        return self._actions[action_id]

    def _follow_skill(self, skill_dir: Path | None) -> None:
        """The versions panel shows the skill being worked on."""
        if skill_dir is not None and skill_dir != self._versions_skill and self.workspace_root is not None:
            self._versions_skill = skill_dir
            if self._versions is not None:  # (an unbuilt panel gets the skill when it is built)
                self._versions.set_skill(self.workspace_root, skill_dir)

    @Slot(str)
    def _on_released(self, version: str) -> None:
        skill = self._versions_skill
        self.statusBar().showMessage(f"Released {skill.name if skill else ''} {version}", 8000)
        for tab in self.editor_tabs():
            if skill is not None and tab.skill_dir == skill and tab.path is not None and not tab.dirty:
                tab.reload_from_disk()
                self._check_released(tab)  # the version just released is now immutable too
        self._skill_files_changed(skill, self)
        self.reload_workspace()

    # ================================================================== workspace
    @Slot()
    def choose_workspace(self) -> None:
        path = dialogs.choose_workspace(self, self.workspace_root)
        if path is not None:
            self.open_workspace(path)

    @Slot()
    def open_examples_copy(self, target: Path | None = None) -> bool:
        """Copy the bundled examples into a new folder of the user's and open that (never the originals)."""
        from skillstudio.ui.shell.first_run import copy_examples, default_examples_target

        if target is None:
            base = default_examples_target()
            target = next(p for i in range(1, 1000)
                          if not (p := base if i == 1 else base.with_name(f"{base.name}-{i}")).exists())
        try:
            copied = copy_examples(target)
        except SkillStudioError as exc:
            dialogs.show_error(self, "Open a copy of the examples", f"{exc.message}\n\n{exc.hint}".strip())
            return False
        return self.open_workspace(copied, message=f"Copied the examples to {copied}")

    @Slot(object)
    def open_workspace(self, root: Path, message: str | None = None) -> bool:
        root = Path(root).resolve()
        if _is_packaged_examples(root):  # the installed package's files: work on a copy
            return self.open_examples_copy()
        if message is not None:
            self._after_load_message = message
        if not root.is_dir():
            dialogs.show_error(self, "Open workspace", f"{root} is not a folder. Choose a folder that holds skills.")
            return False
        if root != self.workspace_root:
            self._save_session()  # before its tabs close: they come back when it opens again
        if self.workspace_root is not None and root != self.workspace_root and not self.close_all_tabs():
            return False
        self._restore_session = root != self.workspace_root  # reopen this workspace's tabs once it is loaded
        if root != self.workspace_root:
            self.layout_state.save_for(self.workspace_root)
            self.layout_state.restore_for(root)
        self.workspace_root = root
        self.workspace = None
        self.when_painted(self._check_trust)  # reads the workspace's trust files: after the first paint
        self.disk.watch_root(root)
        self.setWindowTitle(f"{root.name} — {APP_NAME}")
        self.settings.add_recent_workspace(root)
        self.tree.show_message(f"Loading {root.name}…")
        self.when_painted(self.reload_workspace)
        return True

    def _check_trust(self) -> None:
        """Show the trust banner when the open workspace's bindings or policies are unapproved."""
        if self.workspace_root is not None and not self._closing:
            self.trust_banner.set_workspace(self.workspace_root)

    def when_painted(self, fn: Callable[[], object]) -> None:
        """Run `fn` now, or — while the window is shown but not painted yet — right after its first paint
        (a worker reading files holds the GIL often enough to delay that paint noticeably)."""
        if self._painted or not self.isVisible():
            fn()
            return
        if not self._after_paint:
            QTimer.singleShot(500, self._run_after_paint)  # in case no paint ever comes (minimised, …)
        self._after_paint.append(fn)

    @Slot()
    def _run_after_paint(self) -> None:
        self._painted = True
        todo, self._after_paint = self._after_paint, []
        if self._closing:  # closed before its first paint (or the fallback timer fired after close)
            return
        for fn in todo:
            fn()

    def event(self, event: QEvent) -> bool:  # noqa: D102 - Qt override
        handled = super().event(event)
        if not getattr(self, "_painted", True) and event.type() == QEvent.Type.UpdateRequest:
            self._painted = True
            QTimer.singleShot(0, self._run_after_paint)
        return handled

    @property
    def loading(self) -> bool:
        return self._load_job is not None

    @Slot()
    def reload_workspace(self, message: str | None = None, select: Path | None = None) -> None:
        """Read the workspace again (on a worker); `message` is shown and `select` selected when done."""
        if message is not None:
            self._after_load_message = message
        if select is not None:
            self._open_after_load = select
        if self.workspace_root is None:
            return
        if self._load_job is not None:
            self.pool.cancel(self._load_job)
        self.tree.show_message(f"Loading {self.workspace_root.name}…")
        self._update_center()
        self._load_job, _ = self.pool.submit(partial(_load_workspace_job, self.workspace_root),
                                             on_result=self._on_workspace_loaded, on_error=self._on_workspace_error,
                                             on_progress=self._on_workspace_progress)

    @Slot(int, int, int, int)
    def _on_workspace_progress(self, job: int, done: int, total: int, _cached: int) -> None:
        if job == self._load_job:
            self.tree.show_message(f"Loading {done:,} / {total:,} skills…")

    @Slot(int, object)
    def _on_workspace_loaded(self, job: int, ws: object) -> None:
        from skillstudio.bundle.workspace import Workspace

        if job != self._load_job or not isinstance(ws, Workspace):
            return
        self._load_job = None
        self.workspace = ws
        self.tree.set_workspace(ws)
        n = len(ws.skills)
        message, self._after_load_message = self._after_load_message, None
        found = ws.found or f"{n} skill{'s' * (n != 1)}"  # how many skills were found where, in one line
        self.statusBar().showMessage(message or f"Opened {ws.root.name}: {found}", 8000)
        for checker in self._checkers.values():
            checker.invalidate()
            checker.request()
        if self._open_after_load is not None:
            self.tree.select_skill(self._open_after_load)
            self._open_after_load = None
        else:
            doc = self.current_doc()
            skill_dir = self.doc_skill_dir(doc) if doc is not None else None
            if skill_dir is not None:
                self.tree.select_skill(skill_dir)
        self._update_center()
        if self._restore_session:
            self._restore_session = False
            self._reopen_session(ws.root)
        self.sig_workspace_loaded.emit(ws)

    def recheck(self, doc: QWidget) -> None:
        checker = self._checkers.get(doc)
        if checker is not None:
            checker.request()

    @Slot(int, object)
    def _on_skill_reloaded(self, _job: int, skill: object) -> None:
        from skillstudio.bundle.model import Skill
        from skillstudio.bundle.workspace import Workspace

        ws = self.workspace
        if ws is None or not isinstance(skill, Skill) or self._load_job is not None:
            return
        skills = [skill if s.path == skill.path else s for s in ws.skills]
        if skills == ws.skills:
            return
        self.workspace = Workspace(root=ws.root, skills=skills)  # replaced, never mutated: workers read it
        self.tree.replace_skill(skill)
        for doc, checker in self._checkers.items():
            if self.doc_skill_dir(doc) != skill.path:
                checker.invalidate()  # other skills' catalog share and near-duplicates changed

    @Slot(int, str)
    def _on_workspace_error(self, job: int, message: str) -> None:
        if job == self._load_job:
            self._load_job = None
            self.tree.show_message(f"Could not load the workspace: {message}")

    @Slot(object)
    def _on_skill_selected(self, skill_dir: object) -> None:
        if isinstance(skill_dir, Path):
            self._follow_skill(skill_dir.resolve())

    # ================================================================== tabs
    def documents(self) -> list[QWidget]:
        """Every open tab: text editors (EditorTab) and trigger-case tables (TriggerCasesEditor)."""
        return [w for w in (self.tabs.widget(i) for i in range(self.tabs.count())) if w is not None]

    def editor_tabs(self) -> list[EditorTab]:
        from skillstudio.ui.editor.tab import EditorTab

        return [w for w in self.documents() if isinstance(w, EditorTab)]

    def cases_tabs(self) -> list[TriggerCasesEditor]:
        from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor

        return [w for w in self.documents() if isinstance(w, TriggerCasesEditor)]

    def doc_dirty(self, w: QWidget) -> bool:
        return isinstance(w, Document) and w.is_dirty()

    def doc_title(self, w: QWidget) -> str:
        return w.document_title() if isinstance(w, Document) else "?"

    def doc_skill_dir(self, w: QWidget) -> Path | None:
        return w.document_skill_dir() if isinstance(w, Document) else None

    def show_document(self, doc: Document) -> None:
        """Bring an open document's tab to the front."""
        if isinstance(doc, QWidget):
            self.tabs.setCurrentWidget(doc)

    def remove_document(self, doc: QWidget) -> None:
        """Close a document's tab without asking (the caller has saved or discarded it)."""
        index = self.tabs.indexOf(doc)
        if index >= 0:
            self.remove_tab(index)

    def current_tab(self) -> EditorTab | None:
        from skillstudio.ui.editor.tab import EditorTab

        w = self.tabs.currentWidget()
        return w if isinstance(w, EditorTab) else None

    def current_doc(self) -> QWidget | None:
        return self.tabs.currentWidget()

    def tab_for(self, path: Path) -> EditorTab | None:
        path = Path(path).resolve()
        return next((t for t in self.editor_tabs() if t.path == path), None)

    def _update_center(self) -> None:
        if self.tabs.count():
            self.center.setCurrentWidget(self.tabs)
            return
        n = len(self.workspace.skills) if self.workspace is not None else None
        self.welcome.set_state(self.workspace_root, n, self.settings.recent_workspaces())
        self.center.setCurrentWidget(self.welcome)

    @Slot()
    def choose_file(self) -> None:
        tab = self.current_tab()
        start = tab.path.parent if tab is not None and tab.path is not None else self.workspace_root
        path = dialogs.choose_file(self, start)
        if path is not None:
            self.open_file(path)

    @Slot(object)
    def open_file(self, path: Path) -> EditorTab | None:
        from skillstudio.ui.editor.tab import EditorTab

        path = Path(path).resolve()
        existing = self.tab_for(path)
        if existing is not None:
            self.tabs.setCurrentWidget(existing)
            return existing
        try:
            tab = EditorTab(path, self.workspace_root)
        except (OSError, ValueError) as exc:
            dialogs.show_error(self, "Open file", f"Cannot open {path.name}: {exc}")
            return None
        self.add_editor_tab(tab)
        return tab

    def add_editor_tab(self, tab: EditorTab) -> None:
        tab.sig_dirty_changed.connect(self._on_dirty_changed)
        tab.sig_saved.connect(self._on_tab_saved)
        tab.editor.cursorPositionChanged.connect(self._update_cursor_label)
        EditorPrefs.load(self.settings).apply(tab.editor)  # font, size, tab width, wrap from Settings
        index = self.tabs.addTab(tab, tab.title)
        self.tabs.setTabToolTip(index, str(tab.path or tab.title))
        if tab.path is not None:
            self.disk.files.watch(tab.path)
        checker = self._attach_checker(tab, tab.skill_dir,
                                       tab.buffer_text if tab.mode == "skill" else None)
        if checker is not None and tab.mode == "skill":
            tab.editor.textChanged.connect(checker.request)
        tab.sig_version_started.connect(self._on_version_started)
        self._check_released(tab)
        if self.tabs.currentWidget() is tab:  # the first tab became current inside addTab, before its checker
            self._on_current_tab_changed(self.tabs.currentIndex())
        self.tabs.setCurrentWidget(tab)
        self._update_center()
        focus = QApplication.focusWidget()
        if focus is None or focus is self.tree.filter or self.tree.isAncestorOf(focus):
            tab.editor.setFocus(Qt.FocusReason.OtherFocusReason)  # opened from the tree: type in it at once

    def _check_released(self, tab: EditorTab) -> None:
        """Find out on a worker whether this SKILL.md's version is released (edits then start the next)."""
        if tab.mode != "skill" or tab.path is None or tab.skill_dir is None or self.workspace_root is None:
            return
        if self._closing:
            return

        def done(_job: int, state: object) -> None:
            if isinstance(state, tuple) and tab in self.editor_tabs():
                tab.set_release_state(*state)

        self.pool.submit(partial(_release_state_job, self.workspace_root, tab.skill_dir), on_result=done)

    @Slot(str)
    def _on_version_started(self, message: str) -> None:
        self.statusBar().showMessage(message, 10000)

    def _attach_checker(self, doc: QWidget, skill_dir: Path | None, text_fn: object) -> LiveChecker | None:
        """Live problems for a tab's skill: of the buffer itself for SKILL.md, else of SKILL.md as open/saved."""
        from skillstudio.ui.editor.live_check import LiveChecker

        if skill_dir is None:
            return None
        fn = text_fn if callable(text_fn) else partial(self._skill_md_text, skill_dir)
        checker = LiveChecker(self.pool, skill_dir, fn, self._current_workspace, self)
        checker.sig_checked.connect(self._on_checked)
        checker.sig_failed.connect(self._on_check_failed)
        self._checkers[doc] = checker
        checker.check_now()
        return checker

    @Slot(object)
    def open_cases(self, skill_dir: object) -> TriggerCasesEditor | None:
        """The trigger-cases table of a skill, in its own tab (one per skill)."""
        from skillstudio.bundle.triggers import TRIGGERS_PATH
        from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor
        from skillstudio.ui.triggers.last_results import latest_report

        skill_dir = Path(str(skill_dir)).resolve()
        existing = next((c for c in self.cases_tabs() if c.skill_dir() == skill_dir), None)
        if existing is not None:
            self.tabs.setCurrentWidget(existing)
            return existing
        editor = TriggerCasesEditor()
        editor.setObjectName("cases_editor")
        editor.load(skill_dir)
        if self.workspace_root is not None:  # each case's verdict in the last saved run
            editor.show_last_results(latest_report(self.workspace_root))
        editor.sig_dirty_changed.connect(self._on_dirty_changed)
        index = self.tabs.addTab(editor, self.doc_title(editor))
        self.tabs.setTabToolTip(index, str(skill_dir / TRIGGERS_PATH))
        self._attach_checker(editor, skill_dir, None)
        self.tabs.setCurrentWidget(editor)
        self._update_center()
        return editor

    def _current_workspace(self) -> Workspace | None:
        return self.workspace

    def _skill_md_text(self, skill_dir: Path) -> str:
        from skillstudio.bundle.fileio import read_text_file
        from skillstudio.bundle.model import find_skill_md

        md = find_skill_md(skill_dir)
        if md is None:
            return ""
        tab = self.tab_for(md)
        if tab is not None:
            return tab.buffer_text()
        try:
            return read_text_file(md, root=skill_dir)
        except (OSError, ValueError):
            return ""

    @Slot(bool)
    def _on_dirty_changed(self, dirty: bool) -> None:
        from skillstudio.ui.editor.tab import EditorTab
        from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor

        doc = self.sender()
        if isinstance(doc, QWidget):
            i = self.tabs.indexOf(doc)
            if i >= 0:
                self.tabs.setTabText(i, ("● " if dirty else "") + self.doc_title(doc))
            if not dirty and isinstance(doc, (EditorTab, TriggerCasesEditor)):
                self.recovery.discard(doc)

    @Slot(int)
    def _on_current_tab_changed(self, _index: int) -> None:
        from skillstudio.ui.editor.tab import EditorTab

        doc = self.current_doc()
        self._update_cursor_label()
        if doc is None:
            self.problems.clear("Open a SKILL.md to see its problems here.")
            self.problems_dock.setWindowTitle("Problems")
            self.token_meter.clear_meter()
            return
        checker = self._checkers.get(doc)
        if checker is None:
            self.problems.clear(f"{self.doc_title(doc)} is not part of a skill: nothing to validate.")
            self.token_meter.clear_meter()
        else:
            if checker.last_result is not None:
                self._show_result(doc, checker.last_result)
            else:  # never a stale message from another tab while the first check runs
                self.problems.clear(f"Checking {self.doc_title(doc)}…")
            if not (isinstance(doc, EditorTab) and doc.mode == "skill"):
                checker.request()  # SKILL.md may have changed in its own tab meanwhile
        skill_dir = self.doc_skill_dir(doc)
        if skill_dir is not None:
            self.tree.select_skill(skill_dir)
            self._follow_skill(skill_dir)

    @Slot()
    def _update_cursor_label(self) -> None:
        tab = self.current_tab()
        if tab is None:
            self.cursor_label.setText("")
            return
        c = tab.editor.textCursor()
        self.cursor_label.setText(f"Ln {c.blockNumber() + 1}, Col {c.positionInBlock() + 1}")

    # ================================================================== live check results
    @Slot(object)
    def _on_checked(self, result: object) -> None:
        from skillstudio.services.analysis import CheckResult
        from skillstudio.ui.editor.tab import EditorTab

        checker = self.sender()
        doc = next((t for t, c in self._checkers.items() if c is checker), None)
        if doc is None or not isinstance(result, CheckResult):
            return
        if isinstance(doc, EditorTab):
            if doc.form is not None:
                doc.form.set_frontmatter(result.frontmatter, result.parse_error, result.parse_error_line)
                from skillstudio.bundle import openai_yaml

                doc.form.set_codex_metadata(openai_yaml.read(doc.skill_dir) if doc.skill_dir else None)
            rel = doc.rel_file()
            marks: dict[int, str] = {}
            for p in result.problems:
                if p.line and p.file == rel and p.severity in ("error", "warning") and marks.get(p.line) != "error":
                    marks[p.line] = p.severity
            doc.editor.mark_lines(marks)
        skill_dir = self.doc_skill_dir(doc)
        if skill_dir is not None:
            self.ws_problems.update_skill(skill_dir, result.problems)  # the tree badge follows the edits
        if doc is self.current_doc():
            self._show_result(doc, result)

    @property
    def all_problems(self) -> WorkspaceProblemsView:
        """The All Problems view, built on first use (it is not on screen at start-up)."""
        if self._all_problems is None:
            self._all_problems = WorkspaceProblemsView()
            self._all_problems.sig_open.connect(self._open_problem)
            self.all_problems_dock.setWidget(self._all_problems)
            self.ws_problems.attach(self._all_problems)
        return self._all_problems

    @property
    def find_in_files(self) -> FindInFiles:
        """The Search panel, built on first use."""
        if self._find_in_files is None:
            from skillstudio.ui.shell.find_in_files import FindInFiles  # on first use, not at start-up

            self._find_in_files = FindInFiles(self.pool, lambda: self.workspace_root)
            self._find_in_files.sig_open.connect(self._open_at)
            self.search_dock.setWidget(self._find_in_files)
        return self._find_in_files

    @Slot()
    def show_find_in_files(self) -> None:
        """Ctrl+Shift+F: the Search panel, seeded with the text selected in the editor."""
        tab = self.current_tab()
        seed = tab.editor.textCursor().selectedText() if tab is not None else ""
        self.search_dock.show()
        self.search_dock.raise_()
        self.find_in_files.focus_query(seed)

    @Slot(object, int, int, int)
    def _open_at(self, path: object, line: int, start: int, end: int) -> None:
        """Open a file at a line with columns start..end selected (a search hit)."""
        from skillstudio.ui.editor.code_editor import utf16_len

        if not isinstance(path, Path):
            return
        tab = self.open_file(path)
        if tab is None:
            return
        tab.editor.go_to_line(line)
        cursor = tab.editor.textCursor()
        block = cursor.block().text()
        cursor.setPosition(cursor.block().position() + utf16_len(block[:start]))
        cursor.setPosition(cursor.block().position() + utf16_len(block[:end]), QTextCursor.MoveMode.KeepAnchor)
        tab.editor.setTextCursor(cursor)

    @Slot(object, object)
    def _open_problem(self, skill_dir: object, problem: object) -> None:
        """From All Problems: open the file of a problem at its line (the skill's SKILL.md otherwise)."""
        from skillstudio.bundle.model import find_skill_md

        if not isinstance(skill_dir, Path):
            return
        md = find_skill_md(skill_dir)
        target = skill_dir / problem.file if isinstance(problem, Problem) else md
        if target is None or not target.is_file():
            target = md
        if target is None:
            return
        tab = self.open_file(target)
        if tab is not None and isinstance(problem, Problem) and problem.line:
            tab.editor.go_to_line(problem.line)

    def _show_result(self, doc: QWidget, result: CheckResult) -> None:
        skill_dir = self.doc_skill_dir(doc)
        subject = skill_dir.name if skill_dir else self.doc_title(doc)
        self.problems.set_problems(result.problems, subject, result.error or "")
        errors, warnings, _notes = self.problems.counts()  # the same numbers as the panel's summary
        shown = errors + warnings
        self.problems_dock.setWindowTitle(f"Problems ({shown})" if shown else "Problems")
        self.problems_dock.setProperty("has_errors", bool(errors))
        if result.tokens_error is not None:
            self.token_meter.set_unavailable(result.tokens_error)
        else:
            self.token_meter.set_summary(result.tokens)
        self.sig_checked.emit(result)

    @Slot(str)
    def _on_check_failed(self, message: str) -> None:
        self.statusBar().showMessage(f"Live check failed: {message}", 8000)

    @Slot(object)
    def go_to_problem(self, problem: object) -> None:
        from skillstudio.bundle.triggers import TRIGGERS_PATH
        from skillstudio.ui.editor.tab import EditorTab
        from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor

        doc = self.current_doc()
        skill_dir = self.doc_skill_dir(doc) if doc is not None else None
        if not isinstance(problem, Problem) or skill_dir is None:
            return
        if isinstance(doc, TriggerCasesEditor) and problem.file == TRIGGERS_PATH.as_posix():
            return  # the table is the view of that file
        target = (skill_dir / problem.file).resolve()
        tab = doc if isinstance(doc, EditorTab) else None
        if tab is None or target != tab.path:
            if not target.is_file():
                self.statusBar().showMessage(f"{problem.file} does not exist yet", 5000)
                return
            opened = self.open_file(target)
            if opened is None:
                return
            tab = opened
        if problem.line:
            tab.editor.go_to_line(problem.line)
        else:
            tab.editor.setFocus()

    @Slot()
    def next_problem(self) -> None:
        tab = self.current_tab()
        line = tab.editor.current_line() if tab else 0
        self.problems.activate_next(line, (tab.rel_file() if tab else None) or "SKILL.md")

    @Slot()
    def preview_fix(self) -> None:
        """The palette's "Preview Fix…": the selected problem's fix, else the first problem with one."""
        p = self.problems.selected_problem()
        if p is None or not p.fix:
            p = next((q for q in self.problems.problems if q.fix), None)
        self.fixes.preview(p)

    # ================================================================== saving
    @Slot()
    def save_current(self) -> bool:
        doc = self.current_doc()
        return self.save_doc(doc) if doc is not None else False

    @Slot()
    def save_current_as(self) -> bool:
        tab = self.current_tab()
        if tab is None:
            return False
        path = dialogs.choose_save_path(self, tab.path or self.workspace_root)
        return self.save_tab(tab, path) if path is not None else False

    @Slot()
    def save_all(self) -> bool:
        return all([self.save_doc(d) for d in self.documents() if self.doc_dirty(d)])

    def save_doc(self, doc: QWidget) -> bool:
        from skillstudio.ui.editor.tab import EditorTab
        from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor

        if isinstance(doc, EditorTab):
            return self.save_tab(doc)
        if isinstance(doc, TriggerCasesEditor):
            if not doc.save():
                return False
            self._skill_files_changed(doc.skill_dir(), doc)
            self.statusBar().showMessage(f"Saved {self.doc_title(doc)}", 4000)
            return True
        return False

    def save_tab(self, tab: EditorTab, path: Path | None = None) -> bool:
        if tab.path is None and path is None:
            path = dialogs.choose_save_path(self, self.workspace_root)
            if path is None:
                return False
        other = self.tab_for(path) if path is not None else None
        if other is not None and other is not tab and other.dirty:
            dialogs.show_error(self, "Save as", f"{other.title} is open with unsaved edits: save or close it first.")
            return False
        old_key = RecoveryController.key(tab)
        old_path = tab.path
        try:
            saved = tab.save(path)
        except (OSError, ValueError) as exc:
            dialogs.show_error(self, "Save", f"Could not save {tab.title}: {exc}. Your text is still in the editor "
                               "(and in the recovery area); try Save As… to another folder.")
            return False
        self.recovery.discard(tab, old_key)
        if old_path != saved:
            # a new name can mean a new kind of file or another skill: show it in a fresh tab
            index, cursor_line = self.tabs.indexOf(tab), tab.editor.current_line()
            self.remove_tab(index)
            new_tab = self.tab_for(saved) or self.open_file(saved)
            if new_tab is not None:
                if new_tab.dirty or new_tab.disk_text != new_tab.buffer_text():
                    new_tab.reload_from_disk()
                self.tabs.tabBar().moveTab(self.tabs.indexOf(new_tab), min(index, self.tabs.count() - 1))
                self.tabs.setCurrentWidget(new_tab)
                new_tab.editor.go_to_line(cursor_line)
            if self.workspace_root is not None and saved.is_relative_to(self.workspace_root):
                self.reload_workspace()
        self.statusBar().showMessage(f"Saved {saved}", 4000)
        return True

    @Slot(object)
    def _on_tab_saved(self, path: object) -> None:
        from skillstudio.ui.editor.tab import EditorTab

        tab = self.sender()
        if isinstance(tab, EditorTab):
            self._skill_files_changed(tab.skill_dir, tab)

    def _skill_files_changed(self, skill_dir: Path | None, source: QWidget) -> None:
        """A file of a skill was written: every check of that skill reloads what it caches, the tree
        and the workspace model (catalog, near-duplicates) get the re-read skill."""
        from skillstudio.ui.editor.tab import EditorTab

        if skill_dir is None:
            return
        if self.workspace is not None and not self._closing:
            self.pool.submit(partial(_load_skill_job, skill_dir), on_result=self._on_skill_reloaded)
        for doc, checker in self._checkers.items():
            if self.doc_skill_dir(doc) == skill_dir:
                if doc is not source or not isinstance(doc, EditorTab) or doc.mode != "skill":
                    checker.invalidate()
                checker.request()

    # ================================================================== edit, view, settings
    @Slot()
    def undo(self) -> None:
        tab = self.current_tab()
        if tab is not None:
            tab.editor.undo()

    @Slot()
    def redo(self) -> None:
        tab = self.current_tab()
        if tab is not None:
            tab.editor.redo()

    @Slot()
    def toggle_theme(self) -> None:
        self.set_theme("dark" if self.action("theme").isChecked() else "light")

    def set_theme(self, theme: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme = apply_theme(app, theme)
        self.settings.theme = theme
        self.action("theme").setChecked(theme == "dark")
        for tab in self.editor_tabs():
            tab.highlighter.set_theme(theme)
            tab.editor.viewport().update()
        if self._versions is not None:
            self._versions.set_theme(theme)
        if self.workspace is not None:
            self.tree.set_workspace(self.workspace)  # icons follow the theme
            doc = self.current_doc()
            skill_dir = self.doc_skill_dir(doc) if doc is not None else None
            if skill_dir is not None:
                self.tree.select_skill(skill_dir)
        for act in self.actions():
            name = act.property("icon_name")
            if name:
                act.setIcon(load_icon(str(name), theme))

    @Slot()
    def show_palette(self) -> CommandPalette:
        palette = CommandPalette([a for a in window_actions(self) if a is not self.action("palette")], self)
        palette.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        palette.open()  # window-modal, non-blocking
        palette.query.setFocus()
        return palette

    @Slot()
    def show_about(self) -> None:
        from skillstudio import __version__

        dialogs.show_about(self, __version__)

    @Slot()
    def show_settings(self) -> None:
        from skillstudio.ui.shell.settings_dialog import SettingsDialog  # on demand: not before the first paint

        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.settings_applied(dialog)

    def settings_applied(self, dialog: SettingsDialog) -> None:
        """What an accepted Settings dialog changes in the running app."""
        self.set_theme(self.settings.theme)
        self.apply_editor_prefs()
        apply_proxy(self.settings.proxy, self.settings.no_proxy)  # the next run's requests use it
        if dialog.defaults_changed:
            self.features.load_run_defaults()

    def apply_editor_prefs(self) -> None:
        """Settings ▸ Editor, applied to every open editor."""
        prefs = EditorPrefs.load(self.settings)
        for tab in self.editor_tabs():
            prefs.apply(tab.editor)

    @Slot()
    def new_skill(self) -> Path | None:
        from skillstudio.bundle.model import find_skill_md

        if self.workspace_root is None:
            dialogs.show_error(self, "New skill", "Open a workspace first (File ▸ Open Workspace…).")
            return None
        from skillstudio.ui.editor.new_skill_wizard import NewSkillWizard  # on demand: not before the first paint

        wizard = NewSkillWizard(self.workspace_root, self)
        created = wizard.created_path() if wizard.exec() else None
        if created is None:
            return None
        self.reload_workspace(f"Created {created.name}", select=created)
        md = find_skill_md(created)
        if md is not None:
            self.open_file(md)
        return created

    # ================================================================== closing
    @Slot(int)
    def close_tab(self, index: int) -> bool:
        doc = self.tabs.widget(index)
        if doc is not None and self.doc_dirty(doc):
            answer = dialogs.ask_save_changes(self, [self.doc_title(doc)])
            if answer == "cancel" or (answer == "save" and not self.save_doc(doc)):
                return False
        self.remove_tab(index)
        return True

    @Slot()
    def close_current_tab(self) -> None:
        if self.tabs.count():
            self.close_tab(self.tabs.currentIndex())

    def remove_tab(self, index: int) -> None:
        from skillstudio.ui.editor.tab import EditorTab
        from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor

        tab = self.tabs.widget(index)
        self.tabs.removeTab(index)
        if isinstance(tab, TriggerCasesEditor) and tab.triggers_path() is not None:
            self.recovery.discard(tab)
        if isinstance(tab, EditorTab):
            self.recovery.discard(tab)
            if tab.path is not None and self.tab_for(tab.path) is None:
                self.disk.files.unwatch(tab.path)
        checker = self._checkers.pop(tab, None) if tab is not None else None
        if checker is not None:
            checker.stop()
            checker.sig_checked.disconnect(self._on_checked)
            checker.deleteLater()
        if tab is not None:
            tab.deleteLater()
        self._update_center()

    def close_all_tabs(self) -> bool:
        """Ask once about every unsaved buffer; False if the user cancelled."""
        dirty = [d for d in self.documents() if self.doc_dirty(d)]
        if dirty:
            answer = dialogs.ask_save_changes(self, [self.doc_title(d) for d in dirty])
            if answer == "cancel":
                return False
            if answer == "save" and not all([self.save_doc(d) for d in dirty]):
                return False
        while self.tabs.count():
            self.remove_tab(0)
        return True

    def _session_tabs(self) -> list[tuple[str, Path]]:
        from skillstudio.ui.editor.tab import EditorTab
        from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor

        out: list[tuple[str, Path]] = []
        for i in range(self.tabs.count()):
            doc = self.tabs.widget(i)
            if isinstance(doc, EditorTab) and doc.path is not None:
                out.append(("file", doc.path))
            elif isinstance(doc, TriggerCasesEditor) and doc.skill_dir() is not None:
                out.append(("cases", doc.skill_dir()))  # type: ignore[arg-type]
        return out

    def _save_session(self) -> None:
        """Remember this workspace's open tabs (restored when it opens again)."""
        from skillstudio.ui.shell.session import save_session

        if self.workspace_root is not None and self.workspace is not None:
            save_session(self.settings, self.workspace_root, self._session_tabs(), self.tabs.currentIndex())

    def _reopen_session(self, root: Path) -> None:
        from skillstudio.ui.shell.session import load_session

        tabs, current = load_session(self.settings, root)
        for kind, path in tabs:
            if kind == "file":
                self.open_file(path)
            else:
                self.open_cases(path)
        if 0 <= current < self.tabs.count():
            self.tabs.setCurrentIndex(current)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self._closing:
            self._save_session()
        if not self._closing and not self.close_all_tabs():
            event.ignore()
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop timers, cancel and wait for every worker; safe to call twice."""
        if self._closing:
            return
        self._closing = True
        self.recovery.stop()
        self.settings.set_value("ui/geometry", self.saveGeometry())
        self.layout_state.save_for(self.workspace_root)
        self.settings.sync()
        if self._versions is not None:
            self._versions.shutdown()
        self.features.shutdown()
        self.ws_problems.shutdown()
        if self._find_in_files is not None:
            self._find_in_files.shutdown()
        self.pool.shutdown()
        gc_pin.release()
