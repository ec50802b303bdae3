"""The confusion matrix across skills as a heat map: which skill was *expected* vs which was *selected*.

Rows are what each case expected (its skill for a trigger case, the case's `route_to` for a
near-miss that names where it belongs, else "none" for a no_trigger case); columns are what every
run actually selected ("none" = no skill read). Cells are shaded by their share of the row: the
diagonal in green (right), everything else in red (a skill stealing another's prompts, or firing
when none should). Runs of near-misses that went to another skill than their `route_to` are
*misrouted*: such a cell is red wherever it is and shows "↷n". Clicking a cell emits its cases
(`sig_cell_activated`) so the panel can filter the results table to them. Numbers come straight
from the report (`evals.metrics.confusion_cells` rebuilds the cell → cases map from its cases).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QBrush, QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from skillstudio.services.trigger_runs import Confusion, Summary, TriggerReport

Index = QModelIndex | QPersistentModelIndex
MISROUTED_MARK = "↷"
GOOD = QColor(46, 139, 74)
BAD = QColor(208, 56, 43)
NEUTRAL = QColor(63, 110, 190)  # the "none" row: a no_trigger case may rightly go to another skill


def _blend(colour: QColor, strength: float, base: QColor) -> QColor:
    """`colour` over the table's `base` at `strength` (0..1): opaque, so text contrast can be computed,
    and an empty cell is the theme's own background (light or dark), never a white hole."""
    s = max(0.0, min(1.0, strength))
    return QColor(round(base.red() + (colour.red() - base.red()) * s),
                  round(base.green() + (colour.green() - base.green()) * s),
                  round(base.blue() + (colour.blue() - base.blue()) * s))


def _text_on(bg: QColor) -> QColor:
    luminance = 0.2126 * bg.redF() + 0.7152 * bg.greenF() + 0.0722 * bg.blueF()
    return QColor("#111111") if luminance > 0.55 else QColor("#ffffff")


class ConfusionModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[str] = []
        self._cols: list[str] = []
        self._m: list[list[int]] = []
        self._cells: dict[tuple[str, str], dict[str, Any]] = {}

    def set_confusion(self, confusion: Confusion | None,
                      cells: dict[tuple[str, str], dict[str, Any]] | None = None) -> None:
        self.beginResetModel()
        if confusion:
            self._rows, self._cols = list(confusion.rows), list(confusion.labels)
            self._m = [list(r) for r in confusion.matrix]
        else:
            self._rows, self._cols, self._m = [], [], []
        self._cells = dict(cells or {})
        self.endResetModel()

    def value(self, row: int, col: int) -> int:
        return self._m[row][col]

    def names(self, row: int, col: int) -> tuple[str, str]:
        """(expected, selected) of a cell."""
        return self._rows[row], self._cols[col]

    def cell(self, row: int, col: int) -> dict[str, Any]:
        """The cases behind a cell (positions in the report) and its misrouted runs."""
        return self._cells.get(self.names(row, col), {"cases": [], "runs": 0, "misrouted": 0})

    def misrouted(self, row: int, col: int) -> int:
        return int(self.cell(row, col)["misrouted"])

    def total(self) -> int:
        return sum(map(sum, self._m))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt API
        return 0 if parent.isValid() else len(self._cols)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        names = self._cols if orientation == Qt.Orientation.Horizontal else self._rows
        if role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(names):
            return names[section]
        if role == Qt.ItemDataRole.ToolTipRole and 0 <= section < len(names):
            if orientation == Qt.Orientation.Horizontal:
                return f"selected: {names[section]}"
            return "expected: " + ("no skill (no_trigger cases)" if names[section] == "none" else names[section])
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        v = self._m[r][c]
        row_sum = sum(self._m[r]) or 1
        share = v / row_sum
        diagonal = self._rows[r] == self._cols[c]
        misrouted = self.misrouted(r, c) if v else 0
        if role == Qt.ItemDataRole.DisplayRole:
            return (f"{v}  {MISROUTED_MARK}{misrouted}" if misrouted else str(v)) if v else ""
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            hue = GOOD if diagonal else BAD if misrouted else NEUTRAL if self._rows[r] == "none" else BAD
            base = QApplication.palette().color(QPalette.ColorRole.Base)
            bg = _blend(hue, 0.15 + 0.75 * share if v else 0.0, base)
            if not v and role == Qt.ItemDataRole.BackgroundRole:
                return None  # the view's own background
            return QBrush(bg if role == Qt.ItemDataRole.BackgroundRole else _text_on(bg))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.FontRole and v and not diagonal and (self._rows[r] != "none" or misrouted):
            f = QFont()
            f.setBold(True)
            return f
        if role == Qt.ItemDataRole.ToolTipRole:
            exp = "no skill" if self._rows[r] == "none" else self._rows[r]
            sel = "no skill" if self._cols[c] == "none" else self._cols[c]
            tip = f"expected {exp}, selected {sel}: {v} run(s), {share:.0%} of the row"
            if misrouted:
                tip += (f"\n{misrouted} misrouted near-miss run(s): the case's route_to names "
                        f"{exp if exp != 'no skill' else 'no skill at all'}")
            if v:
                n = len(self.cell(r, c)["cases"])
                tip += f"\nClick to see {'this case' if n == 1 else f'these {n} cases'} in the Results tab"
            return tip
        return None


