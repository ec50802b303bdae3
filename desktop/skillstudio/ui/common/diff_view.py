"""A small read-only diff: what would change, before anything overwrites it.

Used wherever the app is about to replace text the user may care about (a file changed by another
program, a fix-it). `diff_lines` is plain difflib; `DiffView` colours added and removed lines with
the theme's colours; `DiffDialog` puts one in a window-modal dialog with the caller's two choices,
opened with `open()` so it never blocks the event loop (and tests click it like a user).
"""

from __future__ import annotations

import difflib

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontDatabase, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from skillstudio.ui.common.theme import current_theme

# (added background, removed background, hunk header foreground) per theme
_COLOURS = {"light": ("#dcf5dc", "#fbe0e0", "#6a4fb3"), "dark": ("#1f4a2a", "#5a2228", "#b9a4f0")}


def diff_lines(before: str, after: str, before_name: str, after_name: str) -> list[str]:
    """Unified diff lines (no trailing newlines); empty when the texts are equal."""
    return [line.rstrip("\n") for line in difflib.unified_diff(
        before.splitlines(), after.splitlines(), before_name, after_name, n=3, lineterm="")]


class DiffView(QPlainTextEdit):
    """A unified diff, monospaced, with its added/removed lines highlighted for the current theme."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("diff_view")
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.lines: list[str] = []

    def set_texts(self, before: str, after: str, before_name: str, after_name: str) -> None:
        self.lines = diff_lines(before, after, before_name, after_name)
        self.setPlainText("\n".join(self.lines) if self.lines else "(no differences)")
        added, removed, hunk = (QColor(c) for c in _COLOURS.get(current_theme(), _COLOURS["light"]))
        selections = []
        block = self.document().firstBlock()
        for line in self.lines:
            fmt = QTextCharFormat()
            if line.startswith(("+++", "---")):
                fmt.setFontWeight(QFont.Weight.Bold)
            elif line.startswith("@@"):
                fmt.setForeground(hunk)
            elif line.startswith("+"):
                fmt.setBackground(added)
            elif line.startswith("-"):
                fmt.setBackground(removed)
            else:
                block = block.next()
                continue
            fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
            sel = QTextEdit.ExtraSelection()
            sel.cursor = QTextCursor(block)
            sel.format = fmt
            selections.append(sel)
            block = block.next()
        self.setExtraSelections(selections)

    def line_kinds(self) -> list[str]:
        """'+', '-', '@' or ' ' per shown line (headers are '@' too): what the highlighting marks."""
        out = []
        for line in self.lines:
            out.append("@" if line.startswith(("+++", "---", "@@")) else line[:1] or " ")
        return out


class DiffDialog(QDialog):
    """A diff with two choices; `sig_decided(True)` for the accepting one, `(False)` otherwise."""

    sig_decided = Signal(bool)

    def __init__(self, parent: QWidget | None, title: str, message: str, accept_text: str,
                 reject_text: str) -> None:
        super().__init__(parent)
        self.setObjectName("diff_dialog")
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.message = QLabel(message)
        self.message.setWordWrap(True)
        self.view = DiffView(self)
        buttons = QDialogButtonBox(self)
        self.accept_button: QPushButton = buttons.addButton(accept_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.reject_button: QPushButton = buttons.addButton(reject_text, QDialogButtonBox.ButtonRole.RejectRole)
        self.accept_button.setObjectName("diff_accept")
        self.reject_button.setObjectName("diff_reject")
        self.reject_button.setDefault(True)  # Enter never throws the user's work away
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.finished.connect(self._on_finished)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.resize(760, 480)

    @Slot(int)
    def _on_finished(self, result: int) -> None:
        self.sig_decided.emit(result == QDialog.DialogCode.Accepted)
