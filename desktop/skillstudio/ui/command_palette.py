"""Ctrl+Shift+P: every command of the window by name, filtered as you type, run with Enter."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import QDialog, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget


class CommandPalette(QDialog):
    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CommandPalette")
        self.setWindowTitle("Commands")
        self.setMinimumSize(520, 340)
        self.actions_ = [a for a in actions if a.text() and a.isEnabled() and not a.isSeparator()]
        self.query = QLineEdit()
        self.query.setObjectName("palette_query")
        self.query.setPlaceholderText("Type a command…")
        self.query.textChanged.connect(self._filter)
        self.query.installEventFilter(self)
        self.list = QListWidget()
        self.list.setObjectName("palette_list")
        self.list.itemActivated.connect(self._run_item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.query)
        layout.addWidget(self.list, 1)
        self._filter("")

    @staticmethod
    def label(action: QAction) -> str:
        return action.text().replace("&", "").rstrip("…").strip()

    @Slot(str)
    def _filter(self, text: str) -> None:
        words = text.lower().split()
        self.list.clear()
        for act in sorted(self.actions_, key=self.label):
            name = self.label(act)
            if all(w in name.lower() for w in words):
                shortcut = act.shortcut().toString()
                item = QListWidgetItem(f"{name}    {shortcut}" if shortcut else name)
                item.setData(Qt.ItemDataRole.UserRole, act)
                self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.query and isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                row = self.list.currentRow() + (1 if event.key() == Qt.Key.Key_Down else -1)
                self.list.setCurrentRow(max(0, min(row, self.list.count() - 1)))
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None:
                    self._run_item(item)
                return True
        return super().eventFilter(obj, event)

    @Slot(QListWidgetItem)
    def _run_item(self, item: QListWidgetItem) -> None:
        act = item.data(Qt.ItemDataRole.UserRole)
        self.accept()
        if isinstance(act, QAction):
            act.trigger()
