"""What the main window offers to the controllers and panels it owns, as one protocol.

The controllers (disk sync, fix-its, recovery, help, feature panels) used to import `MainWindow`
for their type hints while the window imported them — a seven-module cycle that made every one of
them depend on all of the window. They now depend on this protocol only; `MainWindow` satisfies it
structurally, which mypy checks where the window hands itself to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QDockWidget, QStatusBar, QWidget

from skillstudio.bundle.workspace import Workspace
from skillstudio.ui.common.contracts import Document
from skillstudio.ui.common.settings import AppSettings
from skillstudio.ui.common.workers import WorkerPool
from skillstudio.ui.editor.tab import EditorTab
from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor


class DocumentHost(Protocol):
    """The window's open documents, its workspace and its status line."""

    settings: AppSettings
    pool: WorkerPool

    @property
    def workspace(self) -> Workspace | None: ...

    @property
    def workspace_root(self) -> Path | None: ...

    @property
    def loading(self) -> bool: ...

    def window(self) -> QWidget: ...  # the parent for dialogs and helper objects

    def statusBar(self) -> QStatusBar: ...  # noqa: N802 - Qt's name

    # documents
    def documents(self) -> list[QWidget]: ...

    def editor_tabs(self) -> list[EditorTab]: ...

    def cases_tabs(self) -> list[TriggerCasesEditor]: ...

    def current_doc(self) -> QWidget | None: ...

    def tab_for(self, path: Path) -> EditorTab | None: ...

    def open_file(self, path: Path) -> EditorTab | None: ...

    def open_cases(self, skill_dir: object) -> TriggerCasesEditor | None: ...

    def add_editor_tab(self, tab: EditorTab) -> None: ...

    def show_document(self, doc: Document) -> None: ...

    def remove_document(self, doc: QWidget) -> None: ...

    def doc_skill_dir(self, doc: QWidget) -> Path | None: ...

    def doc_dirty(self, doc: QWidget) -> bool: ...

    def doc_title(self, doc: QWidget) -> str: ...

    def save_doc(self, doc: QWidget) -> bool: ...

    def save_all(self) -> bool: ...

    def recheck(self, doc: QWidget) -> None: ...

    # workspace
    def reload_workspace(self, message: str | None = None, select: Path | None = None) -> None: ...


class PanelHost(DocumentHost, Protocol):
    """What the feature panels need beyond documents: docks to live in."""

    def add_panel(self, title: str, widget: QWidget) -> QDockWidget: ...

    def raise_dock(self, dock: QDockWidget) -> None: ...
