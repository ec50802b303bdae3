"""Notice when another program changes an open file.

QFileSystemWatcher drops a path when the file is replaced by rename (as atomic saves do, ours and
most editors'), so every event re-arms the watch. Events are coalesced for a short moment because
tools often write in several steps; the window then compares the disk text with what it last read
or wrote, so our own saves never count as external changes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

SETTLE_MS = 120


class ExternalChangeWatcher(QObject):
    sig_changed = Signal(object)  # Path whose content may differ from ours

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._on_file_changed)
        self._watcher.directoryChanged.connect(self._on_dir_changed)
        self._paths: set[str] = set()
        self._dirty: set[str] = set()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self._flush)

    def watch(self, path: Path) -> None:
        p = str(path)
        self._paths.add(p)
        self._arm(p)

    def unwatch(self, path: Path) -> None:
        p = str(path)
        self._paths.discard(p)
        if p in self._watcher.files():
            self._watcher.removePath(p)
        parent = str(Path(p).parent)
        if parent in self._watcher.directories() and not any(str(Path(q).parent) == parent for q in self._paths):
            self._watcher.removePath(parent)

    def _arm(self, p: str) -> None:
        if Path(p).exists() and p not in self._watcher.files():
            self._watcher.addPath(p)
        parent = str(Path(p).parent)  # the folder sees a file re-created by rename
        if Path(parent).is_dir() and parent not in self._watcher.directories():
            self._watcher.addPath(parent)

    @Slot(str)
    def _on_file_changed(self, p: str) -> None:
        if p in self._paths:
            self._dirty.add(p)
            self._timer.start()

    @Slot(str)
    def _on_dir_changed(self, d: str) -> None:
        for p in self._paths:
            if str(Path(p).parent) == d:
                self._dirty.add(p)
        if self._dirty:
            self._timer.start()

    @Slot()
    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for p in sorted(dirty):
            if p in self._paths:
                self._arm(p)
                self.sig_changed.emit(Path(p))