class ConfusionView(QWidget):
    """Heat map plus a one-line legend; empty until a run has finished. A click on a cell asks for its cases."""

    sig_cell_activated = Signal(str, str, object)  # expected, selected, positions of its cases in the report

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ConfusionModel(self)
        self.table = QTableView()
        self.table.setObjectName("confusion_table")
        self.table.setModel(self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(True)
        self.table.setCornerButtonEnabled(False)
        self.table.clicked.connect(self._on_clicked)
        self.table.activated.connect(self._on_clicked)  # Enter on a cell, for the keyboard
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setMinimumSectionSize(96)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(34)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setObjectName("confusion_legend")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.addWidget(self.legend)
        lay.addWidget(self.table, 1)
        self.set_confusion(None)

    def set_report(self, report: TriggerReport | None) -> None:
        """Show a report's matrix, with the cases behind every cell (for misrouted runs and drill-down)."""
        confusion = report.confusion if report else None
        self.set_confusion(confusion, report.confusion_cells() if report else None,
                           report.summary if report else None)

    def set_confusion(self, confusion: Confusion | None,
                      cells: dict[tuple[str, str], dict[str, Any]] | None = None,
                      summary: Summary | None = None) -> None:
        self.model.set_confusion(confusion, cells)
        if confusion is None or not self.model.total():
            self.legend.setText("No runs yet. Run the trigger cases (Ctrl+R) to see which skill each "
                                "expected skill's prompts actually reached.")
            return
        text = ("<b>Rows:</b> the expected skill (a near-miss's <i>route_to</i>; <i>none</i> = a no_trigger "
                "case). <b>Columns:</b> the skill selected in each run (<i>none</i> = no skill read). "
                "Green diagonal = right; red = a skill taking another skill's prompts or missing them. "
                "Blue <i>none</i> row = no_trigger cases: some rightly go to another skill. "
                "Shade = share of the row. <b>Click a cell</b> to see its cases.")
        if summary is not None and summary.routed_cases:
            text += (f"<br><b>{MISROUTED_MARK}n</b> = misrouted near-misses (the case's route_to names another "
                     f"destination): {summary.misrouted_runs} run(s) in {summary.misrouted_cases} of "
                     f"{summary.routed_cases} routed case(s) misrouted.")
        self.legend.setText(text)

    @Slot(QModelIndex)
    def _on_clicked(self, index: QModelIndex) -> None:
        if not index.isValid() or not self.model.value(index.row(), index.column()):
            return
        expected, selected = self.model.names(index.row(), index.column())
        self.sig_cell_activated.emit(expected, selected, list(self.model.cell(index.row(), index.column())["cases"]))
