"""Two runs from the history side by side: which cases flipped, how the numbers moved, and whether
the difference is more than chance (McNemar's exact test on the paired outcomes).

Everything is computed by `evals.metrics.compare` on the saved reports (the same function the CLI
uses); this widget only lays it out. Cases are paired by (skill, prompt, expect), so editing a
description between two runs still pairs every unchanged case. A run saved before verdicts followed
the model (no `verdict_rule`) is labelled "first-call rule" in the run lists and in the verdict, so
a flip that comes from the rule change is not read as a change of the skill.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skillstudio.errors import SkillStudioError
from skillstudio.evals import metrics
from skillstudio.evals.store import RunStore
from skillstudio.evals.trajectory import LEGACY_RULE
from skillstudio.services.trigger_runs import CaseResult, TriggerReport, load_saved
from skillstudio.ui.triggers.summary import fmt_ratio, fmt_seconds, make_banner

MAX_RUNS_LISTED = 60  # newest first; each saved run is read once and then kept
FIXED_BG, BROKE_BG = QColor("#d9f2df"), QColor("#fbdcdc")
FIXED_FG, BROKE_FG = QColor("#17692f"), QColor("#9b1c1c")

# (label, summary key, higher is better, formatter)
METRIC_ROWS: tuple[tuple[str, str, bool, Any], ...] = (
    ("Accuracy", "accuracy", True, fmt_ratio),
    ("Precision", "precision", True, fmt_ratio),
    ("Recall", "recall", True, fmt_ratio),
    ("F1", "f1", True, fmt_ratio),
    ("TTFT p50", "ttft_p50_s", False, fmt_seconds),
    ("Latency p50", "latency_p50_s", False, fmt_seconds),
)


def saved_runs(store: RunStore) -> list[str]:
    """Saved run ids, oldest first (the store orders by start time, then by insertion)."""
    try:
        return store.list()
    except SkillStudioError:
        return []  # an unreadable history shows as empty; the panel says why when it saves


def run_label(report: TriggerReport) -> str:
    """`2026-11-24 09:12:31 · gpt-5.4 (responses) · acc 0.85 · 40 cases · #1a2b3c4d`"""
    when = str(report.started_at or "")[:19].replace("T", " ")
    who = "offline estimate" if report.estimate else f"{report.model} ({report.provider})"
    s = report.summary
    acc = fmt_ratio(s.accuracy)
    extra = " · cancelled" if s.cancelled else ""
    if report.rule == LEGACY_RULE:
        extra += f" · {LEGACY_RULE}"  # judged by the first shell call only, before verdicts followed the model
    run_id = str(report.id or "")
    tag = f" · #{run_id.rsplit('-', 1)[-1]}" if run_id else ""  # two runs in the same second differ here
    return f"{when} · {who} · acc {acc} · {s.cases} cases{extra}{tag}"


def verdict(cmp: dict[str, Any]) -> str:
    fixed, broke, n = len(cmp["fixed"]), len(cmp["broke"]), cmp["paired_cases"]
    p = cmp["mcnemar_p"]
    head = f"<b>{fixed} fixed, {broke} broke</b> of {n} paired cases. McNemar exact p = {p:.3g}: "
    if fixed == broke == 0:
        return head + "no case changed its outcome."
    if p < 0.05:
        better = "better" if fixed > broke else "worse"
        return head + f"B is very likely <b>{better}</b> than A on these cases, not by chance."
    return head + "the difference could well be chance — add cases or runs before trusting it."


def _case_key(c: CaseResult) -> tuple[str, str, str]:
    return c.skill, c.prompt, c.expect


def _outcome(c: CaseResult | None) -> str:
    if c is None:
        return "—  (not in this run)"
    rate = "—" if c.trigger_rate is None else f"{c.triggered}/{c.runs}"
    return f"{c.status.replace('_', ' ')}  {rate}"


class RunCompareWidget(QWidget):
    sig_compared = Signal(object)  # the comparison dict of metrics.compare

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store: RunStore | None = None
        self._reports: dict[str, TriggerReport] = {}
        self._loaded: dict[str, TriggerReport] = {}  # run id -> report, so a refresh reads only new runs
        self.comparison: dict[str, Any] | None = None

        self.run_a = QComboBox()
        self.run_a.setToolTip("The earlier run to compare")
        self.run_a.setObjectName("run_a")
        self.run_b = QComboBox()
        self.run_b.setToolTip("The later run to compare")
        self.run_b.setObjectName("run_b")
        for combo in (self.run_a, self.run_b):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(40)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            combo.currentIndexChanged.connect(self._on_pick)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Reload the run history of this workspace")
        self.refresh_button.clicked.connect(self.refresh)
        self.only_flipped = QCheckBox("Only flipped cases")
        self.only_flipped.setToolTip("Show only cases whose result changed between the two runs")
        self.only_flipped.setObjectName("only_flipped")
        self.only_flipped.toggled.connect(self._apply_filter)

        pick = QFormLayout()
        pick.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        pick.addRow("A (before)", self.run_a)
        pick.addRow("B (after)", self.run_b)
        top = QHBoxLayout()
        top.addLayout(pick, 1)
        top.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignTop)

        self.empty = QLabel()
        self.empty.setObjectName("compare_empty")
        self.empty.setWordWrap(True)
        self.estimate_banner = make_banner("compare_estimate_banner", "estimate")
        self.verdict = QLabel()
        self.verdict.setObjectName("compare_verdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.RichText)

        self.metrics = QTableWidget(len(METRIC_ROWS), 3)
        self.metrics.setObjectName("compare_metrics")
        self.metrics.setHorizontalHeaderLabels(["A", "B", "Δ (B − A)"])
        self.metrics.setVerticalHeaderLabels([r[0] for r in METRIC_ROWS])
        self.metrics.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.metrics.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.metrics.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.metrics.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.metrics.setMinimumWidth(300)

        self.cases = QTableWidget(0, 6)
        self.cases.setObjectName("compare_cases")
        self.cases.setHorizontalHeaderLabels(["Change", "Skill", "Expect", "A", "B", "Prompt"])
        self.cases.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.cases.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.cases.setWordWrap(False)
        self.cases.verticalHeader().hide()
        hh = self.cases.horizontalHeader()
        for col in range(5):
            hh.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.metrics)
        ll.addStretch(1)
        self.metrics.setSizeAdjustPolicy(QAbstractItemView.SizeAdjustPolicy.AdjustToContents)
        self.metrics.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.only_flipped)
        rl.addWidget(self.cases, 1)
        self.body = QSplitter(Qt.Orientation.Horizontal)
        self.body.addWidget(left)
        self.body.addWidget(right)
        self.body.setStretchFactor(0, 1)
        self.body.setStretchFactor(1, 3)
        self.body.setSizes([320, 900])

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.empty)
        lay.addWidget(self.estimate_banner)
        lay.addWidget(self.verdict)
        lay.addWidget(self.body, 1)
        self._show_empty("Open a workspace to compare its runs.")

    # ------------------------------------------------------------------ history

    def set_workspace(self, path: Path) -> None:
        self._store = RunStore(Path(path) / ".skillstudio")
        self._loaded.clear()
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Reload the list of saved runs (newest last in the store; shown newest first)."""
        self._reports.clear()
        for combo in (self.run_a, self.run_b):
            combo.blockSignals(True)
            combo.clear()
        if self._store is not None:
            for saved_id in reversed(saved_runs(self._store)[-MAX_RUNS_LISTED:]):
                report = self._loaded.get(saved_id)
                if report is None:
                    try:  # the request log is not needed to compare and can be large
                        report = load_saved(self._store, saved_id, with_requests=False).report
                    except SkillStudioError:
                        continue  # a run that cannot be read is skipped, the rest still compare
                    self._loaded[saved_id] = report
                run_id = str(report.id or saved_id)
                self._reports[run_id] = report
                for combo in (self.run_a, self.run_b):
                    combo.addItem(run_label(report), run_id)
        n = len(self._reports)
        if n >= 2:
            self.run_a.setCurrentIndex(1)  # previous
            self.run_b.setCurrentIndex(0)  # latest
        for combo in (self.run_a, self.run_b):
            combo.blockSignals(False)
        self._on_pick()

    def run_ids(self) -> list[str]:
        return list(self._reports)

    def select(self, run_a: str, run_b: str) -> None:
        self.run_a.setCurrentIndex(self.run_a.findData(run_a))
        self.run_b.setCurrentIndex(self.run_b.findData(run_b))
        self._on_pick()

    # ------------------------------------------------------------------ comparison

    def _show_empty(self, text: str) -> None:
        self.comparison = None
        self.empty.setText(text)
        self.empty.show()
        self.verdict.hide()
        self.estimate_banner.hide()
        self.body.hide()

    @Slot()
    def _on_pick(self) -> None:
        n = len(self._reports)
        if n < 2:
            self._show_empty("Compare needs two saved runs. Run the trigger cases, change a description "
                             "or the model, run again — then pick the two runs here." if self._store else
                             "Open a workspace to compare its runs.")
            return
        a_id, b_id = self.run_a.currentData(), self.run_b.currentData()
        if a_id == b_id:
            self._show_empty("A and B are the same run: pick two different runs.")
            return
        a, b = self._reports[a_id], self._reports[b_id]
        cmp = metrics.compare(a.as_dict(), b.as_dict())
        self.comparison = cmp
        self.empty.hide()
        self.body.show()
        text = verdict(cmp)
        rules = {name: r.rule for name, r in (("A", a), ("B", b))}
        legacy = [name for name, rule in rules.items() if rule == LEGACY_RULE]
        if legacy:
            text += (f"<br><b>Run {' and '.join(legacy)}: {LEGACY_RULE}</b> — judged by the model's first "
                     "shell call only, saved before verdicts followed the model until it decides"
                     + (". Flips may come from the rule change, not from the skill." if len(legacy) == 1 else "."))
        self.verdict.setText(text)
        self.verdict.show()
        est = [name for name, r in (("A", a), ("B", b)) if r.estimate]
        if est:
            self.estimate_banner.setText(f"<b>Offline estimate — not a model result</b> (run {' and '.join(est)}). "
                                         "Compare model runs before drawing conclusions.")
            self.estimate_banner.show()
        else:
            self.estimate_banner.hide()
        self._fill_metrics(a, b)
        self._fill_cases(a, b, cmp)
        self.sig_compared.emit(cmp)

    def _fill_metrics(self, a: TriggerReport, b: TriggerReport) -> None:
        for row, (_, key, higher_better, fmt) in enumerate(METRIC_ROWS):
            va, vb = getattr(a.summary, key), getattr(b.summary, key)
            self.metrics.setItem(row, 0, QTableWidgetItem(fmt(va)))
            self.metrics.setItem(row, 1, QTableWidgetItem(fmt(vb)))
            if va is None or vb is None:
                item = QTableWidgetItem("—")
            else:
                d = vb - va
                if key.endswith("_s"):
                    pct = f" ({d / va * 100:+.1f}%)" if va else ""
                    item = QTableWidgetItem(f"{d * 1000:+.0f} ms{pct}")
                else:
                    item = QTableWidgetItem(f"{d:+.3f}")
                if abs(d) > 1e-9:
                    good = (d > 0) == higher_better
                    item.setForeground(QBrush(FIXED_FG if good else BROKE_FG))
            self.metrics.setItem(row, 2, item)
            for col in range(3):
                cell = self.metrics.item(row, col)
                if cell is not None:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _fill_cases(self, a: TriggerReport, b: TriggerReport, cmp: dict[str, Any]) -> None:
        fixed = {(c["skill"], c["prompt"], c["expect"]) for c in cmp["fixed"]}
        broke = {(c["skill"], c["prompt"], c["expect"]) for c in cmp["broke"]}
        bmap = {_case_key(c): c for c in b.cases}
        keys = [_case_key(c) for c in a.cases]
        keys += [k for k in bmap if k not in set(keys)]
        amap = {_case_key(c): c for c in a.cases}
        # Flipped cases first (broke before fixed: regressions are what a reviewer must see).
        keys.sort(key=lambda k: 0 if k in broke else 1 if k in fixed else 2)
        self.cases.setRowCount(len(keys))
        for row, key in enumerate(keys):
            change = "BROKE" if key in broke else "fixed" if key in fixed else ""
            values = [change, key[0], key[2], _outcome(amap.get(key)), _outcome(bmap.get(key)), key[1]]
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                if col == 5:
                    item.setToolTip(text)
                if change:
                    item.setBackground(QBrush(BROKE_BG if change == "BROKE" else FIXED_BG))
                    item.setForeground(QBrush(BROKE_FG if change == "BROKE" else FIXED_FG))
                    if col == 0:
                        f = item.font()
                        f.setBold(True)
                        item.setFont(f)
                item.setData(Qt.ItemDataRole.UserRole, change)
                self.cases.setItem(row, col, item)
        self._apply_filter()

    @Slot()
    def _apply_filter(self) -> None:
        only = self.only_flipped.isChecked()
        for row in range(self.cases.rowCount()):
            item = self.cases.item(row, 0)
            self.cases.setRowHidden(row, only and not (item and item.text()))

    def flipped_rows(self) -> dict[str, str]:
        """prompt -> "fixed" | "BROKE" for every highlighted row (for tests and screen readers)."""
        out = {}
        for row in range(self.cases.rowCount()):
            change, prompt = self.cases.item(row, 0), self.cases.item(row, 5)
            if change is not None and prompt is not None and change.text():
                out[prompt.text()] = change.text()
        return out
