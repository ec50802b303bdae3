"""The Qt table model of a skill's trigger cases, with every change going through a QUndoStack.

Rows are `CaseRow`s rather than `TriggerCase`s so that a freshly added row may have an empty prompt
while the user types it; `TriggerCase` (which requires a prompt) is built only when saving. Unknown
per-case keys (`extra`) ride along untouched so saving never drops what another tool wrote.

Public mutators (`set_cell`, `insert_cases`, `remove_rows`, `move_row`) push undo commands; the
commands call the private `_do_*` methods, which are the only places that change `_rows`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QUndoCommand, QUndoStack

from skillstudio.bundle.triggers import TriggerCase, extra_fields
from skillstudio.ui.triggers.last_results import LastResult

COL_PROMPT, COL_EXPECT, COL_WHY, COL_LAST = 0, 1, 2, 3
HEADERS = ("Prompt", "Expect", "Why (optional)", "Last run")  # the last is read-only: see set_results
EXPECT_VALUES = ("trigger", "no_trigger")
_FIELDS = ("prompt", "expect", "why")

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class CaseRow:
    prompt: str
    expect: str = "trigger"
    why: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_case(cls, case: TriggerCase) -> CaseRow:
        return cls(case.prompt, case.expect, case.why or "", extra_fields(case))  # route_to, files, … kept

    def to_case(self) -> TriggerCase:
        return TriggerCase(prompt=self.prompt, expect=self.expect,
                           why=self.why.strip() or None, **self.extra)


class _SetCell(QUndoCommand):
    def __init__(self, model: CasesModel, row: int, column: int, old: str, new: str) -> None:
        super().__init__(f"edit {HEADERS[column].split()[0].lower()}")
        self.model, self.row, self.column, self.old, self.new = model, row, column, old, new

    def redo(self) -> None:
        self.model._do_set(self.row, self.column, self.new)

    def undo(self) -> None:
        self.model._do_set(self.row, self.column, self.old)


class _Insert(QUndoCommand):
    def __init__(self, model: CasesModel, row: int, rows: list[CaseRow], text: str) -> None:
        super().__init__(text)
        self.model, self.row, self.rows = model, row, rows

    def redo(self) -> None:
        self.model._do_insert(self.row, self.rows)

    def undo(self) -> None:
        self.model._do_remove(self.row, len(self.rows))


class _Remove(QUndoCommand):
    """Removes possibly scattered rows; undo puts each back where it was."""

    def __init__(self, model: CasesModel, rows: list[int]) -> None:
        super().__init__(f"remove {len(rows)} case{'s' if len(rows) != 1 else ''}")
        self.model = model
        self.saved = [(r, model.row(r)) for r in sorted(rows)]

    def redo(self) -> None:
        for r, _ in reversed(self.saved):
            self.model._do_remove(r, 1)

    def undo(self) -> None:
        for r, data in self.saved:
            self.model._do_insert(r, [data])


class _Move(QUndoCommand):
    def __init__(self, model: CasesModel, src: int, dst: int) -> None:
        super().__init__("move case")
        self.model, self.src, self.dst = model, src, dst

    def redo(self) -> None:
        self.model._do_move(self.src, self.dst)

    def undo(self) -> None:
        self.model._do_move(self.dst, self.src)


class CasesModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[CaseRow] = []
        self._results: dict[tuple[str, str], LastResult] = {}  # (prompt, expect) -> the last run's verdict
        self.undo_stack = QUndoStack(self)

    # ------------------------------------------------------------------ reading
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section] if orientation == Qt.Orientation.Horizontal else str(section + 1)
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.column() == COL_LAST:
            return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, col = self._rows[index.row()], index.column()
        if col == COL_LAST:
            return self._last_data(row, role)
        value = getattr(row, _FIELDS[col])
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return value
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_PROMPT and not row.prompt.strip():
                return "Empty prompt: type the user's request, or remove this row."
            if col == COL_EXPECT:
                return ("The skill must be chosen for this prompt" if row.expect == "trigger"
                        else "The skill must NOT be chosen for this prompt (a near miss)")
            return value or None
        if role == Qt.ItemDataRole.ForegroundRole and col == COL_EXPECT:
            return QBrush(QColor("#1f8a4c" if row.expect == "trigger" else "#c0562b"))
        if role == Qt.ItemDataRole.BackgroundRole and col == COL_PROMPT and not row.prompt.strip():
            return QBrush(QColor(220, 60, 60, 60))
        return None

    def _last_data(self, row: CaseRow, role: int) -> Any:
        result = self._results.get((row.prompt, row.expect))
        if role == Qt.ItemDataRole.DisplayRole:
            return result.text() if result is not None else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return result.tooltip() if result is not None else "Not in the last run (new or edited since)"
        if role == Qt.ItemDataRole.ForegroundRole and result is not None and result.status in ("pass", "fail"):
            return QBrush(QColor("#1f8a4c" if result.status == "pass" else "#c0392b"))
        return None

    def result(self, r: int) -> LastResult | None:
        """The last run's verdict on row `r` (None: the case was not in it)."""
        row = self._rows[r]
        return self._results.get((row.prompt, row.expect))

    def set_results(self, results: dict[tuple[str, str], LastResult]) -> None:
        """Show a run's verdicts beside the cases (not an edit: no undo step, not dirty)."""
        self._results = dict(results)
        if self._rows:
            self.dataChanged.emit(self.index(0, COL_LAST), self.index(len(self._rows) - 1, COL_LAST))

    def row(self, r: int) -> CaseRow:
        return self._rows[r]

    def rows(self) -> list[CaseRow]:
        return list(self._rows)

    def counts(self) -> tuple[int, int]:
        trig = sum(1 for r in self._rows if r.expect == "trigger")
        return trig, len(self._rows) - trig

    def empty_prompt_rows(self) -> list[int]:
        return [i for i, r in enumerate(self._rows) if not r.prompt.strip()]

    # --------------------------------------------------------- undoable changes
    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        return self.set_cell(index.row(), index.column(), "" if value is None else str(value))

    def set_cell(self, r: int, column: int, value: str) -> bool:
        if column == COL_LAST:
            return False
        if column == COL_EXPECT and value not in EXPECT_VALUES:
            return False
        if column in (COL_PROMPT, COL_WHY):
            value = value.strip()
        old = getattr(self._rows[r], _FIELDS[column])
        if old == value:
            return True
        self.undo_stack.push(_SetCell(self, r, column, old, value))
        return True

    def set_expect(self, rows: list[int], expect: str) -> None:
        """Set `expect` on many rows as one undo step."""
        todo = [r for r in rows if 0 <= r < len(self._rows) and self._rows[r].expect != expect]
        if not todo or expect not in EXPECT_VALUES:
            return
        self.undo_stack.beginMacro(f"mark {len(todo)} case{'s' if len(todo) != 1 else ''} {expect}")
        for r in todo:
            self.set_cell(r, COL_EXPECT, expect)
        self.undo_stack.endMacro()

    def insert_cases(self, r: int, rows: list[CaseRow], text: str = "add case") -> None:
        if rows:
            self.undo_stack.push(_Insert(self, r, list(rows), text))

    def remove_rows(self, rows: list[int]) -> None:
        rows = sorted({r for r in rows if 0 <= r < len(self._rows)})
        if rows:
            self.undo_stack.push(_Remove(self, rows))

    def move_row(self, src: int, dst: int) -> bool:
        if src == dst or not (0 <= src < len(self._rows) and 0 <= dst < len(self._rows)):
            return False
        self.undo_stack.push(_Move(self, src, dst))
        return True

    def reset_rows(self, rows: list[CaseRow]) -> None:
        """Replace everything (loading a file): not undoable, clears the undo history."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()
        self.undo_stack.clear()
        self.undo_stack.setClean()

    # ------------------------------------------------ the only writers of _rows
    def _do_set(self, r: int, column: int, value: str) -> None:
        changes: dict[str, Any] = {_FIELDS[column]: value}
        self._rows[r] = replace(self._rows[r], **changes)
        idx = self.index(r, column)
        self.dataChanged.emit(idx, idx)
        if column == COL_PROMPT:  # background/tooltip of an empty prompt
            self.dataChanged.emit(self.index(r, 0), self.index(r, len(HEADERS) - 1))

    def _do_insert(self, r: int, rows: list[CaseRow]) -> None:
        self.beginInsertRows(QModelIndex(), r, r + len(rows) - 1)
        self._rows[r:r] = rows
        self.endInsertRows()

    def _do_remove(self, r: int, count: int) -> None:
        self.beginRemoveRows(QModelIndex(), r, r + count - 1)
        del self._rows[r:r + count]
        self.endRemoveRows()

    def _do_move(self, src: int, dst: int) -> None:
        # Qt's destination index counts positions before the move
        qt_dst = dst + 1 if dst > src else dst
        self.beginMoveRows(QModelIndex(), src, src, QModelIndex(), qt_dst)
        self._rows.insert(dst, self._rows.pop(src))
        self.endMoveRows()
