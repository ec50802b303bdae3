"""A plain-text editor with a line-number gutter and problem markers (QPlainTextEdit scales to big files)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRect, QSize, Qt, Slot
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

from skillstudio.ui.common.theme import current_theme


class _Gutter(QWidget):
    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        self.editor.paint_gutter(event)


class CodeEditor(QPlainTextEdit):
    """Monospace editor; `mark_lines` shows problem lines in the gutter, `go_to_line` jumps to one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(max(font.pointSize(), 10))
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self._gutter = _Gutter(self)
        self._marks: dict[int, str] = {}  # 1-based line -> severity
        self.blockCountChanged.connect(self._update_gutter_width)
        self.updateRequest.connect(self._update_gutter)
        self.cursorPositionChanged.connect(self._highlight_current_line)
        self._update_gutter_width(0)
        self._highlight_current_line()
        # block state -> spaces Tab inserts (0: a literal tab); set by the tab that knows the file type
        self.spaces_for_tab: Callable[[int], int] = lambda _state: 0

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Tab and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            cursor = self.textCursor()
            width = self.spaces_for_tab(cursor.block().userState())
            if width and not cursor.hasSelection():
                column = cursor.positionInBlock()
                cursor.insertText(" " * (width - column % width))  # to the next indent stop
                self.setTextCursor(cursor)
                return
        super().keyPressEvent(event)

    # ------------------------------------------------------------------ gutter
    def gutter_width(self) -> int:
        digits = max(3, len(str(max(1, self.blockCount()))))
        return 14 + self.fontMetrics().horizontalAdvance("9") * digits

    @Slot(int)
    def _update_gutter_width(self, _count: int) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    @Slot(QRect, int)
    def _update_gutter(self, rect: QRect, dy: int) -> None:
        if dy:
            self._gutter.scroll(0, dy)
        else:
            self._gutter.update(0, rect.y(), self._gutter.width(), rect.height())
        if rect.contains(self.viewport().rect()):
            self._update_gutter_width(0)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        cr = self.contentsRect()
        self._gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))

    def paint_gutter(self, event: QPaintEvent) -> None:
        dark = current_theme() == "dark"
        painter = QPainter(self._gutter)
        painter.fillRect(event.rect(), QColor("#1b1d20" if dark else "#f0f1f3"))
        block = self.firstVisibleBlock()
        number = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        current = self.textCursor().blockNumber()
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and bottom >= event.rect().top():
                sev = self._marks.get(number + 1)
                if sev:
                    painter.fillRect(0, top, 4, height, QColor("#d9534f" if sev == "error" else "#e0a030"))
                painter.setPen(QColor(("#d7dae0" if dark else "#1d1f23") if number == current
                                      else ("#6b7079" if dark else "#9a9ea6")))
                painter.drawText(0, top, self._gutter.width() - 6, height,
                                 int(Qt.AlignmentFlag.AlignRight), str(number + 1))
            block = block.next()
            top = bottom
            bottom = top + round(self.blockBoundingRect(block).height())
            number += 1
        painter.end()

    # ------------------------------------------------------------------ marks and navigation
    def mark_lines(self, marks: dict[int, str]) -> None:
        """1-based line -> "error"/"warning"; shown as a coloured bar in the gutter."""
        if marks != self._marks:
            self._marks = dict(marks)
            self._gutter.update()

    def marks(self) -> dict[int, str]:
        return dict(self._marks)

    def go_to_line(self, line: int) -> None:
        block = self.document().findBlockByNumber(max(0, line - 1))
        if not block.isValid():
            block = self.document().lastBlock()
        cursor = QTextCursor(block)
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def current_line(self) -> int:
        return self.textCursor().blockNumber() + 1

    @Slot()
    def _highlight_current_line(self) -> None:
        sel = QTextEdit.ExtraSelection()
        sel.format.setBackground(QColor("#25282d" if current_theme() == "dark" else "#f5f7fb"))
        sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        sel.cursor = self.textCursor()
        sel.cursor.clearSelection()
        self.setExtraSelections([sel])
        self._gutter.update()

    # ------------------------------------------------------------------ edits
    def text(self) -> str:
        """The exact text (toPlainText would turn no-break spaces into spaces and lose data)."""
        return self.document().toRawText().replace("\u2029", "\n")

    def replace_all_undoable(self, new_text: str, merge: bool = False) -> bool:
        """Replace the text with `new_text` as ONE undo step, touching only the changed middle part.

        Keeps the cursor and scroll position where they were when the change is elsewhere (the
        front-matter form and fix-its use this, so Ctrl+Z undoes a form edit in one go). With `merge`,
        the change joins the previous undo step (typing in one form field is one step, as in the editor).
        """
        old = self.text()
        if old == new_text:
            return False
        start = 0
        limit = min(len(old), len(new_text))
        while start < limit and old[start] == new_text[start]:
            start += 1
        end_old, end_new = len(old), len(new_text)
        while end_old > start and end_new > start and old[end_old - 1] == new_text[end_new - 1]:
            end_old -= 1
            end_new -= 1
        scroll = self.verticalScrollBar().value()
        cursor = QTextCursor(self.document())
        if merge:
            cursor.joinPreviousEditBlock()
        else:
            cursor.beginEditBlock()
        cursor.setPosition(utf16_len(old[:start]))
        cursor.setPosition(utf16_len(old[:end_old]), QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(new_text[start:end_new])
        cursor.endEditBlock()
        self.verticalScrollBar().setValue(scroll)
        return True


def utf16_len(text: str) -> int:
    """Qt positions count UTF-16 code units; Python counts code points (they differ for emoji)."""
    return len(text.encode("utf-16-le")) // 2
