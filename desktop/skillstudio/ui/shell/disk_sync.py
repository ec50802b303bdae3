"""Keep the window in step with the disk when other programs change it.

Open files: reloaded when the buffer is clean, a question when it has unsaved edits (our own atomic
saves are recognised and ignored). The workspace folder: when skill folders appear or disappear (a
CLI `--fix` rename, a git checkout), the tree is reloaded.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Slot

from skillstudio.bundle.fileio import read_text_file
from skillstudio.bundle.workspace import is_skill_dir, workspace_skill_dirs
from skillstudio.ui.common import dialogs
from skillstudio.ui.shell.file_watch import ExternalChangeWatcher
from skillstudio.ui.shell.host import DocumentHost

ROOT_SETTLE_MS = 300


class DiskSync(QObject):
    def __init__(self, window: DocumentHost) -> None:
        super().__init__(window.window())
        self.win = window
        self.files = ExternalChangeWatcher(self)
        self.files.sig_changed.connect(self._on_file_changed)
        self.root = QFileSystemWatcher(self)
        self.root.directoryChanged.connect(self._on_root_changed)
        self._root_timer = QTimer(self)
        self._root_timer.setSingleShot(True)
        self._root_timer.setInterval(ROOT_SETTLE_MS)
        self._root_timer.timeout.connect(self._check_root)

    def watch_root(self, root: Path) -> None:
        if self.root.directories():
            self.root.removePaths(self.root.directories())
        self.root.addPath(str(root))

    @Slot(object)
    def _on_file_changed(self, path: object) -> None:
        tab = self.win.tab_for(Path(str(path)))
        if tab is None or tab.path is None:
            return
        status = self.win.statusBar()
        if not tab.path.exists():
            tab.editor.document().setModified(True)
            status.showMessage(f"{tab.path.name} was deleted on disk; Save re-creates it", 8000)
            return
        try:
            disk = read_text_file(tab.path)
        except (OSError, ValueError):
            return
        if disk == tab.disk_text:
            return  # our own save, or a touch without a change
        if not tab.dirty:
            tab.reload_from_disk()
            status.showMessage(f"Reloaded {tab.path.name}: it was changed by another program", 6000)
        elif dialogs.ask_reload(self.win.window(), tab.path):
            tab.reload_from_disk()
        else:
            tab.disk_text = disk  # keep ours; do not ask again for this same change
        self.win.recheck(tab)

    @Slot(str)
    def _on_root_changed(self, _path: str) -> None:
        self._root_timer.start()

    @Slot()
    def _check_root(self) -> None:
        ws, root = self.win.workspace, self.win.workspace_root
        if ws is None or root is None or self.win.loading:
            return
        now = [root] if is_skill_dir(root) else workspace_skill_dirs(root)
        if [p.resolve() for p in now] != [s.path.resolve() for s in ws.skills]:
            self.win.reload_workspace("The workspace changed on disk: reloaded")
