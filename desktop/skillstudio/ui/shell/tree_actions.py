"""File operations in the workspace tree: new file or folder, rename, move to trash, reveal, copy path.

From the context menu (right click, or the Menu key) and from the keyboard in the tree (F2 renames,
Delete moves to the trash, Ctrl+Alt+C copies the path). Nothing is ever deleted for good: Delete uses
the desktop's trash (QFile.moveToTrash) and says so when there is none. A renamed or trashed file that
is open in a tab with unsaved edits is refused (save or close it first); a clean one is closed and,
after a rename, reopened under its new name. The tree reloads afterwards and selects the result.

Questions go through `ask_text` and `ask_yes` so that tests can answer them without a modal dialog.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, QPoint, Qt, QUrl, Slot
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QTreeWidgetItem, QWidget

from skillstudio.bundle.fileio import atomic_write
from skillstudio.ui.shell.workspace_tree import ROLE_KIND, ROLE_PATH, WorkspaceTree


class TreeHost(Protocol):
    """What the tree's file operations need from the window."""

    @property
    def workspace_root(self) -> Path | None: ...

    def window(self) -> QWidget: ...

    def open_file(self, path: Path) -> object: ...

    def reload_workspace(self, message: str | None = None, select: Path | None = None) -> None: ...


def _valid_name(name: str) -> str | None:
    name = name.strip()
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        return None
    return name


