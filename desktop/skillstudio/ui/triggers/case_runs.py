"""A case expanded into its runs: what each run selected, how it decided, and the path it took.

Shown under the trigger results table for the current case. Each run is a top-level row (the skill
it read, "direct" / "after exploring (N turns)" / "read another skill first" / "answered" /
"undecided", its model turns); expanding it lists the trajectory: every exploring command with
the first lines of what the sandbox returned, then the read or the answer. Runs saved before
trajectories existed say "first-call rule". Qt only; it renders the report's `CaseResult`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QWidget

if TYPE_CHECKING:
    from skillstudio.services.trigger_runs import CaseResult

COLUMNS = ["Run / step", "Skill read", "How it decided", "Output"]


def _first_lines(text: str, n: int = 3, width: int = 160) -> str:
    lines = [ln[:width] for ln in (text or "").splitlines() if ln.strip()][:n]
    return " ⏎ ".join(lines)


class CaseRunsView(QTreeWidget):
    """The runs of one case (a report's CaseResult), each expandable into its trajectory."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("case_runs")
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(COLUMNS)
        self.setAlternatingRowColors(True)
        self.setUniformRowHeights(True)
        self.setToolTip("The runs of the selected case; expand a run to see the commands it ran before deciding")
        self.case: CaseResult | None = None
        self.set_case(None)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        """Modest by default: the results table above keeps most of the height."""
        return QSize(600, 170)

    def set_case(self, case: CaseResult | None) -> None:
        self.clear()
        self.case = case
        if not case:
            self.setHeaderLabels(["Select a case above to see its runs", "", "", ""])
            return
        if case.status == "explicit_only":  # never sent to a model: there are no runs to show
            self.setHeaderLabels([f"Not run: explicit-only skill ({case.explicit_only or 'declared'})",
                                  "", "", ""])
            return
        self.setHeaderLabels(COLUMNS)
        labels = case.run_labels()
        selected = case.selected
        turns = case.turns or [None] * len(selected)
        paths = case.trajectories or [[] for _ in selected]
        status = case.run_status or ["ok"] * len(selected)
        for n, sel in enumerate(selected):
            st = status[n] if n < len(status) else "ok"
            how = {"error": "error", "not_run": "not run"}.get(st, labels[n] if n < len(labels) else "—")
            t = turns[n] if n < len(turns) else None
            run = QTreeWidgetItem([f"Run {n + 1}" + (f" · {t} turn{'s' if t != 1 else ''}" if t else ""),
                                   sel or "none", how, ""])
            for step in paths[n] if n < len(paths) else []:
                kind = str(step.get("kind", ""))
                cmd = " && ".join(step.get("commands") or []) or ("(answered in text)" if kind == "answer" else "")
                child = QTreeWidgetItem([f"turn {step.get('turn', '?')} · {kind}", step.get("skill") or "", cmd,
                                         _first_lines(str(step.get("output") or ""))])
                child.setToolTip(3, str(step.get("output") or ""))
                child.setToolTip(2, cmd)
                run.addChild(child)
            self.addTopLevelItem(run)
        if self.topLevelItemCount() <= 3:
            self.expandAll()
        for col in range(3):
            self.resizeColumnToContents(col)
