"""Up/Down and Enter in a filter field move and activate the list below it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from skillstudio.ui.common.list_keys import drive_list


def _key(key: Qt.Key) -> QKeyEvent:
    return QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier)


def test_arrows_move_within_bounds_and_enter_activates(qtbot) -> None:  # type: ignore[no-untyped-def]
    lst = QListWidget()
    qtbot.addWidget(lst)
    lst.addItems(["a", "b", "c"])
    lst.setCurrentRow(0)
    chosen: list[str] = []

    def activate(item: QListWidgetItem) -> None:
        chosen.append(item.text())

    assert drive_list(_key(Qt.Key.Key_Up), lst, activate) and lst.currentRow() == 0  # stays at the top
    for _ in range(5):
        assert drive_list(_key(Qt.Key.Key_Down), lst, activate)
    assert lst.currentRow() == 2  # stops at the bottom
    assert drive_list(_key(Qt.Key.Key_Return), lst, activate) and chosen == ["c"]
    assert not drive_list(_key(Qt.Key.Key_A), lst, activate)  # typing goes to the field
    assert not drive_list(QEvent(QEvent.Type.FocusIn), lst, activate)
