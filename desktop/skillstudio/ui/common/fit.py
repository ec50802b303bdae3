"""Panels that never make the window bigger.

A dock's minimum size is its content's layout minimum, and a main window's minimum is the sum of its
docks': one busy panel (forms, charts, tables side by side) made the window grow itself past a laptop
screen. Hosting the panel in a frameless, resizable scroll area caps what it can ask for: the panel
gets all the room there is, and scroll bars only when the dock is smaller than the panel's minimum.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

MIN_PANEL = QSize(160, 90)  # what a hosted panel may ask of the window, at most


class FitArea(QScrollArea):
    """Hosts `panel` at any size; `panel()` gives it back, focus goes straight to it."""

    def __init__(self, panel: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"fit_{panel.objectName() or type(panel).__name__}")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setWidget(panel)
        self.setFocusProxy(panel)

    def panel(self) -> QWidget:
        widget = self.widget()
        assert widget is not None
        return widget

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return MIN_PANEL

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.panel().sizeHint().boundedTo(QSize(900, 420)).expandedTo(MIN_PANEL)


def fit(panel: QWidget) -> FitArea:
    return FitArea(panel)


def unfit(widget: QWidget | None) -> QWidget | None:
    """The panel a dock shows, whether or not it is hosted in a FitArea."""
    return widget.panel() if isinstance(widget, FitArea) else widget
