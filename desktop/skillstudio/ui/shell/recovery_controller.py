"""Autosave of unsaved buffers to the recovery area, and the offer to restore them at the next start.

Owned by the main window; uses its tabs but keeps the recovery logic in one place (RecoveryStore
itself is Qt-free).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QWidget

from skillstudio.ui.common import dialogs

if TYPE_CHECKING:
    from skillstudio.services.recovery import RecoveryEntry
    from skillstudio.ui.shell.host import DocumentHost

AUTOSAVE_MS = 3000


class RecoveryController(QObject):
    def __init__(self, window: DocumentHost, interval_ms: int | None = None) -> None:
        from skillstudio.services.recovery import RecoveryStore

        super().__init__(window.window())
        self.win = window
        self.store = RecoveryStore()
        self._written: dict[str, str] = {}  # recovery key -> text last written there
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms or AUTOSAVE_MS)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()

    @staticmethod
    def key(doc: QWidget) -> str:
        from skillstudio.services.recovery import RecoveryStore
        from skillstudio.ui.editor.tab import EditorTab
        from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor

        if isinstance(doc, TriggerCasesEditor):
            return RecoveryStore.key_for(doc.triggers_path(), kind="cases")
        assert isinstance(doc, EditorTab)
        return RecoveryStore.key_for(doc.path, doc.untitled_id)

    def _snapshots(self) -> list[tuple[QWidget, str]]:
        """(doc, text to keep) for every unsaved buffer and trigger-cases table."""
        out: list[tuple[QWidget, str]] = [(t, t.buffer_text()) for t in self.win.editor_tabs() if t.dirty]
        out += [(c, c.recovery_text()) for c in self.win.cases_tabs()
                if c.is_dirty() and not c.is_broken() and c.triggers_path() is not None]
        return out

    @Slot()
    def autosave(self) -> int:
        """Copy every unsaved buffer to the recovery area (only when it changed). Returns how many were written."""
        from skillstudio.ui.editor.tab import EditorTab
        from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor

        written = 0
        for doc, text in self._snapshots():
            key = self.key(doc)
            if self._written.get(key) == text:
                continue
            cases = isinstance(doc, TriggerCasesEditor)
            path = doc.triggers_path() if isinstance(doc, TriggerCasesEditor) else \
                doc.path if isinstance(doc, EditorTab) else None
            try:
                self.store.save(key, path, text, self.win.workspace_root, kind="cases" if cases else "text")
            except OSError as exc:
                self.win.statusBar().showMessage(f"Autosave failed: {exc}", 8000)
                continue
            self._written[key] = text
            written += 1
        return written

    def discard(self, doc: QWidget, key: str | None = None) -> None:
        """The buffer (or cases table) is saved, reverted or thrown away: its copy goes."""
        key = key or self.key(doc)
        self._written.pop(key, None)
        self.store.discard(key)

    def offer(self) -> int:
        """If a session ended without saving, offer to put its buffers back. Returns how many were restored."""
        from skillstudio.ui.editor.tab import EditorTab

        entries = [e for e in self.store.entries() if e.orphaned]  # not another running window's
        if not entries:
            return 0
        if not dialogs.ask_restore(self.win.window(), entries):
            for e in entries:
                self.store.discard(e.key)
            return 0
        restored = 0
        for e in entries:
            if e.kind == "cases":
                restored += self._restore_cases(e)
                continue
            if e.path is not None and e.path.is_file():
                tab = self.win.open_file(e.path)
            else:
                tab = EditorTab(None, self.win.workspace_root)
                self.win.add_editor_tab(tab)
                if e.path is not None:
                    tab.path = e.path  # deleted on disk: saving re-creates it
            if tab is None:
                continue
            self.store.discard(e.key)
            tab.apply_text(e.text)  # one undo step back to the disk version
            tab.editor.document().setModified(True)
            restored += 1
        self.autosave()
        self.win.statusBar().showMessage(f"Restored {restored} unsaved buffer{'s' * (restored != 1)}", 6000)
        return restored

    def _restore_cases(self, e: RecoveryEntry) -> int:
        """Put a trigger-cases table's unsaved rows back (one undo step over the file's cases)."""
        from skillstudio.bundle.triggers import TRIGGERS_PATH, parse_cases

        skill_dir = e.path
        for _ in TRIGGERS_PATH.parts:
            skill_dir = skill_dir.parent if skill_dir is not None else None
        try:
            cases = parse_cases(e.text, TRIGGERS_PATH.as_posix())
        except ValueError:
            cases = None  # a torn copy: nothing sensible to put back
        editor = self.win.open_cases(skill_dir) if skill_dir is not None and skill_dir.is_dir() and cases is not None \
            else None
        if editor is None or cases is None:
            self.store.discard(e.key)
            return 0
        self.store.discard(e.key)
        editor.restore_cases(cases)
        return 1

    def stop(self) -> None:
        self.timer.stop()
