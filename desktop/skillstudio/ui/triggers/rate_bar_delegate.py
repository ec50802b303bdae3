"""Draws a case's trigger rate as a bar: the Wilson 95% interval as a band, the rate as a tick,
the threshold as a thin dark mark, and `k/n` beside it.

A bar says at a glance what a number cannot: 2/3 with an interval from 0.21 to 0.94 is *not* a
reliable pass, however the threshold falls.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from skillstudio.ui.triggers.results_model import CASE_ROLE, THRESHOLD_ROLE

BAR_W = 110
TEXT_W = 34


class RateBarDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802 - Qt API
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        base = super().sizeHint(option, index)
        return QSize(BAR_W + TEXT_W + 16, base.height())

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        case = index.data(CASE_ROLE)
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        # Selection/hover background as the style draws it, without the text.
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        opt.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        if not case or case.get("trigger_rate") is None:
            return
        rect = option.rect
        pal: QPalette = option.palette
        threshold = float(index.data(THRESHOLD_ROLE) or 0.5)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        h = 8.0
        x0 = rect.left() + 6.0
        w = float(min(BAR_W, max(40, rect.width() - TEXT_W - 16)))
        y = rect.center().y() - h / 2 + 1
        track = QColor(pal.color(QPalette.ColorRole.Text))
        track.setAlphaF(0.12)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(track)
        painter.drawRoundedRect(QRectF(x0, y, w, h), h / 2, h / 2)
        lo, hi, rate = float(case["wilson_low"]), float(case["wilson_high"]), float(case["trigger_rate"])
        passed = case.get("status") == "pass"
        band = QColor("#3f7fd9") if passed else QColor("#d0382b")
        band.setAlphaF(0.35)
        painter.setBrush(band)
        painter.drawRoundedRect(QRectF(x0 + lo * w, y, max(2.0, (hi - lo) * w), h), h / 2, h / 2)
        tick = QColor("#1f5fbf") if passed else QColor("#b02a1f")
        painter.setBrush(tick)
        painter.drawRect(QRectF(x0 + rate * w - 1.5, y - 3, 3, h + 6))
        mark = QColor(pal.color(QPalette.ColorRole.Text))
        mark.setAlphaF(0.75)
        painter.setBrush(mark)
        painter.drawRect(QRectF(x0 + threshold * w - 0.75, y - 4, 1.5, h + 8))
        text_rect = QRectF(x0 + w + 6, rect.top(), TEXT_W + 4, rect.height())
        painter.setPen(pal.color(QPalette.ColorRole.HighlightedText if opt.state & QStyle.StateFlag.State_Selected
                                 else QPalette.ColorRole.Text))
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                         f"{case['triggered']}/{case['runs']}")
        painter.restore()
