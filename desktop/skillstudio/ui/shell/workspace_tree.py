"""The workspace tree: skills and their files. The workspace itself is loaded on a worker.

Filling the tree happens in chunks on the GUI thread (a few hundred skills per event-loop turn), so a
1,000-skill workspace never freezes the window either while reading or while showing.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QStackedWidget,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skillstudio.ui.common.theme import load_icon

if TYPE_CHECKING:
    from skillstudio.bundle.model import Skill
    from skillstudio.bundle.workspace import Workspace

ROLE_PATH = Qt.ItemDataRole.UserRole
ROLE_KIND = Qt.ItemDataRole.UserRole + 1  # "skill" | "file" | "folder" | "cases"
ROLE_BADGE = Qt.ItemDataRole.UserRole + 2  # (errors, warnings) from the workspace-wide check
_SCRIPT_SUFFIXES = {".py", ".sh", ".bash", ".js", ".mjs", ".rb", ".pl"}
ROLE_TIP = Qt.ItemDataRole.UserRole + 3  # the skill's own tooltip, under any badge summary
CHUNK = 150


class WorkspaceTree(QWidget):
    sig_open_file = Signal(object)  # Path
    sig_open_cases = Signal(object)  # skill folder Path
    sig_skill_selected = Signal(object)  # skill folder Path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WorkspaceTree")
        self.filter = QLineEdit()
        self.filter.setObjectName("tree_filter")
        self.filter.setPlaceholderText("Filter skills…")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.tree = QTreeWidget()
        self.tree.setObjectName("workspace_tree")
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.itemActivated.connect(self._on_activated)
        self.tree.itemDoubleClicked.connect(self._on_activated)
        self.tree.currentItemChanged.connect(self._on_current_changed)
        self.empty = QLabel()
        self.empty.setObjectName("EmptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setContentsMargins(12, 12, 12, 12)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.tree)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.filter)
        layout.addWidget(self.stack, 1)
        self._pending: list[Skill] = []
        self._root: Path | None = None  # the workspace shown (a filter does not outlive it)
        self._badges: dict[Path, tuple[int, int]] = {}  # skill dir -> (errors, warnings)
        self._fill_timer = QTimer(self)
        self._fill_timer.setInterval(0)
        self._fill_timer.timeout.connect(self._fill_some)
        self.show_message("Loading workspace…")

    def show_message(self, text: str) -> None:
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty)

    # ------------------------------------------------------------------ filling
    def set_workspace(self, ws: Workspace) -> None:
        if self._root != ws.root:
            # a filter typed for another workspace would make this one look empty; a reload keeps it
            self.filter.clear()
            self._badges = {}
        self._root = ws.root
        self._fill_timer.stop()
        self.tree.blockSignals(True)
        self.tree.clear()
        self.tree.blockSignals(False)
        if not ws.skills:
            self.show_message(f"No skills in {ws.root.name} yet.\n\nCreate one with File ▸ New Skill… (Ctrl+N), "
                              "or open another folder with File ▸ Open Workspace… (Ctrl+Shift+O).")
            return
        self.stack.setCurrentWidget(self.tree)
        self._pending = list(ws.skills)
        self._fill_some()
        if self._pending:
            self._fill_timer.start()

    @property
    def filling(self) -> bool:
        return bool(self._pending)

    @Slot()
    def _fill_some(self) -> None:
        chunk, self._pending = self._pending[:CHUNK], self._pending[CHUNK:]
        self.tree.setUpdatesEnabled(False)
        self.tree.blockSignals(True)  # filling is not the user selecting a skill
        self.tree.addTopLevelItems([self._skill_item(s) for s in chunk])
        self.tree.blockSignals(False)
        self.tree.setUpdatesEnabled(True)
        if not self._pending:
            self._fill_timer.stop()
            if self.filter.text():
                self._apply_filter(self.filter.text())

    def _skill_item(self, skill: Skill) -> QTreeWidgetItem:
        style = self.style()
        label = skill.folder_name + (f"  v{skill.version}" if skill.version else "")
        item = QTreeWidgetItem([label])
        item.setData(0, ROLE_PATH, skill.path)
        item.setData(0, ROLE_KIND, "skill")
        icon = load_icon("skill")
        item.setIcon(0, icon if not icon.isNull() else style.standardIcon(QStyle.StandardPixmap.SP_DirIcon))
        tip = skill.description or "(no description)"
        if skill.parse_error:
            tip = f"⚠ {skill.parse_error}\n\n{tip}"
            warn = load_icon("error")
            std = QStyle.StandardPixmap.SP_MessageBoxWarning
            item.setIcon(0, warn if not warn.isNull() else style.standardIcon(std))
        item.setToolTip(0, tip[:600])
        item.setData(0, ROLE_TIP, tip[:600])
        if skill.path in self._badges:
            self._apply_badge(item, *self._badges[skill.path])
        if skill.skill_md is not None:
            item.addChild(self._file_item(skill.skill_md, skill.skill_md.name))
        cases = QTreeWidgetItem([f"Trigger cases ({len(skill.cases)})"])
        cases.setData(0, ROLE_PATH, skill.path)
        cases.setData(0, ROLE_KIND, "cases")
        cicon = load_icon("cases")
        std = QStyle.StandardPixmap.SP_FileDialogListView
        cases.setIcon(0, cicon if not cicon.isNull() else style.standardIcon(std))
        item.addChild(cases)
        folders: dict[str, QTreeWidgetItem] = {}
        for f in skill.files:
            parts = f.rel_path.split("/")
            parent = item
            for depth in range(len(parts) - 1):
                key = "/".join(parts[: depth + 1])
                if key not in folders:
                    fi = QTreeWidgetItem([parts[depth]])
                    fi.setData(0, ROLE_PATH, skill.path / key)
                    fi.setData(0, ROLE_KIND, "folder")
                    fi.setIcon(0, style.standardIcon(QStyle.StandardPixmap.SP_DirIcon))
                    parent.addChild(fi)
                    folders[key] = fi
                parent = folders[key]
            parent.addChild(self._file_item(skill.path / f.rel_path, parts[-1]))
        return item

    def _file_item(self, path: Path, label: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([label])
        item.setData(0, ROLE_PATH, path)
        item.setData(0, ROLE_KIND, "file")
        # icons by file type: runnable scripts get the run icon, the rest the file icon
        kind = "run" if path.suffix.lower() in _SCRIPT_SUFFIXES or path.parent.name == "scripts" else "file"
        icon = load_icon(kind)
        item.setIcon(0, icon if not icon.isNull() else self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon))
        item.setToolTip(0, str(path))
        return item

    # ------------------------------------------------------------------ lookups
    def skill_items(self) -> list[QTreeWidgetItem]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [it for it in items if it is not None]

    def find_skill_item(self, name: str) -> QTreeWidgetItem | None:
        for item in self.skill_items():
            p = item.data(0, ROLE_PATH)
            if isinstance(p, Path) and p.name == name:
                return item
        return None

    def replace_skill(self, skill: Skill) -> None:
        """Show a re-read skill in place (version, files), keeping the tree's expansion and selection."""
        old = self.find_skill_item(skill.folder_name)
        if old is None:
            return
        index = self.tree.indexOfTopLevelItem(old)
        expanded, current = old.isExpanded(), self.tree.currentItem() is old
        self.tree.blockSignals(True)
        self.tree.takeTopLevelItem(index)
        new = self._skill_item(skill)
        self.tree.insertTopLevelItem(index, new)
        new.setExpanded(expanded)
        if current:
            self.tree.setCurrentItem(new)
        self.tree.blockSignals(False)

    def set_badge(self, skill_dir: Path, errors: int, warnings: int) -> None:
        """Show a skill's error/warning count from the workspace-wide check (kept for items not built yet)."""
        self._badges[skill_dir] = (errors, warnings)
        for item in self.skill_items():
            if item.data(0, ROLE_PATH) == skill_dir:
                self._apply_badge(item, errors, warnings)
                break

    def _apply_badge(self, item: QTreeWidgetItem, errors: int, warnings: int) -> None:
        item.setData(0, ROLE_BADGE, (errors, warnings))
        tip = str(item.data(0, ROLE_TIP) or "")
        if errors or warnings:
            name = "error" if errors else "warning"
            icon = load_icon(name)
            std = QStyle.StandardPixmap.SP_MessageBoxCritical if errors else QStyle.StandardPixmap.SP_MessageBoxWarning
            item.setIcon(0, icon if not icon.isNull() else self.style().standardIcon(std))
            summary = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
            item.setToolTip(0, f"{summary} (All Problems lists them)\n\n{tip}")
        else:
            icon = load_icon("skill")
            item.setIcon(0, icon if not icon.isNull() else self.style().standardIcon(QStyle.StandardPixmap.SP_DirIcon))
            item.setToolTip(0, tip)

    def select_skill(self, skill_dir: Path) -> None:
        item = self.find_skill_item(skill_dir.name)
        if item is not None:
            self.tree.setCurrentItem(item)

    # ------------------------------------------------------------------ interaction
    @Slot(str)
    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for item in self.skill_items():
            item.setHidden(bool(needle) and needle not in item.text(0).lower()
                           and needle not in item.toolTip(0).lower())

    @Slot(QTreeWidgetItem, int)
    def _on_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        kind, path = item.data(0, ROLE_KIND), item.data(0, ROLE_PATH)
        if kind == "file":
            self.sig_open_file.emit(path)
        elif kind == "cases":
            self.sig_open_cases.emit(path)
        elif kind == "skill":
            children = (item.child(i) for i in range(item.childCount()))
            md = next((c.data(0, ROLE_PATH) for c in children if c is not None and c.data(0, ROLE_KIND) == "file"),
                      None)
            if md is not None:
                self.sig_open_file.emit(md)

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_current_changed(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        item = current
        while item is not None and item.parent() is not None:
            item = item.parent()
        if item is not None:
            self.sig_skill_selected.emit(item.data(0, ROLE_PATH))


