"""Say what to do next inside an empty list, table or text view.

An empty white box tells a new user nothing. `set_empty_hint(view, text)` lays a short, wrapped,
muted label over a view's viewport while it has no rows (item views) or no text (text views) and
hides it once there is content. The view itself is not changed, so the code that hosts a panel
can give any of its views a hint.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QLabel,
    QPlainTextEdit,
    QTextEdit,
)

from skillstudio.ui.common.font_scale import relative_font


def is_empty(view: QAbstractScrollArea) -> bool:
    if isinstance(view, QAbstractItemView):
        model = view.model()
        return model is None or model.rowCount(view.rootIndex()) == 0
    if isinstance(view, (QTextEdit, QPlainTextEdit)):
        return view.document().isEmpty()
    return False


class EmptyHint(QObject):
    """The label over one view's viewport, kept centred and shown only while the view is empty.

    It follows the viewport's own paint and resize events — no model signals, which views emit while
    they are being destroyed — so it never touches a half-deleted view.
    """

    def __init__(self, view: QAbstractScrollArea, text: str) -> None:
        super().__init__(view)
        self.view = view
        self._viewport = view.viewport()
        self.label = QLabel(text, self._viewport)
        self.label.setObjectName("EmptyHint")
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        relative_font(self.label)  # the app font, not the view's (e.g. monospace); follows font scaling
        pal = self.label.palette()
        pal.setColor(QPalette.ColorRole.WindowText, view.palette().color(QPalette.ColorRole.PlaceholderText))
        self.label.setPalette(pal)
        self._viewport.installEventFilter(self)
        self.sync()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if watched is self._viewport and event.type() in (QEvent.Type.Paint, QEvent.Type.Resize):
            self.sync()
        return False

    @Slot()
    def sync(self) -> None:
        vp = self._viewport
        margin = 16
        geometry = (margin, margin, max(10, vp.width() - 2 * margin), max(10, vp.height() - 2 * margin))
        if self.label.geometry().getRect() != geometry:
            self.label.setGeometry(*geometry)
        show = is_empty(self.view) and bool(self.label.text())
        if self.label.isVisibleTo(vp) != show:
            self.label.setVisible(show)


def set_empty_hint(view: QAbstractScrollArea, text: str) -> EmptyHint:
    """Show `text` in `view` whenever it is empty (call again to change the text)."""
    hint = view.findChild(EmptyHint)
    if hint is None:
        return EmptyHint(view, text)
    hint.label.setText(text)
    hint.sync()
    return hint


def empty_hint(view: QAbstractScrollArea) -> str:
    """The hint shown while `view` is empty ('' when it has content or no hint)."""
    hint = view.findChild(EmptyHint)
    return hint.label.text() if hint is not None and hint.label.isVisibleTo(view) else ""
