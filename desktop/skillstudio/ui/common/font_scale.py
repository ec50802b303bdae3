"""Keep every text size relative to the application font, so the platform's font scaling applies.

Two Qt gaps are closed here: (1) once an application stylesheet is set, a later
``QApplication.setFont`` (the platform's font-size setting, or ours) no longer reaches widgets
that already exist — re-applying the same stylesheet re-polishes them with the new font; (2) a
heading made bigger with a fixed size would stay fixed, so headings are sized as a factor of the
application font and recomputed whenever it changes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

_RELATIVE: set[_Relative] = set()  # live headings, re-sized after the stylesheet is re-applied


class _AppFontFollower(QObject):
    """Re-applies the app stylesheet (then the relative heading sizes) after an application font change."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._busy = False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.parent() and event.type() == QEvent.Type.ApplicationFontChange and not self._busy:
            app = self.parent()
            if isinstance(app, QApplication):
                self._busy = True
                try:
                    if app.styleSheet():
                        app.setStyleSheet(app.styleSheet())
                    for rel in list(_RELATIVE):
                        rel.apply()
                finally:
                    self._busy = False
        return False


def follow_app_font(app: QApplication) -> None:
    """Make widgets pick up application font changes even though a stylesheet is set (idempotent)."""
    if app.findChild(_AppFontFollower) is None:
        app.installEventFilter(_AppFontFollower(app))


class _Relative(QObject):
    def __init__(self, widget: QWidget, scale: float, bold: bool) -> None:
        super().__init__(widget)
        self.widget, self.scale, self.bold = widget, scale, bold
        _RELATIVE.add(self)
        self.destroyed.connect(lambda *_: _RELATIVE.discard(self))
        widget.destroyed.connect(lambda *_: _RELATIVE.discard(self))
        self.apply()

    def apply(self) -> None:
        widget = self.widget
        font = QFont(QApplication.font())
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * self.scale)
        elif font.pixelSize() > 0:  # a platform that reports pixels: scale those
            font.setPixelSize(max(1, round(font.pixelSize() * self.scale)))
        font.setBold(self.bold)
        widget.setFont(font)


def relative_font(widget: QWidget, scale: float = 1.0, bold: bool = False) -> None:
    """Size *widget*'s font as *scale* × the application font, now and after every font change."""
    for old in widget.findChildren(_Relative):
        _RELATIVE.discard(old)
        old.deleteLater()
    _Relative(widget, scale, bold)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        follow_app_font(app)