class TreeFileActions(QObject):
    def __init__(self, host: TreeHost, tree: WorkspaceTree, open_docs: Callable[[], list[QWidget]],
                 close_doc: Callable[[QWidget], None],
                 run_script: Callable[[Path, Path], object] | None = None) -> None:
        super().__init__(tree)
        self.host = host
        self.tree = tree
        self._open_docs = open_docs  # the window's documents (an EditorTab has .path and .dirty)
        self._close_doc = close_doc
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl  # reveal in the file manager
        self._run_script = run_script  # (script, skill folder): run it in the Sandbox console
        view = tree.tree
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._menu)
        self.act_new_file = self._action("New &File…", self.new_file)
        self.act_new_folder = self._action("New F&older…", self.new_folder)
        self.act_rename = self._action("&Rename…", self.rename, "F2")
        self.act_trash = self._action("Move to &Trash", self.trash, QKeySequence.StandardKey.Delete)
        self.act_reveal = self._action("Reveal in File &Manager", self.reveal)
        self.act_copy = self._action("&Copy Path", self.copy_path, "Ctrl+Alt+C")
        self.act_copy_rel = self._action("Copy Relative P&ath", self.copy_relative_path)
        self.act_run = self._action("Run in &Sandbox", self.run_in_sandbox, "Ctrl+Alt+Return")
        for act in (self.act_new_file, self.act_new_folder, self.act_rename, self.act_trash, self.act_reveal,
                    self.act_copy, self.act_copy_rel, self.act_run):
            view.addAction(act)  # the keys work while the tree has the focus

    def _action(self, text: str, slot: object, key: QKeySequence.StandardKey | str | None = None) -> QAction:
        act = QAction(text, self.tree)
        if key is not None:
            act.setShortcut(QKeySequence(key))
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        act.triggered.connect(slot)
        return act

    # ------------------------------------------------------------------ questions (tests answer them)
    def ask_text(self, title: str, label: str, text: str = "") -> str | None:
        value, ok = QInputDialog.getText(self.host.window(), title, label, text=text)
        return value if ok else None

    def ask_yes(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.host.window(), title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _error(self, text: str) -> None:
        QMessageBox.warning(self.host.window(), "File operation", text)

    # ------------------------------------------------------------------ the selection
    def current(self) -> tuple[str, Path] | None:
        item: QTreeWidgetItem | None = self.tree.tree.currentItem()
        if item is None:
            return None
        kind, path = item.data(0, ROLE_KIND), item.data(0, ROLE_PATH)
        return (str(kind), path) if isinstance(path, Path) else None

    def _target_folder(self) -> Path | None:
        cur = self.current()
        if cur is None:
            return self.host.workspace_root
        kind, path = cur
        return path if kind in ("skill", "folder") else path.parent if kind == "file" else path

    @Slot(QPoint)
    def _menu(self, pos: QPoint) -> None:
        cur = self.current()
        menu = QMenu(self.tree)
        if self._script_of_current() is not None:
            menu.addAction(self.act_run)
            menu.addSeparator()
        menu.addActions([self.act_new_file, self.act_new_folder])
        menu.addSeparator()
        editable = cur is not None and cur[0] in ("file", "folder")
        self.act_rename.setEnabled(editable)
        self.act_trash.setEnabled(cur is not None and cur[0] in ("file", "folder", "skill"))
        menu.addActions([self.act_rename, self.act_trash])
        menu.addSeparator()
        menu.addActions([self.act_reveal, self.act_copy, self.act_copy_rel])
        menu.popup(self.tree.tree.viewport().mapToGlobal(pos))
        self.last_menu = menu

    # ------------------------------------------------------------------ operations
    def _open_doc_for(self, path: Path) -> list[QWidget]:
        out = []
        for doc in self._open_docs():
            p = getattr(doc, "path", None)
            if isinstance(p, Path) and (p == path or p.is_relative_to(path)):
                out.append(doc)
        return out

    def _refuse_if_dirty(self, path: Path, verb: str) -> bool:
        dirty = [d for d in self._open_doc_for(path) if getattr(d, "dirty", False)]
        if dirty:
            self._error(f"Cannot {verb} {path.name}: it has unsaved edits in a tab. Save or close it first.")
            return True
        return False

    def _new_target(self, what: str) -> Path | None:
        """Ask for a new file's or folder's name in the selected folder; None when cancelled or taken."""
        folder = self._target_folder()
        if folder is None:
            return None
        name = _valid_name(self.ask_text(f"New {what}", f"{what} name in {folder.name}/:") or "")
        if name is None:
            return None
        target = folder / name
        if target.exists():
            self._error(f"{target.name} already exists in {folder.name}/.")
            return None
        return target

    @Slot()
    def new_file(self) -> Path | None:
        target = self._new_target("File")
        if target is None:
            return None
        try:
            atomic_write(target, "")
        except OSError as exc:
            self._error(f"Could not create {target.name}: {exc.strerror or exc}")
            return None
        self.host.reload_workspace(f"Created {target.name}", select=None)
        self.host.open_file(target)
        return target

    @Slot()
    def new_folder(self) -> Path | None:
        target = self._new_target("Folder")
        if target is None:
            return None
        try:
            target.mkdir(parents=True)
        except OSError as exc:
            self._error(f"Could not create {target.name}: {exc.strerror or exc}")
            return None
        self.host.reload_workspace(f"Created {target.name}/")
        return target

    @Slot()
    def rename(self) -> Path | None:
        cur = self.current()
        if cur is None or cur[0] not in ("file", "folder"):
            return None
        path = cur[1]
        if self._refuse_if_dirty(path, "rename"):
            return None
        name = _valid_name(self.ask_text("Rename", f"New name for {path.name}:", path.name) or "")
        if name is None or name == path.name:
            return None
        target = path.with_name(name)
        if target.exists():
            self._error(f"{name} already exists next to {path.name}.")
            return None
        reopen = self._open_doc_for(path)
        old_paths: list[Path] = [d.path for d in reopen]  # type: ignore[attr-defined]
        for doc in reopen:
            self._close_doc(doc)
        try:
            shutil.move(str(path), str(target))
        except OSError as exc:
            self._error(f"Could not rename {path.name}: {exc.strerror or exc}")
            return None
        self.host.reload_workspace(f"Renamed {path.name} to {name}")
        for old in old_paths:
            self.host.open_file(target / old.relative_to(path) if old != path else target)
        return target

    @Slot()
    def trash(self) -> bool:
        from PySide6.QtCore import QFile

        cur = self.current()
        if cur is None or cur[0] not in ("file", "folder", "skill"):
            return False
        kind, path = cur
        if kind == "skill" and not self.ask_yes("Move skill to trash",
                                                 f"Move the whole skill {path.name} to the trash?"):
            return False
        if self._refuse_if_dirty(path, "move to the trash"):
            return False
        for doc in self._open_doc_for(path):
            self._close_doc(doc)
        ok = QFile.moveToTrash(str(path))
        if not ok:
            self._error(f"{path.name} could not be moved to the trash (no desktop trash here), so nothing was "
                        "deleted. Delete it with your file manager if you mean it.")
            return False
        self.host.reload_workspace(f"Moved {path.name} to the trash")
        return True

    def _script_of_current(self) -> tuple[Path, Path] | None:
        """(script, skill folder) when the current item is a file under a skill's scripts/."""
        cur = self.current()
        if cur is None or cur[0] != "file" or self._run_script is None:
            return None
        item = self.tree.tree.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        skill = item.data(0, ROLE_PATH) if item is not None else None
        if isinstance(skill, Path) and cur[1].is_relative_to(skill / "scripts"):
            return cur[1], skill
        return None

    @Slot()
    def run_in_sandbox(self) -> None:
        found = self._script_of_current()
        if found is not None and self._run_script is not None:
            self._run_script(*found)

    @Slot()
    def reveal(self) -> None:
        cur = self.current()
        folder = self._target_folder() if cur is None or cur[0] != "file" else cur[1].parent
        if folder is not None:
            self.open_url(QUrl.fromLocalFile(str(folder)))

    @Slot()
    def copy_path(self) -> None:
        cur = self.current()
        if cur is not None:
            QGuiApplication.clipboard().setText(str(cur[1]))

    @Slot()
    def copy_relative_path(self) -> None:
        cur, root = self.current(), self.host.workspace_root
        if cur is not None and root is not None:
            QGuiApplication.clipboard().setText(cur[1].relative_to(root).as_posix())
