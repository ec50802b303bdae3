"""The numbers of a run at a glance (precision, recall, F1, accuracy, timing, tokens, cost) and the
banners that must never be missed: "Offline estimate — not a model result", and a cancelled run.

Values are taken from the report's summary as they are; "—" means "not measured" (e.g. no TTFT for
the offline estimator or a non-streaming provider), never zero.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget

from skillstudio.ui.common.banner import set_banner
from skillstudio.ui.common.font_scale import relative_font

if TYPE_CHECKING:
    from skillstudio.services.trigger_runs import TriggerReport

ESTIMATE_TEXT = ("<b>Offline estimate — not a model result.</b> These numbers come from a lexical BM25 "
                 "router over skill names and descriptions. Pick OpenAI Responses or a chat server to "
                 "measure what a model really does.")

BANNER_STYLE = {
    "estimate": "background:#fff3cd;color:#5c4100;border:1px solid #d9b44a;border-radius:4px;padding:6px 10px;",
    "warning": "background:#fde4e4;color:#7a1717;border:1px solid #e09a9a;border-radius:4px;padding:6px 10px;",
    "info": "background:#e6eefb;color:#1d3a6b;border:1px solid #a9c0e8;border-radius:4px;padding:6px 10px;",
}


def make_banner(name: str, kind: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    set_banner(label, kind)  # coloured by the theme (BANNER_STYLE is the light theme's, for reference)
    label.hide()
    return label


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def fmt_seconds(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s"


def fmt_int(x: int | None) -> str:
    return "—" if x is None else f"{x:,}"


class _Tile(QFrame):
    def __init__(self, caption: str, tooltip: str) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setToolTip(tooltip)
        self.value = QLabel("—")
        relative_font(self.value, 1.35, bold=True)
        self.caption = QLabel(caption)
        self.caption.setProperty("role", "hint")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.setSpacing(0)
        lay.addWidget(self.value)
        lay.addWidget(self.caption)


TILES = (
    ("accuracy", "Accuracy", "Cases that passed among cases that finished without errors."),
    ("precision", "Precision", "Of the cases where a skill fired, how many should have: TP / (TP + FP)."),
    ("recall", "Recall", "Of the cases that should fire, how many did: TP / (TP + FN)."),
    ("f1", "F1", "Harmonic mean of precision and recall."),
    ("cases", "Passed / cases", "Cases passed out of all cases."),
    ("problems", "Failed · errors", "Failed cases · cases whose requests still failed after retries."),
    ("flaky", "Flaky", "Cases whose runs disagreed (0 < rate < 1)."),
    ("ttft", "TTFT p50 / p95", "Time to the first output event (streaming Responses only)."),
    ("latency", "Latency p50 / p95", "Request start to decision, excluding cached results."),
    ("tokens", "Tokens in / out", "Input and output tokens the server reported. A Responses stream is closed "
     "as soon as the decision is known, before usage arrives: those requests are counted locally (catalog + "
     "prompt in, the visible first command out; a lower bound) and shown with ~ as an estimate."),
    ("cost", "Cost", "From the price table (resources/prices.json, or prices.json in the config folder); "
     "~ marks an estimate from locally counted tokens."),
    ("requests", "Requests · cached", "Model calls made in this run (retries count) · results served from the cache."),
)


class RunSummaryView(QWidget):
    """A run's headline numbers and its must-see banners."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tiles: dict[str, _Tile] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(6)
        per_row = 6
        for i, (key, caption, tip) in enumerate(TILES):
            tile = _Tile(caption, tip)
            tile.setObjectName(f"tile_{key}")
            self.tiles[key] = tile
            grid.addWidget(tile, i // per_row, i % per_row)

    def text(self, key: str) -> str:
        return self.tiles[key].value.text()

    def set_report(self, report: TriggerReport | None) -> None:
        if report is None:
            for t in self.tiles.values():
                t.value.setText("—")
            return
        s = report.summary
        values = {
            "accuracy": fmt_ratio(s.accuracy),
            "precision": fmt_ratio(s.precision),
            "recall": fmt_ratio(s.recall),
            "f1": fmt_ratio(s.f1),
            "cases": f"{s.passed} / {s.cases - s.explicit_only}",
            "problems": f"{s.failed} · {s.errors}",
            "flaky": str(s.flaky),
            "ttft": f"{fmt_seconds(s.ttft_p50_s)} / {fmt_seconds(s.ttft_p95_s)}",
            "latency": f"{fmt_seconds(s.latency_p50_s)} / {fmt_seconds(s.latency_p95_s)}",
            "tokens": (("~" if s.cost_is_estimate else "")
                       + f"{fmt_int(s.input_tokens)} / {fmt_int(s.output_tokens)}"
                       if s.usage_reported or s.usage_estimated else "—"),
            "cost": "—" if s.cost_usd is None else
                    ("~" if s.cost_is_estimate else "") + f"${s.cost_usd:.4f}",
            "requests": f"{s.requests} · {s.cached}",
        }
        for key, text in values.items():
            self.tiles[key].value.setText(text)
        held = s.explicit_only
        # trigger cases of explicit-only skills are not run: counted apart, never as failures
        self.tiles["cases"].caption.setText("Passed / cases" + (f" · {held} explicit-only" if held else ""))
        bad = s.failed or s.errors
        self.tiles["problems"].value.setStyleSheet("color:#d0382b;" if bad else "")
