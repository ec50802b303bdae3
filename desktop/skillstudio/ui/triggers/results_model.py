"""The results table of a trigger-test run: one row per case of the report (`evals.metrics.summarize`).

The model only *shows* the report's numbers (rate, Wilson interval, status, selections); it never
recomputes them, so the table, the CLI and the HTML report always agree. `CaseFilter` narrows the
rows to failures (fail + error), flaky cases, or one skill.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Skill", "Prompt", "Expect", "Trigger rate", "Selected per run", "Result", "Why")
COL_SKILL, COL_PROMPT, COL_EXPECT, COL_RATE, COL_SELECTED, COL_RESULT, COL_WHY = range(len(COLUMNS))

CASE_ROLE = Qt.ItemDataRole.UserRole + 1  # the case dict
THRESHOLD_ROLE = Qt.ItemDataRole.UserRole + 2  # the run's threshold (for the rate bar)
SORT_ROLE = Qt.ItemDataRole.UserRole + 3

STATUS_TEXT = {"pass": "pass", "fail": "FAIL", "error": "error", "not_run": "not run"}
STATUS_COLOUR = {"pass": "#2e8b4a", "fail": "#d0382b", "error": "#c98a00", "not_run": "#8a8f98"}

FILTER_ALL, FILTER_FAILURES, FILTER_FLAKY = "all", "failures", "flaky"


def selected_text(selected: list[str | None]) -> str:
    """`crm-query ×2, none` — per run, compacted when a selection repeats."""
    if not selected:
        return ""
    counts: dict[str, int] = {}
    for s in selected:
        key = s or "none"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(k if n == 1 else f"{k} ×{n}" for k, n in counts.items())


class TriggerResultsModel(QAbstractTableModel):
    """One row per case of the report, read-only."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cases: list[dict[str, Any]] = []
        self._threshold = 0.5

    def set_report(self, report: dict[str, Any] | None) -> None:
        if report is not None and self._same_cases(report["cases"]):
            # A newer picture of the same run (live progress): keep scroll position and selection.
            self._cases = list(report["cases"])
            self._threshold = float(report["threshold"])
            if self._cases:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self._cases) - 1, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self._cases = list(report["cases"]) if report else []
        self._threshold = float(report["threshold"]) if report else 0.5
        self.endResetModel()

    def _same_cases(self, cases: list[dict[str, Any]]) -> bool:
        return len(cases) == len(self._cases) and all(
            (a["skill"], a["prompt"]) == (b["skill"], b["prompt"]) for a, b in zip(cases, self._cases, strict=True))

    def case(self, row: int) -> dict[str, Any]:
        return self._cases[row]

    def skills(self) -> list[str]:
        return list(dict.fromkeys(c["skill"] for c in self._cases))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self._cases)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole and section == COL_RATE:
            return ("Share of runs that read this case's skill, with its Wilson 95% interval; "
                    "the thin dark mark is the threshold.")
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        c = self._cases[index.row()]
        col = index.column()
        if role == CASE_ROLE:
            return c
        if role == THRESHOLD_ROLE:
            return self._threshold
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            return self._display(c, col, sort=role == SORT_ROLE)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(c, col)
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_RESULT:
            return QBrush(QColor(STATUS_COLOUR.get(c["status"], "#8a8f98")))
        if role == Qt.ItemDataRole.FontRole and col == COL_RESULT and c["status"] in ("fail", "error"):
            from PySide6.QtGui import QFont

            f = QFont()
            f.setBold(True)
            return f
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_RATE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _display(c: dict[str, Any], col: int, *, sort: bool) -> Any:
        if col == COL_SKILL:
            return c["skill"]
        if col == COL_PROMPT:
            return c["prompt"]
        if col == COL_EXPECT:
            return c["expect"]
        if col == COL_RATE:
            rate = c["trigger_rate"]
            if sort:
                return -1.0 if rate is None else float(rate)
            return "—" if rate is None else f"{c['triggered']}/{c['runs']}"
        if col == COL_SELECTED:
            return selected_text(c["selected"])
        if col == COL_RESULT:
            text = STATUS_TEXT.get(c["status"], c["status"])
            return text + (" · flaky" if c.get("flaky") else "")
        if col == COL_WHY:
            parts = [c.get("why") or ""]
            if c.get("errors"):
                parts.append("; ".join(dict.fromkeys(c["errors"])))
            return " — ".join(p for p in parts if p)
        return None

    def _tooltip(self, c: dict[str, Any], col: int) -> str | None:
        if col == COL_RATE and c["trigger_rate"] is not None:
            return (f"triggered {c['triggered']} of {c['runs']} runs (rate {c['trigger_rate']:.2f}); "
                    f"95% interval {c['wilson_low']:.2f}–{c['wilson_high']:.2f}; threshold {self._threshold:g}")
        if col == COL_SELECTED:
            runs = [f"run {i + 1}: {s or 'none'}" for i, s in enumerate(c["selected"])]
            cmds = [x for x in c.get("first_commands") or [] if x]
            if cmds:
                runs.append("first shell call: " + cmds[0])
            return "\n".join(runs)
        if col in (COL_PROMPT, COL_WHY):
            text = self._display(c, col, sort=False)
            return str(text) if text else None
        if col == COL_RESULT:
            if c["status"] == "error":
                return "A request still failed after its retries:\n" + "\n".join(dict.fromkeys(c["errors"]))
            if c["status"] == "not_run":
                return "Not run: the run was cancelled before this case finished."
            if c["status"] == "fail":
                want = "at least" if c["expect"] == "trigger" else "below"
                return f"Expected a trigger rate {want} {self._threshold:g}; got {c['trigger_rate']:.2f}."
        return None


class CaseFilter(QSortFilterProxyModel):
    """Rows to show: all, failures (fail or error), flaky; optionally one skill; plus a text search."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._mode = FILTER_ALL
        self._skill: str | None = None
        self._text = ""
        self.setSortRole(SORT_ROLE)

    def set_mode(self, mode: str) -> None:
        self.beginFilterChange()
        self._mode = mode
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_skill(self, skill: str | None) -> None:
        self.beginFilterChange()
        self._skill = skill or None
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._text = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:  # noqa: N802 - Qt API
        model = self.sourceModel()
        if not isinstance(model, TriggerResultsModel):
            return True
        c = model.case(source_row)
        if self._skill and c["skill"] != self._skill:
            return False
        if self._mode == FILTER_FAILURES and c["status"] not in ("fail", "error"):
            return False
        if self._mode == FILTER_FLAKY and not c.get("flaky"):
            return False
        if not self._text:
            return True
        return self._text in c["prompt"].lower() or self._text in (c.get("why") or "").lower()
