"""The feature panels hosted by the main window: trigger tests, playground, sandbox, release.

Each feature is a standalone widget that knows nothing about the window; this module docks them,
groups related ones under one dock with tabs (so the bottom tab strip stays short), keeps them
pointed at the open workspace and the selected skill, adds their commands (with shortcuts, so the
command palette lists them) and shuts their workers down when the window closes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QTabWidget, QWidget

from skillstudio.bundle.workspace import Workspace
from skillstudio.ui.empty_hint import set_empty_hint
from skillstudio.ui.export_dialog import ExportDialog
from skillstudio.ui.lock_view import LockView
from skillstudio.ui.playground import Playground
from skillstudio.ui.registry_browser import RegistryBrowser
from skillstudio.ui.sandbox_console import SandboxConsole
from skillstudio.ui.secrets_manager import SecretsManager
from skillstudio.ui.test_panel import TestPanel
from skillstudio.ui.transcript_viewer import TranscriptViewer
from skillstudio.ui.trust_view import TrustView
from skillstudio.ui.try_prompt import TryPromptWidget

if TYPE_CHECKING:
    from skillstudio.ui.main_window import MainWindow


def _tabs(name: str, pages: list[tuple[str, QWidget]]) -> QTabWidget:
    tabs = QTabWidget()
    tabs.setObjectName(name)
    tabs.setDocumentMode(True)
    for title, page in pages:
        tabs.addTab(page, title)
    return tabs


class FeaturePanels(QObject):
    """Owns every feature panel of one main window."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.skill_dir: Path | None = None

        self.test_panel = TestPanel()
        self.try_prompt = TryPromptWidget()
        self.playground = Playground()
        self.transcripts = TranscriptViewer()
        self.sandbox = SandboxConsole()
        self.secrets = SecretsManager()
        self.registry = RegistryBrowser()
        self.trust = TrustView()
        self.lock = LockView()

        self.tests_tabs = _tabs("tests_tabs", [("Suite", self.test_panel), ("Try a prompt", self.try_prompt)])
        self.playground_tabs = _tabs("playground_tabs", [("Run", self.playground),
                                                         ("Saved runs", self.transcripts)])
        self.sandbox_tabs = _tabs("sandbox_tabs", [("Console", self.sandbox), ("Secrets", self.secrets)])
        self.release_tabs = _tabs("release_tabs", [("Registry", self.registry), ("Trust store", self.trust),
                                                   ("Lockfile && routes", self.lock)])
        self.tests_dock = win.add_panel("Trigger Tests", self.tests_tabs)
        self.playground_dock = win.add_panel("Playground", self.playground_tabs)
        self.playground.sig_run_finished.connect(self._on_agent_run_finished)
        self.sandbox_dock = win.add_panel("Sandbox", self.sandbox_tabs)
        self.release_dock = win.add_panel("Release", self.release_tabs)
        win.problems_dock.raise_()

        self.act_tests = self._action("Show &Trigger Tests", self.show_tests, "Ctrl+Alt+T")
        self.act_try = self._action("&Try a Prompt…", self.show_try_prompt, "Ctrl+Alt+P")
        self.act_playground = self._action("Show &Playground", self.show_playground, "Ctrl+Alt+G")
        self.act_sandbox = self._action("Show &Sandbox Console", self.show_sandbox, "Ctrl+Alt+X")
        self.act_secrets = self._action("Manage &Secrets…", self.show_secrets, "Ctrl+Alt+K")
        self.act_export = self._action("&Export Skill…", self.export_skill, "Ctrl+E")
        self.act_registry = self._action("Show &Registry", self.show_registry, "Ctrl+Alt+R")
        menu = win.menuBar().addMenu("&Run")
        menu.addActions([self.act_tests, self.act_try, self.act_playground, self.act_sandbox, self.act_secrets])
        menu = win.menuBar().addMenu("&Release")
        menu.addActions([self.act_export, self.act_registry])
        # keep Help last
        help_menu = next((a for a in win.menuBar().actions() if a.text() == "&Help"), None)
        if help_menu is not None:
            win.menuBar().removeAction(help_menu)
            win.menuBar().addAction(help_menu)

        self._empty_hints()
        self.test_panel.sig_case_activated.connect(self._open_case)
        self.try_prompt.sig_case_saved.connect(self._cases_changed)
        self.secrets.sig_saved.connect(self._secrets_changed)  # a new secret is offered at once
        self.secrets.sig_deleted.connect(self._secrets_changed)
        win.sig_workspace_loaded.connect(self._on_workspace_loaded)
        win.tree.sig_skill_selected.connect(self._on_skill_selected)
        if win.workspace is not None:
            self._on_workspace_loaded(win.workspace)

    def _empty_hints(self) -> None:
        """Every empty view says what to do next (the panels' own status lines say what happened)."""
        set_empty_hint(self.registry.repos, "No registry open yet. Type a registry folder or oci://host:port above "
                       "and press Connect — publish a skill there with Release ▸ Export Skill… (Ctrl+E).")
        set_empty_hint(self.registry.tags, "Pick a repository to see its tags.")
        set_empty_hint(self.registry.details, "Pick a tag to see its annotations and who signed it, "
                       "then Pull & verify it below.")
        set_empty_hint(self.trust.table, "No trusted keys yet. Add a publisher's public key (.pem) with "
                       "Add public key… — only skills signed by a trusted key can be locked and pulled here.")
        set_empty_hint(self.lock.lock_table, "No approved versions yet. Export a signed skill with "
                       "“Record in skills.lock” checked (Release ▸ Export Skill…, Ctrl+E).")
        set_empty_hint(self.lock.routes_table, "No routes yet. Pin a skill version to a route in routes.yaml at the "
                       "workspace root, e.g.  routes: {travel-claims: travel-expenses@0.2.0}")
        set_empty_hint(self.playground.local_view.body, "Type a task above and press Run (Ctrl+Enter). The agent "
                       "works in the sandbox; each model turn, shell call and its output appears here.")
        set_empty_hint(self.transcripts.view.body, "Runs from the Run tab are saved here: pick one above and "
                       "step through it with Previous / Next.")

    def _action(self, text: str, slot: object, shortcut: str) -> QAction:
        act = QAction(text, self.win)
        act.setShortcut(QKeySequence(shortcut))
        act.triggered.connect(slot)
        self.win.addAction(act)
        return act

    # ------------------------------------------------------------------ following the window
    @Slot(object)
    def _on_workspace_loaded(self, ws: object) -> None:
        if not isinstance(ws, Workspace):
            return
        root = ws.root
        self.test_panel.set_workspace(root)
        self.try_prompt.set_workspace(root)
        self.playground.set_workspace(root)
        self.transcripts.set_workspace(root)
        self.sandbox.set_workspace(root)
        self.secrets.set_workspace(root)
        self.registry.set_workspace(root)
        self.trust.set_workspace(root)
        self.lock.set_workspace(root)

    @Slot(object)
    def _on_skill_selected(self, skill_dir: object) -> None:
        if isinstance(skill_dir, Path):
            self.skill_dir = skill_dir
            self.playground.set_skill(skill_dir)
            self.sandbox.set_skill(skill_dir)

    @Slot(object)
    def _on_agent_run_finished(self, _transcript: object) -> None:
        self.transcripts.refresh()  # the new run appears under "Saved runs"

    @Slot(object, str)
    def _open_case(self, skill_dir: object, _prompt: str) -> None:
        self.win.open_cases(skill_dir)

    @Slot(str)
    def _secrets_changed(self, _name: str) -> None:
        """The console and the playground list the vault's secrets: refresh both lists."""
        self.sandbox._load_secrets()
        self.playground._fill_secrets()

    @Slot(object, str)
    def _cases_changed(self, skill_dir: object, _expect: str) -> None:
        """A case saved from Try a prompt: refresh that skill's open cases table if it has no edits."""
        if not isinstance(skill_dir, Path):
            return
        for tab in self.win.cases_tabs():
            if tab.skill_dir is not None and tab.skill_dir.resolve() == skill_dir.resolve() and not tab.is_dirty():
                tab.reload()

    # ------------------------------------------------------------------ commands
    def _show(self, dock: QDockWidget, tabs: QTabWidget | None = None, page: QWidget | None = None) -> None:
        dock.show()
        dock.raise_()
        if not dock.isFloating() and dock.height() < self.win.height() * 0.45:
            # feature panels need room: give the bottom area most of the window
            self.win.resizeDocks([dock], [int(self.win.height() * 0.6)], Qt.Orientation.Vertical)
        if tabs is not None and page is not None:
            tabs.setCurrentWidget(page)
        dock.widget().setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot()
    def show_tests(self) -> None:
        self._show(self.tests_dock, self.tests_tabs, self.test_panel)

    @Slot()
    def show_try_prompt(self) -> None:
        self._show(self.tests_dock, self.tests_tabs, self.try_prompt)

    @Slot()
    def show_playground(self) -> None:
        self._show(self.playground_dock, self.playground_tabs, self.playground)

    @Slot()
    def show_sandbox(self) -> None:
        self._show(self.sandbox_dock, self.sandbox_tabs, self.sandbox)

    @Slot()
    def show_secrets(self) -> None:
        self._show(self.sandbox_dock, self.sandbox_tabs, self.secrets)

    @Slot()
    def show_registry(self) -> None:
        self._show(self.release_dock, self.release_tabs, self.registry)

    @Slot()
    def export_skill(self) -> ExportDialog | None:
        """Export the selected skill (or the current tab's) — signed, to a registry."""
        root = self.win.workspace_root
        doc = self.win.current_doc()
        skill = self.skill_dir or (self.win.doc_skill_dir(doc) if doc is not None else None)
        if root is None or skill is None:
            self.win.statusBar().showMessage("Select a skill in the workspace tree to export it", 6000)
            return None
        self.win.save_all()
        dialog = ExportDialog(root, skill, self.win)
        dialog.sig_exported.connect(self.lock.reload)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # room for the file list and the pushed manifest without scrolling (its size hint is cramped)
        dialog.resize(max(dialog.width(), min(860, self.win.width())), max(dialog.height(), min(660, self.win.height())))
        dialog.open()
        return dialog

    def shutdown(self) -> None:
        """Cancel and wait for every panel's workers (embedded widgets get no closeEvent)."""
        for panel in (self.test_panel, self.try_prompt, self.playground, self.sandbox, self.registry):
            stop = getattr(panel, "shutdown", None)
            if callable(stop):
                stop()
        stop = getattr(self.secrets, "shutdown", None)
        if callable(stop):
            stop()
