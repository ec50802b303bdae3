"""The feature panels hosted by the main window: trigger tests, playground, sandbox, publish.

Each feature is a standalone widget that knows nothing about the window; this module docks them,
groups related ones under one dock with tabs (so the bottom tab strip stays short), keeps them
pointed at the open workspace and the selected skill, runs their commands (the actions themselves are
rows of shell.actions.ACTIONS) and shuts their workers down when the window closes. Panels are
reached only through the protocols of ui.common.contracts (FeaturePanel, SkillPanel, …).

The panels are built lazily: their modules pull in the agent, eval and release stacks (HTTP and
Docker clients, crypto), which would roughly double the window's start-up. Each tab first holds an
empty placeholder; the real widget is imported and built the first time its tab is shown or its
attribute (``features.playground`` …) is read, then gets the current workspace, skill and signal
connections, exactly as if it had been there from the start.
"""

from __future__ import annotations

import importlib
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDockWidget, QTabWidget, QWidget

from skillstudio.ui.common.contracts import FeaturePanel, SecretsListener, SkillPanel
from skillstudio.ui.common.empty_hint import set_empty_hint
from skillstudio.ui.common.fit import FitArea

if TYPE_CHECKING:
    from collections.abc import Callable

    from skillstudio.ui.playground.panel import Playground
    from skillstudio.ui.playground.saved_runs import TranscriptViewer
    from skillstudio.ui.publish.export_dialog import ExportDialog
    from skillstudio.ui.publish.lock_view import LockView
    from skillstudio.ui.publish.registry_browser import RegistryBrowser
    from skillstudio.ui.publish.trust_view import TrustView
    from skillstudio.ui.sandbox.console import SandboxConsole
    from skillstudio.ui.secrets.manager import SecretsManager
    from skillstudio.ui.shell.host import PanelHost
    from skillstudio.ui.triggers.panel import TriggerPanel
    from skillstudio.ui.triggers.try_prompt import TryPromptWidget

# attribute name -> (module, class, tab title); grouped into one tabbed dock each below
_PAGES: dict[str, tuple[str, str, str]] = {
    "test_panel": ("skillstudio.ui.triggers.panel", "TriggerPanel", "Suite"),
    "try_prompt": ("skillstudio.ui.triggers.try_prompt", "TryPromptWidget", "Try a prompt"),
    "playground": ("skillstudio.ui.playground.panel", "Playground", "Run"),
    "transcripts": ("skillstudio.ui.playground.saved_runs", "TranscriptViewer", "Saved runs"),
    "sandbox": ("skillstudio.ui.sandbox.console", "SandboxConsole", "Console"),
    "secrets": ("skillstudio.ui.secrets.manager", "SecretsManager", "Secrets"),
    "registry": ("skillstudio.ui.publish.registry_browser", "RegistryBrowser", "Registry"),
    "trust": ("skillstudio.ui.publish.trust_view", "TrustView", "Trust store"),
    "lock": ("skillstudio.ui.publish.lock_view", "LockView", "Lockfile && routes"),
}


class _Placeholder(QWidget):
    """Stands in for a panel until its tab is first on screen."""

    def __init__(self, key: str, on_show: Callable[[], object]) -> None:
        super().__init__()
        self.key = key
        self._on_show = on_show

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self._on_show()  # e.g. a floated dock, or a dock first shown from the View menu


