"""Autosave of unsaved buffers to the recovery area, and the offer to restore them at the next start.

Owned by the main window; uses its tabs but keeps the recovery logic in one place (RecoveryStore
itself is Qt-free).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Slot

from skillstudio.ui import prompts
from skillstudio.ui.editor_tab import EditorTab
from skillstudio.ui.recovery import RecoveryStore

if TYPE_CHECKING:
    from skillstudio.ui.main_window import MainWindow

AUTOSAVE_MS = 3000


class RecoveryController(QObject):
    def __init__(self, window: MainWindow, interval_ms: int | None = None) -> None:
        super().__init__(window)
        self.win = window
        self.store = RecoveryStore()
        self._written: dict[str, str] = {}  # recovery key -> text last written there
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms or AUTOSAVE_MS)
        self.timer.timeout.connect(self.autosave)
        self.timer.start()

    @staticmethod
    def key(tab: EditorTab) -> str:
        return RecoveryStore.key_for(tab.path, tab.untitled_id)

    @Slot()
    def autosave(self) -> int:
        """Copy every unsaved buffer to the recovery area (only when it changed). Returns how many were written."""
        written = 0
        for tab in self.win.editor_tabs():
            if not tab.dirty:
                continue
            key, text = self.key(tab), tab.buffer_text()
            if self._written.get(key) == text:
                continue
            try:
                self.store.save(key, tab.path, text, self.win.workspace_root)
            except OSError as exc:
                self.win.statusBar().showMessage(f"Autosave failed: {exc}", 8000)
                continue
            self._written[key] = text
            written += 1
        return written

    def discard(self, tab: EditorTab, key: str | None = None) -> None:
        """The buffer is saved, reverted or thrown away: its copy goes."""
        key = key or self.key(tab)
        self._written.pop(key, None)
        self.store.discard(key)

    def offer(self) -> int:
        """If a session ended without saving, offer to put its buffers back. Returns how many were restored."""
        entries = [e for e in self.store.entries() if e.orphaned]  # not another running window's
        if not entries:
            return 0
        if not prompts.ask_restore(self.win, entries):
            for e in entries:
                self.store.discard(e.key)
            return 0
        restored = 0
        for e in entries:
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

    def stop(self) -> None:
        self.timer.stop()
