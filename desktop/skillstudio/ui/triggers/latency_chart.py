"""Latency and time-to-first-token of every request of a run, as two small histograms with p50/p95.

Drawn with QPainter (no chart library needed). The data is the run's per-request log; cached
results and the offline estimator are not timed, and the chart says so instead of drawing zeros.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QLineF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QWidget

from skillstudio.evals.stats import percentile
from skillstudio.ui.triggers.summary import fmt_seconds

BINS = 24
SERIES = (("ttft_s", "Time to first token", QColor("#3f7fd9")), ("latency_s", "Latency", QColor("#7a5cc7")))


def timings(requests_log: list[dict[str, Any]], key: str) -> list[float]:
    return [float(r[key]) for r in requests_log if not r.get("cached") and r.get(key) is not None]


class LatencyChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data: dict[str, list[float]] = {}
        self._note = ""
        self.setMinimumHeight(220)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(700, 300)

    def set_requests(self, requests_log: list[dict[str, Any]] | None, *, estimate: bool = False) -> None:
        log = requests_log or []
        self._data = {key: timings(log, key) for key, _, _ in SERIES}
        if estimate:
            self._note = "The offline estimate sends no requests, so there is no latency or TTFT to chart."
        elif not log:
            self._note = "No requests yet. Run the trigger cases (Ctrl+R) to see latency and time to first token."
        elif not any(self._data.values()):
            self._note = ("Every result of this run came from the cache, so nothing was timed. "
                          "Tick “No cache” to measure the model again.")
        else:
            self._note = ""
        self.update()

    def has_data(self) -> bool:
        return any(self._data.values())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        if self._note:
            p.setPen(text)
            p.drawText(self.rect().adjusted(16, 16, -16, -16),
                       int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self._note)
            return
        shown = [(k, label, colour) for k, label, colour in SERIES if self._data.get(k)]
        every = [v for k, _, _ in shown for v in self._data[k]]
        hi = nice_ceiling(max(every))
        fm = p.fontMetrics()
        margin_l, margin_r = 16.0, 16.0
        band_h = (self.height() - 12) / max(1, len(shown))
        for i, (key, label, colour) in enumerate(shown):
            values = self._data[key]
            top = 6 + i * band_h
            title_h = fm.height() + 4
            axis_h = fm.height() + 6
            plot = QRectF(margin_l, top + title_h, self.width() - margin_l - margin_r, band_h - title_h - axis_h - 6)
            p50, p95 = percentile(values, 50), percentile(values, 95)
            p.setPen(text)
            p.drawText(QRectF(margin_l, top, plot.width(), title_h), int(Qt.AlignmentFlag.AlignLeft),
                       f"{label} — {len(values)} requests · p50 {fmt_seconds(p50)} · p95 {fmt_seconds(p95)}")
            counts = [0] * BINS
            for v in values:
                counts[min(BINS - 1, int(v / hi * BINS))] += 1
            peak = max(counts) or 1
            bw = plot.width() / BINS
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            for b, n in enumerate(counts):
                if n:
                    h = max(2.0, plot.height() * n / peak)
                    p.drawRect(QRectF(plot.left() + b * bw + 1, plot.bottom() - h, bw - 2, h))
            grid = QColor(text)
            grid.setAlphaF(0.35)
            p.setPen(grid)
            p.drawLine(plot.bottomLeft(), plot.bottomRight())
            for name, q in (("p50", p50), ("p95", p95)):
                if q is None:
                    continue
                x = plot.left() + q / hi * plot.width()
                p.setPen(QColor("#d0382b"))
                p.drawLine(QLineF(x, plot.top(), x, plot.bottom()))
                tag = QRectF(x + 2, plot.top(), fm.horizontalAdvance(name) + 6, fm.height() + 2)
                p.fillRect(tag, pal.color(QPalette.ColorRole.Base))
                p.drawText(tag, int(Qt.AlignmentFlag.AlignCenter), name)
            p.setPen(text)
            ticks = 5
            for t in range(ticks + 1):
                v = hi * t / ticks
                x = plot.left() + plot.width() * t / ticks
                align = Qt.AlignmentFlag.AlignLeft if t == 0 else (
                    Qt.AlignmentFlag.AlignRight if t == ticks else Qt.AlignmentFlag.AlignHCenter)
                w = 80.0
                left = x if t == 0 else (x - w if t == ticks else x - w / 2)
                p.drawText(QRectF(left, plot.bottom() + 2, w, fm.height() + 2), int(align), fmt_seconds(v))
        p.end()


def nice_ceiling(x: float) -> float:
    """Round up to 1, 2 or 5 times a power of ten (axis ends people can read)."""
    if x <= 0:
        return 1.0
    e = math.floor(math.log10(x))
    for m in (1, 2, 5, 10):
        if m * 10 ** e >= x:
            return float(m * 10 ** e)
    return float(10 ** (e + 1))
