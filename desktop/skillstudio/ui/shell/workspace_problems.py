"""Problems of every skill of the workspace, computed in the background, with badges in the tree.

When a workspace (re)loads, one worker validates all its skills (`bundle.validate.validate_workspace`,
the workspace-wide checks computed once — a 2,000-skill repository included) and the results come
back here: each skill in the tree gets an error or warning badge, and the "All Problems" dock lists
every problem grouped by skill (double-click or Enter opens the file at the line). While a SKILL.md
is edited, its live check result replaces that skill's entry, so the two never disagree. A newer
load cancels the running one; results of an older workspace are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHeaderView, QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from skillstudio.bundle.problems import Problem
from skillstudio.cancel import CancelToken
from skillstudio.errors import Cancelled
from skillstudio.ui.common.empty_hint import set_empty_hint
from skillstudio.ui.common.theme import load_icon
from skillstudio.ui.common.workers import WorkerPool

if TYPE_CHECKING:
    from skillstudio.bundle.workspace import Workspace

ROLE_PROBLEM = Qt.ItemDataRole.UserRole
ROLE_SKILL = Qt.ItemDataRole.UserRole + 1


def _validate_job(ws: Workspace, token: CancelToken, _progress: object) -> dict[Path, list[Problem]]:
    """Worker side: every skill's problems (never touches a widget)."""
    from skillstudio.bundle.validate import validate_workspace

    if token.cancelled:
        raise Cancelled()
    results = validate_workspace(ws.skills)
    if token.cancelled:
        raise Cancelled()
    return {s.path: problems for s, problems in zip(ws.skills, results, strict=True)}


def counts(problems: list[Problem]) -> tuple[int, int]:
    return (sum(p.severity == "error" for p in problems), sum(p.severity == "warning" for p in problems))


class WorkspaceProblemsView(QWidget):
    """Every problem of the workspace, grouped by skill."""

    sig_open = Signal(object, object)  # skill dir (Path), Problem

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WorkspaceProblems")
        self.summary = QLabel("Problems of every skill appear here when a workspace opens.")
        self.summary.setObjectName("WorkspaceProblemsSummary")
        self.summary.setContentsMargins(8, 4, 8, 4)
        self.tree = QTreeWidget()
        self.tree.setObjectName("workspace_problems_tree")
        self.tree.setHeaderLabels(["Problem", "Where"])
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        set_empty_hint(self.tree, "No errors or warnings in any skill of this workspace. Problems of every "
                                  "skill appear here, with a badge on the skill in the tree.")
        self.tree.itemActivated.connect(self._on_activated)
        self.tree.itemDoubleClicked.connect(self._on_activated)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.summary)
        lay.addWidget(self.tree, 1)

    def show_results(self, results: dict[Path, list[Problem]], busy: bool = False) -> None:
        self.tree.clear()
        errors = warnings = 0
        for skill_dir in sorted(results, key=lambda p: p.name):
            problems = [p for p in results[skill_dir] if p.severity != "info"]
            if not problems:
                continue
            e, w = counts(problems)
            errors, warnings = errors + e, warnings + w
            head = QTreeWidgetItem([f"{skill_dir.name} — {e} error{'s' * (e != 1)}, {w} warning{'s' * (w != 1)}",
                                    str(skill_dir)])
            head.setData(0, ROLE_SKILL, skill_dir)
            head.setIcon(0, load_icon("error" if e else "warning"))
            for p in problems:
                where = f"{p.file}:{p.line}" if p.line else p.file
                row = QTreeWidgetItem([p.message, where])
                row.setData(0, ROLE_PROBLEM, p)
                row.setData(0, ROLE_SKILL, skill_dir)
                row.setIcon(0, load_icon(p.severity))
                row.setToolTip(0, f"{p.code}: {p.message}")
                if p.severity == "error":
                    row.setForeground(0, QColor("#d9534f"))
                head.addChild(row)
            self.tree.addTopLevelItem(head)
            head.setExpanded(e > 0)
        n = len(results)
        state = " (checking…)" if busy else ""
        self.summary.setText(f"{n} skill{'s' * (n != 1)}: {errors} error{'s' * (errors != 1)}, "
                             f"{warnings} warning{'s' * (warnings != 1)}{state}")

    @Slot(QTreeWidgetItem, int)
    def _on_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        problem, skill = item.data(0, ROLE_PROBLEM), item.data(0, ROLE_SKILL)
        if isinstance(skill, Path):
            self.sig_open.emit(skill, problem if isinstance(problem, Problem) else None)


class WorkspaceProblems(QObject):
    """Runs the background check and keeps the view and the tree badges up to date."""

    sig_updated = Signal()

    def __init__(self, pool: WorkerPool, view: WorkspaceProblemsView | None,
                 set_badge: Callable[[Path, int, int], None],
                 when_painted: Callable[[Callable[[], object]], None] | None = None) -> None:
        super().__init__(pool)
        self.pool = pool
        # validation waits for the window's first paint: it must never delay the window showing up
        self._when_painted = when_painted or (lambda fn: fn())
        self.view = view
        self._set_badge = set_badge
        self.results: dict[Path, list[Problem]] = {}
        self.root: Path | None = None
        self._job: int | None = None
        self._token: CancelToken | None = None
        self._pending: Workspace | None = None
        self._stopped = False  # the window closed: nothing more is started

    @property
    def busy(self) -> bool:
        return self._job is not None or self._pending is not None

    @Slot(object)
    def on_workspace_loaded(self, ws: object) -> None:
        from skillstudio.bundle.workspace import Workspace

        if not isinstance(ws, Workspace):
            return
        if self._token is not None:
            self._token.cancel()
        if ws.root != self.root:
            self.results = {}
        self.root = ws.root
        self._show(busy=True)
        self._pending = ws
        self._when_painted(self._start)

    def _start(self) -> None:
        ws, self._pending = self._pending, None
        if ws is None or ws.root != self.root or self._stopped:
            return
        self._job, self._token = self.pool.submit(partial(_validate_job, ws), on_result=self._on_result,
                                                  on_error=self._on_error)

    @Slot(int, object)
    def _on_result(self, job: int, results: object) -> None:
        if job != self._job or not isinstance(results, dict):
            return
        self._job, self._token = None, None
        self.results = dict(results)
        self._show_all()

    @Slot(int, str)
    def _on_error(self, job: int, message: str) -> None:
        if job == self._job:
            self._job, self._token = None, None
            if self.view is not None:
                self.view.summary.setText(f"Could not check the workspace: {message}")

    def update_skill(self, skill_dir: Path, problems: list[Problem]) -> None:
        """A live check of an open SKILL.md: its problems replace the skill's entry."""
        if self.root is None or not skill_dir.resolve().is_relative_to(self.root.resolve()):
            return
        key = next((k for k in self.results if k.resolve() == skill_dir.resolve()), skill_dir)
        if self.results.get(key) == problems:
            return
        self.results[key] = list(problems)
        self._set_badge(key, *counts(problems))
        self._show(busy=self.busy)
        self.sig_updated.emit()

    def _show_all(self) -> None:
        for skill_dir, problems in self.results.items():
            self._set_badge(skill_dir, *counts(problems))
        self._show()
        self.sig_updated.emit()

    def attach(self, view: WorkspaceProblemsView) -> None:
        """The view, once built: it shows what is known so far."""
        self.view = view
        self._show(busy=self.busy)

    def _show(self, busy: bool = False) -> None:
        if self.view is not None:
            self.view.show_results(self.results, busy=busy)

    def shutdown(self) -> None:
        self._stopped = True
        self._pending = None
        if self._token is not None:
            self._token.cancel()
