"""Keep the window in step with the disk when other programs change it.

Open files: reloaded when the buffer is clean; when it has unsaved edits, a diff of the disk's text
against the editor's with Keep mine / Take theirs, so the user sees what would be lost either way (our
own atomic saves are recognised and ignored). The workspace folder: when skill folders appear or disappear (a
CLI `--fix` rename, a git checkout), the tree is reloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Slot

from skillstudio.ui.shell.file_watch import ExternalChangeWatcher

if TYPE_CHECKING:
    from skillstudio.ui.common.diff_view import DiffDialog
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
        self.dialogs: dict[Path, DiffDialog] = {}  # open "changed on disk" questions, one per file

    def watch_root(self, root: Path) -> None:
        if self.root.directories():
            self.root.removePaths(self.root.directories())
        self.root.addPath(str(root))

    @Slot(object)
    def _on_file_changed(self, path: object) -> None:
        from skillstudio.bundle.fileio import read_text_file

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
        else:
            self._ask(tab.path, disk, tab.buffer_text())
            return
        self.win.recheck(tab)

    def _ask(self, path: Path, theirs: str, mine: str) -> None:
        """Show (or refresh) the diff for `path`: window-modal, the event loop keeps running."""
        from skillstudio.ui.common.diff_view import DiffDialog

        dialog = self.dialogs.get(path)
        if dialog is None:
            dialog = DiffDialog(self.win.window(), "File changed on disk",
                                f"{path.name} was changed by another program, and you have unsaved edits. "
                                "Below: what the file on disk holds (−) against your editor's text (+).",
                                "Take theirs", "Keep mine")
            dialog.setProperty("path", str(path))
            dialog.sig_decided.connect(self._on_decided)
            self.dialogs[path] = dialog
            dialog.open()
        dialog.setProperty("theirs", theirs)
        dialog.view.set_texts(theirs, mine, f"{path.name} (on disk)", f"{path.name} (editor)")

    @Slot(bool)
    def _on_decided(self, take_theirs: bool) -> None:
        from skillstudio.ui.common.diff_view import DiffDialog

        dialog = self.sender()
        if not isinstance(dialog, DiffDialog):
            return
        path = Path(str(dialog.property("path")))
        self.dialogs.pop(path, None)
        dialog.deleteLater()
        tab = self.win.tab_for(path)
        if tab is None or tab.path is None:
            return
        if take_theirs and tab.path.exists():
            tab.reload_from_disk()
            self.win.statusBar().showMessage(f"Took the disk's version of {path.name} (Ctrl+Z brings yours back)",
                                             8000)
        else:
            tab.disk_text = str(dialog.property("theirs"))  # keep ours; do not ask again for this same change
        self.win.recheck(tab)

    @Slot(str)
    def _on_root_changed(self, _path: str) -> None:
        self._root_timer.start()

    @Slot()
    def _check_root(self) -> None:
        from skillstudio.bundle.workspace import is_skill_dir, workspace_skill_dirs

        ws, root = self.win.workspace, self.win.workspace_root
        if ws is None or root is None or self.win.loading:
            return
        now = [root] if is_skill_dir(root) else workspace_skill_dirs(root)
        if [p.resolve() for p in now] != [s.path.resolve() for s in ws.skills]:
            self.win.reload_workspace("The workspace changed on disk: reloaded")
