"""Ctrl+P: open any file of the workspace by typing a few letters of its path.

The file list is read once when the dialog opens (folders a person never edits — .git, .skillstudio,
caches — left out, and at most MAX_FILES files), then filtered fuzzily as you type; ↑/↓ pick, Enter
opens the file in the editor.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from skillstudio.ui.common.fuzzy import fuzzy_filter
from skillstudio.ui.common.list_keys import drive_list

SKIP_DIRS = {".git", ".skillstudio", "__pycache__", "node_modules", ".venv", ".mypy_cache", ".ruff_cache",
             ".pytest_cache"}
MAX_FILES = 50_000
SHOWN = 200


def workspace_files(root: Path, limit: int = MAX_FILES) -> list[str]:
    """Workspace-relative paths (with /), sorted; never follows symlinked folders out of the workspace."""
    out: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not os.path.islink(os.path.join(folder, d)))
        rel = os.path.relpath(folder, root)
        for name in sorted(files):
            out.append(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/"))
            if len(out) >= limit:
                return out
    return out


class QuickOpen(QDialog):
    def __init__(self, root: Path, open_file: Callable[[Path], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("QuickOpen")
        self.setWindowTitle("Go to File")
        self.setMinimumSize(560, 360)
        self.root = root
        self._open_file = open_file
        self.files = workspace_files(root)
        self.query = QLineEdit()
        self.query.setObjectName("quick_open_query")
        self.query.setPlaceholderText("Type part of a file name or path…")
        self.query.setAccessibleName("File filter")
        self.query.textChanged.connect(self._filter)
        self.query.installEventFilter(self)
        self.list = QListWidget()
        self.list.setObjectName("quick_open_list")
        self.list.setAccessibleName("Files")
        self.list.itemActivated.connect(self._open_item)
        self.note = QLabel("")
        self.note.setProperty("role", "hint")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(self.query)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.note)
        self._filter("")

    @Slot(str)
    def _filter(self, text: str) -> None:
        self.list.clear()
        hits = fuzzy_filter(text, self.files, limit=SHOWN)
        for i in hits:
            item = QListWidgetItem(self.files[i])
            item.setData(Qt.ItemDataRole.UserRole, self.files[i])
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self.note.setText(f"{len(self.files):,} files in {self.root.name}" if not text else
                          f"{self.list.count()} shown" + (" (best first)" if self.list.count() == SHOWN else ""))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.query and drive_list(event, self.list, self._open_item):
            return True
        return super().eventFilter(obj, event)

    @Slot(QListWidgetItem)
    def _open_item(self, item: QListWidgetItem) -> None:
        rel = str(item.data(Qt.ItemDataRole.UserRole))
        self.accept()
        self._open_file(self.root / rel)
