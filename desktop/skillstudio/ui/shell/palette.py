"""Ctrl+Shift+P: every command of the window by name, filtered as you type, run with Enter."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from skillstudio.ui.common.fuzzy import fuzzy_filter
from skillstudio.ui.common.list_keys import drive_list


def window_actions(win: QMainWindow) -> list[QAction]:
    """Every command reachable from *win*, once each: its own actions, every menu (also menus other
    modules add later, and submenus), toolbars and dock show/hide toggles — so nothing a mouse user
    can click is missing from the keyboard path."""
    found: list[QAction] = []
    seen: set[int] = set()

    def add(act: QAction) -> None:
        if id(act) in seen:
            return
        seen.add(id(act))
        menu = act.menu()
        if isinstance(menu, QMenu):
            for sub in menu.actions():
                add(sub)
            return  # the submenu itself is not a command
        if act.isSeparator() or not act.text().strip():
            return
        found.append(act)

    for act in win.actions():
        add(act)
    for act in win.menuBar().actions():
        add(act)
    for bar in win.findChildren(QToolBar):
        for act in bar.actions():
            add(act)
    for dock in win.findChildren(QDockWidget):
        add(dock.toggleViewAction())
    return found


class CommandPalette(QDialog):
    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CommandPalette")
        self.setWindowTitle("Commands")
        self.setMinimumSize(520, 340)
        unique: dict[str, QAction] = {}
        for a in actions:
            if a.text() and a.isEnabled() and not a.isSeparator():
                unique.setdefault(self.entry(a).lower(), a)  # same name + shortcut twice = one entry
        self.actions_ = list(unique.values())
        self.query = QLineEdit()
        self.query.setObjectName("palette_query")
        self.query.setPlaceholderText("Type a command…")
        self.query.setAccessibleName("Command filter")
        self.query.setToolTip("Type words of a command; ↑/↓ pick, Enter runs it")
        self.query.textChanged.connect(self._filter)
        self.query.installEventFilter(self)
        self.list = QListWidget()
        self.list.setObjectName("palette_list")
        self.list.setAccessibleName("Commands")
        self.list.itemActivated.connect(self._run_item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.query)
        layout.addWidget(self.list, 1)
        self._filter("")

    @staticmethod
    def label(action: QAction) -> str:
        text = action.text().replace("&", "").rstrip("…").strip()
        if isinstance(action.parent(), QDockWidget):  # a dock's show/hide toggle is just its title
            return f"Show/Hide Panel: {text}"
        return text

    @classmethod
    def entry(cls, action: QAction) -> str:
        """The row shown for *action*: its name and, where it has one, its shortcut."""
        shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        return f"{cls.label(action)}    {shortcut}" if shortcut else cls.label(action)

    @Slot(str)
    def _filter(self, text: str) -> None:
        """Fuzzy: the letters typed, in order ("ssc" → Show Sandbox Console); best matches first."""
        self.list.clear()
        ordered = sorted(self.actions_, key=self.label)
        for index in fuzzy_filter(text, [self.label(a) for a in ordered]):
            act = ordered[index]
            item = QListWidgetItem(self.entry(act))
            item.setToolTip(act.toolTip())
            item.setData(Qt.ItemDataRole.UserRole, act)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.query and drive_list(event, self.list, self._run_item):
            return True
        return super().eventFilter(obj, event)

    @Slot(QListWidgetItem)
    def _run_item(self, item: QListWidgetItem) -> None:
        act = item.data(Qt.ItemDataRole.UserRole)
        self.accept()
        if isinstance(act, QAction):
            act.trigger()
