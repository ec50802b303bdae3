"""Find and replace inside one file (Ctrl+F / Ctrl+H), as every editor has it.

The bar sits under the editor: typing finds the next match from the cursor (wrapping around), Enter
and F3 go on, Shift+Enter and Shift+F3 go back, Esc closes it and puts the focus back in the text.
Replace changes the current match; Replace All changes every match as ONE undo step, so Ctrl+Z in
the editor takes it all back. Matching is plain text (case-insensitive unless "Aa" is on) or a
regular expression (".*"); a bad expression is said in the bar, never raised.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from skillstudio.ui.editor.code_editor import utf16_len


class FindBar(QWidget):
    sig_closed = Signal()

    def __init__(self, editor: QPlainTextEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FindBar")
        self.editor = editor
        self.find_edit = QLineEdit()
        self.find_edit.setObjectName("find_text")
        self.find_edit.setPlaceholderText("Find")
        self.find_edit.setAccessibleName("Find")
        self.find_edit.setClearButtonEnabled(True)
        self.replace_edit = QLineEdit()
        self.replace_edit.setObjectName("replace_text")
        self.replace_edit.setPlaceholderText("Replace with")
        self.replace_edit.setAccessibleName("Replace with")
        self.case = self._toggle("Aa", "Match case")
        self.regex = self._toggle(".*", "Regular expression")
        self.count_label = QLabel("")
        self.count_label.setObjectName("find_count")
        self.count_label.setMinimumWidth(90)
        prev = self._button("↑", "Previous match (Shift+Enter, Shift+F3)", self.find_previous)
        nxt = self._button("↓", "Next match (Enter, F3)", self.find_next)
        close = self._button("✕", "Close (Esc)", self.close_bar)
        self.replace_one = self._button("Replace", "Replace this match and find the next", self.replace_current)
        self.replace_all_button = self._button("All", "Replace every match (one undo step)", self.replace_all)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        for w in (self.find_edit, self.case, self.regex, self.count_label, prev, nxt, close):
            top.addWidget(w)
        top.setStretch(0, 1)
        self.replace_row = QWidget()
        bottom = QHBoxLayout(self.replace_row)
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.replace_edit, 1)
        bottom.addWidget(self.replace_one)
        bottom.addWidget(self.replace_all_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(4)
        lay.addLayout(top)
        lay.addWidget(self.replace_row)
        self.find_edit.textChanged.connect(self._on_text_changed)
        self.case.toggled.connect(self._on_text_changed)
        self.regex.toggled.connect(self._on_text_changed)
        self.find_edit.installEventFilter(self)
        self.replace_edit.installEventFilter(self)
        self.hide()

    def _toggle(self, text: str, tip: str) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setAccessibleName(tip)
        b.setCheckable(True)
        return b

    def _button(self, text: str, tip: str, slot: object) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setAccessibleName(tip)
        b.clicked.connect(slot)
        return b

    # ------------------------------------------------------------------ opening
    def open_find(self, replace: bool = False) -> None:
        """Show the bar (with the replace row for Ctrl+H), seeded with the selected text."""
        selected = self.editor.textCursor().selectedText()
        if selected and "\u2029" not in selected:
            self.find_edit.setText(selected)
        self.replace_row.setVisible(replace)
        self.show()
        target = self.replace_edit if replace and self.find_edit.text() else self.find_edit
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)
        target.selectAll()
        self._update_count()

    @Slot()
    def close_bar(self) -> None:
        self.hide()
        self.editor.setFocus(Qt.FocusReason.OtherFocusReason)
        self.sig_closed.emit()

    def eventFilter(self, obj: object, event: object) -> bool:  # noqa: N802 - Qt override
        if isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            key, shift = event.key(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            if key == Qt.Key.Key_Escape:
                self.close_bar()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if obj is self.replace_edit and not shift:
                    self.replace_current()
                elif shift:
                    self.find_previous()
                else:
                    self.find_next()
                return True
        return False

    # ------------------------------------------------------------------ matching
    def pattern(self) -> re.Pattern[str] | None:
        text = self.find_edit.text()
        if not text:
            return None
        flags = 0 if self.case.isChecked() else re.IGNORECASE
        try:
            return re.compile(text if self.regex.isChecked() else re.escape(text), flags | re.MULTILINE)
        except re.error as exc:
            self.count_label.setText(f"bad pattern: {exc.msg}")
            return None

    def matches(self) -> list[tuple[int, int]]:
        """(start, end) of every match, in Python string offsets of the editor's text."""
        rx = self.pattern()
        if rx is None:
            return []
        return [(m.start(), m.end()) for m in rx.finditer(self._text()) if m.end() > m.start()]

    def _text(self) -> str:
        return self.editor.document().toRawText().replace("\u2029", "\n")

    def _select(self, start: int, end: int, text: str) -> None:
        cursor = self.editor.textCursor()
        cursor.setPosition(utf16_len(text[:start]))
        cursor.setPosition(utf16_len(text[:end]), QTextCursor.MoveMode.KeepAnchor)
        self.editor.setTextCursor(cursor)
        self.editor.centerCursor()

    def _cursor_offset(self, text: str, anchor_start: bool) -> int:
        cursor = self.editor.textCursor()
        pos = cursor.selectionStart() if anchor_start else cursor.selectionEnd()
        # Qt position (UTF-16) -> Python offset
        return len(text.encode("utf-16-le")[: pos * 2].decode("utf-16-le", errors="ignore"))

    @Slot()
    def find_next(self) -> bool:
        text = self._text()
        found = self.matches()
        if not found:
            self._update_count()
            return False
        here = self._cursor_offset(text, anchor_start=False)
        start, end = next(((s, e) for s, e in found if s >= here), found[0])  # wraps around
        self._select(start, end, text)
        self._update_count()
        return True

    @Slot()
    def find_previous(self) -> bool:
        text = self._text()
        found = self.matches()
        if not found:
            self._update_count()
            return False
        here = self._cursor_offset(text, anchor_start=True)
        start, end = next(((s, e) for s, e in reversed(found) if e <= here and s < here), found[-1])
        self._select(start, end, text)
        self._update_count()
        return True

    def _replacement(self, matched: str) -> str:
        rx = self.pattern()
        if rx is not None and self.regex.isChecked():
            return rx.sub(self.replace_edit.text(), matched, count=1)
        return self.replace_edit.text()

    @Slot()
    def replace_current(self) -> None:
        """Replace the selected match (if the selection is one) and go to the next."""
        text = self._text()
        cursor = self.editor.textCursor()
        s, e = self._cursor_offset(text, True), self._cursor_offset(text, False)
        if cursor.hasSelection() and (s, e) in self.matches():
            cursor.insertText(self._replacement(text[s:e]))
        self.find_next()

    @Slot()
    def replace_all(self) -> int:
        """Every match replaced, as one undo step; returns how many."""
        text = self._text()
        found = self.matches()
        if not found:
            return 0
        cursor = QTextCursor(self.editor.document())
        cursor.beginEditBlock()
        for s, e in reversed(found):  # from the end: earlier offsets stay valid
            cursor.setPosition(utf16_len(text[:s]))
            cursor.setPosition(utf16_len(text[:e]), QTextCursor.MoveMode.KeepAnchor)
            cursor.insertText(self._replacement(text[s:e]))
        cursor.endEditBlock()
        self.count_label.setText(f"replaced {len(found)}")
        return len(found)

    @Slot()
    def _on_text_changed(self, *_: object) -> None:
        # typing finds from where the current match starts, so the match grows in place
        if self.find_edit.text():
            cursor = self.editor.textCursor()
            cursor.setPosition(cursor.selectionStart())
            self.editor.setTextCursor(cursor)
            self.find_next()
        else:
            self._update_count()

    def _update_count(self) -> None:
        if not self.find_edit.text():
            self.count_label.setText("")
            return
        if self.pattern() is None:
            return
        found = self.matches()
        if not found:
            self.count_label.setText("no results")
            return
        text = self._text()
        here = self._cursor_offset(text, anchor_start=True)
        current = next((i for i, (s, _e) in enumerate(found) if s == here), None)
        self.count_label.setText(f"{current + 1} of {len(found)}" if current is not None else f"{len(found)} found")



