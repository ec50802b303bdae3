"""Arrow keys and Enter typed into a filter field drive the list below it (palette, quick open).

Why: the query field keeps the keyboard focus so typing never stops, yet Up/Down must move the
selection and Enter must act on it — the same in every filter-over-a-list popup.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QListWidget, QListWidgetItem


def drive_list(event: QEvent, lst: QListWidget, activate: Callable[[QListWidgetItem], None]) -> bool:
    """Handle `event` (from the filter field) for `lst`; True when it was ours."""
    if not isinstance(event, QKeyEvent) or event.type() != QEvent.Type.KeyPress:
        return False
    if event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
        row = lst.currentRow() + (1 if event.key() == Qt.Key.Key_Down else -1)
        lst.setCurrentRow(max(0, min(row, lst.count() - 1)))
        return True
    if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        item = lst.currentItem()
        if item is not None:
            activate(item)
        return True
    return False