class FeaturePanels(QObject):
    """Owns every feature panel of one main window (each built on first use)."""

    def __init__(self, win: PanelHost) -> None:
        super().__init__(win.window())
        self.win = win
        self.skill_dir: Path | None = None
        self._optimizing: Path | None = None  # the skill whose optimizer dialog is open
        self._root: Path | None = None
        self._built: dict[str, QWidget] = {}
        self._slots: dict[str, tuple[QTabWidget, QWidget]] = {}

        self.tests_tabs = self._tabs("tests_tabs", ["test_panel", "try_prompt"])
        self.playground_tabs = self._tabs("playground_tabs", ["playground", "transcripts"])
        self.sandbox_tabs = self._tabs("sandbox_tabs", ["sandbox", "secrets"])
        self.publish_tabs = self._tabs("publish_tabs", ["registry", "trust", "lock"])
        self.tests_dock = win.add_panel("Trigger Tests", self.tests_tabs)
        self.playground_dock = win.add_panel("Playground", self.playground_tabs)
        self.sandbox_dock = win.add_panel("Sandbox", self.sandbox_tabs)
        self.publish_dock = win.add_panel("Publish", self.publish_tabs)
        for dock, tabs in ((self.tests_dock, self.tests_tabs), (self.playground_dock, self.playground_tabs),
                           (self.sandbox_dock, self.sandbox_tabs), (self.publish_dock, self.publish_tabs)):
            # raised from the tab strip under the editor: the dock's current page comes on screen
            dock.visibilityChanged.connect(partial(self._dock_visibility, tabs))
        self._wiring: dict[str, Callable[[], None]] = {
            "test_panel": self._wire_test_panel,
            "try_prompt": self._wire_try_prompt,
            "playground": self._wire_playground,
            "secrets": self._wire_secrets,
        }
        if win.workspace is not None:
            self.on_workspace_loaded(win.workspace)

    def _tabs(self, name: str, keys: list[str]) -> QTabWidget:
        tabs = QTabWidget()
        tabs.setObjectName(name)
        tabs.setDocumentMode(True)
        for key in keys:
            placeholder = _Placeholder(key, lambda: self._build_soon(tabs))
            self._slots[key] = (tabs, placeholder)
            tabs.addTab(placeholder, _PAGES[key][2])
        tabs.currentChanged.connect(lambda _index: self._build_soon(tabs))
        return tabs

    def _dock_visibility(self, tabs: QTabWidget, shown: bool) -> None:
        if shown:
            self._build_soon(tabs)

    def _build_soon(self, tabs: QTabWidget) -> None:
        # not from inside a show event or a tab switch: building swaps the page out of its tab widget
        QTimer.singleShot(0, tabs, lambda: self._build_if_on_screen(tabs))

    def _build_if_on_screen(self, tabs: QTabWidget) -> None:
        """Build the current page of *tabs* if a person can see it. Qt keeps the docks behind another
        tab "visible" but parked off-screen, so visibility alone would build every dock's first page."""
        page = tabs.currentWidget()
        if isinstance(page, _Placeholder) and not page.visibleRegion().isEmpty():
            self._page(page.key)

    # ------------------------------------------------------------------ building on demand
    def built(self) -> set[str]:
        """Names of the panels built so far (the rest are still placeholders)."""
        return set(self._built)

    def _page(self, key: str) -> QWidget:
        """The real panel for *key*, imported, built, swapped into its tab and wired on first call."""
        widget = self._built.get(key)
        if widget is not None:
            return widget
        module, cls, title = _PAGES[key]
        widget = cast("QWidget", getattr(importlib.import_module(module), cls)())
        self._built[key] = widget
        tabs, placeholder = self._slots[key]
        index = tabs.indexOf(placeholder)
        # insert before the placeholder and remove it afterwards, so no other (unbuilt) page is shown meanwhile
        tabs.insertTab(index, widget, title)
        if tabs.currentWidget() is placeholder:
            tabs.setCurrentIndex(index)
        tabs.removeTab(tabs.indexOf(placeholder))
        placeholder.deleteLater()
        dock = tabs.parentWidget()
        if isinstance(dock, QDockWidget) and dock.widget() is tabs:
            # a real panel has a real minimum size: host the tabs in a FitArea so it can never make the
            # window grow (done here, not at start-up: the first scroll area costs ~25 ms)
            dock.setWidget(FitArea(tabs))
        self._wire(key, widget)
        return widget

    def _wire(self, key: str, widget: QWidget) -> None:
        """Give a just-built panel what it would have had since start-up: workspace, skill, signals, hints."""
        if self._root is not None and isinstance(widget, FeaturePanel):
            widget.set_workspace(self._root)
        if self.skill_dir is not None and isinstance(widget, SkillPanel):
            widget.set_skill(self.skill_dir)
        wire = self._wiring.get(key)
        if wire is not None:
            wire()
        self._empty_hints(key)

    def _wire_test_panel(self) -> None:
        self.test_panel.sig_case_activated.connect(self._open_case)
        self.test_panel.sig_run_finished.connect(self._run_finished)

    def _wire_try_prompt(self) -> None:
        self.try_prompt.sig_case_saved.connect(self._cases_changed)

    def _wire_playground(self) -> None:
        self.playground.sig_run_finished.connect(self._on_agent_run_finished)

    def _wire_secrets(self) -> None:
        self.secrets.sig_saved.connect(self._secrets_changed)  # a new secret is offered at once
        self.secrets.sig_deleted.connect(self._secrets_changed)

    def _empty_hints(self, key: str) -> None:
        """Every empty view says what to do next (the panels' own status lines say what happened)."""
        if key == "registry":
            set_empty_hint(self.registry.repos, "No registry open yet. Type a registry folder or oci://host:port "
                           "above and press Connect — publish a skill there with Publish ▸ Export Skill… (Ctrl+E).")
            set_empty_hint(self.registry.tags, "Pick a repository to see its tags.")
            set_empty_hint(self.registry.details, "Pick a tag to see its annotations and who signed it, "
                           "then Pull & verify it below.")
        elif key == "trust":
            set_empty_hint(self.trust.table, "No trusted keys yet. Add a publisher's public key (.pem) with "
                           "Add public key… — only skills signed by a trusted key can be locked and pulled here.")
        elif key == "lock":
            set_empty_hint(self.lock.lock_table, "No approved versions yet. Export a signed skill with "
                           "“Record in skills.lock” checked (Publish ▸ Export Skill…, Ctrl+E).")
            set_empty_hint(self.lock.routes_table, "No routes yet. Pin a skill version to a route in routes.yaml "
                           "at the workspace root, e.g.  routes: {travel-claims: travel-expenses@0.2.0}")
        elif key == "playground":
            set_empty_hint(self.playground.local_view.body, "Type a task above and press Run (Ctrl+Enter). The "
                           "agent works in the sandbox; each model turn, shell call and its output appears here.")
        elif key == "transcripts":
            set_empty_hint(self.transcripts.view.body, "Runs from the Run tab are saved here: pick one above and "
                           "step through it with Previous / Next.")

    @property
    def test_panel(self) -> TriggerPanel:
        return cast("TriggerPanel", self._page("test_panel"))

    @property
    def try_prompt(self) -> TryPromptWidget:
        return cast("TryPromptWidget", self._page("try_prompt"))

    @property
    def playground(self) -> Playground:
        return cast("Playground", self._page("playground"))

    @property
    def transcripts(self) -> TranscriptViewer:
        return cast("TranscriptViewer", self._page("transcripts"))

    @property
    def sandbox(self) -> SandboxConsole:
        return cast("SandboxConsole", self._page("sandbox"))

    @property
    def secrets(self) -> SecretsManager:
        return cast("SecretsManager", self._page("secrets"))

    @property
    def registry(self) -> RegistryBrowser:
        return cast("RegistryBrowser", self._page("registry"))

    @property
    def trust(self) -> TrustView:
        return cast("TrustView", self._page("trust"))

    @property
    def lock(self) -> LockView:
        return cast("LockView", self._page("lock"))

    # ------------------------------------------------------------------ following the window
    @Slot(object)
    def on_workspace_loaded(self, ws: object) -> None:
        from skillstudio.bundle.workspace import Workspace

        if not isinstance(ws, Workspace):
            return
        self._root = ws.root
        if self.skill_dir is not None and not self.skill_dir.resolve().is_relative_to(ws.root.resolve()):
            self.skill_dir = None  # a skill of the previous workspace: nothing of it stays mounted
            for key in ("playground", "sandbox"):
                if key in self._built:
                    self._built[key].set_skill(None)  # type: ignore[attr-defined]
        for widget in self._built.values():
            if isinstance(widget, FeaturePanel):
                widget.set_workspace(ws.root)

    @Slot(object)
    def on_skill_selected(self, skill_dir: object) -> None:
        if isinstance(skill_dir, Path):
            self.skill_dir = skill_dir
            for widget in self._built.values():
                if isinstance(widget, SkillPanel):
                    widget.set_skill(skill_dir)

    @Slot(object)
    def _on_agent_run_finished(self, _transcript: object) -> None:
        if "transcripts" in self._built:  # (an unbuilt one lists the new run when it is built)
            self.transcripts.refresh()  # the new run appears under "Saved runs"

    @Slot(object, str)
    def _open_case(self, skill_dir: object, _prompt: str) -> None:
        self.win.open_cases(skill_dir)

    def load_run_defaults(self) -> None:
        """Settings changed the default provider or model: every built panel's form takes them."""
        from skillstudio.ui.common.provider_form import ProviderForm

        for widget in self._built.values():
            for form in widget.findChildren(ProviderForm):
                form.load_defaults()

    @Slot(object)
    def _run_finished(self, report: object) -> None:
        """A finished run's verdicts go beside the cases of every open cases table."""
        from skillstudio.services.trigger_runs import TriggerReport  # loaded with the panel that emits this

        if isinstance(report, TriggerReport):
            for tab in self.win.cases_tabs():
                tab.show_last_results(report)

    @Slot(str)
    def _secrets_changed(self, _name: str) -> None:
        """The console and the playground list the vault's secrets: refresh the lists that exist."""
        for widget in self._built.values():
            if isinstance(widget, SecretsListener):
                widget.reload_secrets()

    @Slot()
    def _lock_changed(self) -> None:
        if "lock" in self._built:  # (an unbuilt one reads skills.lock when it is built)
            self.lock.reload()

    @Slot(object, str)
    def _cases_changed(self, skill_dir: object, _expect: str) -> None:
        """A case saved from Try a prompt: refresh that skill's open cases table if it has no edits."""
        if not isinstance(skill_dir, Path):
            return
        for tab in self.win.cases_tabs():
            # (this compared the bound method `tab.skill_dir` and raised on .resolve(): mypy found it)
            tab_skill = tab.document_skill_dir()
            if tab_skill is not None and tab_skill.resolve() == skill_dir.resolve() and not tab.is_dirty():
                tab.reload()

    # ------------------------------------------------------------------ commands
    def _show(self, dock: QDockWidget, tabs: QTabWidget | None = None, page: QWidget | None = None) -> None:
        self.win.raise_dock(dock)
        if tabs is not None and page is not None:
            tabs.setCurrentWidget(page)
        dock.widget().setFocus(Qt.FocusReason.ShortcutFocusReason)

    def run_script(self, script: Path, skill_dir: Path, run: bool = True) -> str | None:
        """Run one of a skill's scripts in the Sandbox console (the skill mounted read-only, as an agent's
        shell call would run it); returns the command line, None when the file is not one of its scripts."""
        from skillstudio.sandbox.interactive import skill_scripts

        rel = script.resolve().relative_to(skill_dir.resolve()).as_posix()
        command = next((c for c in skill_scripts(skill_dir) if c.endswith(f"/{rel}")), None)
        if command is None:
            return None
        self.on_skill_selected(skill_dir)
        self.show_sandbox()
        console = self.sandbox
        console.command.setEditText(command)
        console.command.setFocus(Qt.FocusReason.OtherFocusReason)
        if run:
            console.run_command()
        return command

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
        self._show(self.publish_dock, self.publish_tabs, self.registry)

    def _selected_skill(self, verb: str) -> tuple[Path, Path] | None:
        root = self.win.workspace_root
        doc = self.win.current_doc()
        skill = self.skill_dir or (self.win.doc_skill_dir(doc) if doc is not None else None)
        if root is None or skill is None:
            self.win.statusBar().showMessage(f"Select a skill in the workspace tree to {verb} it", 6000)
            return None
        return root, skill

    @Slot()
    def optimize_description(self) -> QWidget | None:
        """Propose a better description from the training failures; accepting edits the open SKILL.md."""
        from skillstudio.ui.triggers.optimizer_dialog import (
            OptimizerDialog,  # lazily: pulls in the evals stack
        )

        picked = self._selected_skill("optimize")
        if picked is None:
            return None
        root, skill = picked
        self.win.save_all()  # the optimizer scores the skill as saved
        dialog = OptimizerDialog(root, skill, self.win.window())
        self._optimizing = skill
        dialog.sig_accepted.connect(self._on_optimized)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    @Slot(str, list)
    def _on_optimized(self, description: str, cases: list) -> None:
        from skillstudio.ui.triggers.optimizer_dialog import apply_to_editor

        if self._optimizing is not None:
            self.win.statusBar().showMessage(apply_to_editor(self.win, self._optimizing, description, cases),
                                          10000)

    @Slot()
    def export_skill(self) -> ExportDialog | None:
        """Export the selected skill (or the current tab's) — signed, to a registry."""
        from skillstudio.ui.publish.export_dialog import (
            ExportDialog,  # lazily: pulls in the signing/OCI stack
        )

        picked = self._selected_skill("export")
        if picked is None:
            return None
        root, skill = picked
        self.win.save_all()
        dialog = ExportDialog(root, skill, self.win.window())
        dialog.sig_exported.connect(self._lock_changed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        # room for the file list and the pushed manifest without scrolling (its size hint is cramped)
        dialog.resize(max(dialog.width(), min(860, self.win.window().width())),
                      max(dialog.height(), min(660, self.win.window().height())))
        dialog.open()
        return dialog

    def shutdown(self) -> None:
        """Cancel and wait for the built panels' workers (embedded widgets get no closeEvent)."""
        for widget in self._built.values():
            if isinstance(widget, FeaturePanel):
                widget.shutdown()
