"""The Problems panel: the live validation result of the current skill, one row per problem.

Clicking (or Enter on) a row emits `sig_activated(problem)` (the window jumps to its line); a row
whose problem has a fix-it gets a Fix button that emits `sig_fix_requested(problem)`; its context menu
(right click or the Menu key) also offers "Preview Fix…", `sig_fix_preview_requested(problem)`.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skillstudio.bundle.problems import Problem
from skillstudio.ui.common.theme import load_icon

_ORDER = {"error": 0, "warning": 1, "info": 2}


def _std_icon(severity: str) -> QStyle.StandardPixmap:
    """The style's icon for a severity (looked up when needed: the enum class costs start-up time)."""
    names = {"error": "SP_MessageBoxCritical", "warning": "SP_MessageBoxWarning"}
    return getattr(QStyle.StandardPixmap, names.get(severity, "SP_MessageBoxInformation"))  # type: ignore[no-any-return]


class ProblemsPanel(QWidget):
    sig_activated = Signal(object)  # Problem
    sig_fix_requested = Signal(object)  # Problem
    sig_fix_preview_requested = Signal(object)  # Problem

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ProblemsPanel")
        self.problems: list[Problem] = []
        self.summary = QLabel("")
        self.summary.setObjectName("ProblemsSummary")
        self.summary.setContentsMargins(8, 4, 8, 4)
        self.tree = QTreeWidget()
        self.tree.setObjectName("problems_tree")
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["", "Problem", "Where", ""])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(False)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(3, 96)
        header.setStretchLastSection(False)
        self.tree.itemClicked.connect(self._on_item_activated)
        self.tree.itemActivated.connect(self._on_item_activated)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_context_menu)
        self.menu: QMenu | None = None  # the last context menu, kept for tests and the Menu key
        self.empty = QLabel("Open a SKILL.md to see its problems here.")
        self.empty.setObjectName("EmptyState")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.tree)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.summary)
        layout.addWidget(self.stack, 1)
        self.clear("Open a SKILL.md to see its problems here.")

    def clear(self, message: str) -> None:
        self.problems = []
        self.tree.clear()
        self.summary.setText("")
        self.summary.hide()
        self.empty.setText(message)
        self.stack.setCurrentWidget(self.empty)

    def set_problems(self, problems: list[Problem], subject: str = "", note: str = "") -> None:
        problems = sorted(problems, key=lambda p: (_ORDER.get(p.severity, 3), p.file, p.line or 0))
        if problems == self.problems and self.stack.currentWidget() is self.tree:
            return
        self.problems = problems
        errors, warnings, notes = self.counts()
        self.summary.setText(f"{subject}: {errors} error{'s' * (errors != 1)}, "
                             f"{warnings} warning{'s' * (warnings != 1)}"
                             + (f", {notes} note{'s' * (notes != 1)}" if notes else "")
                             + (f" — {note}" if note else ""))
        self.summary.show()
        self.tree.clear()
        if not problems:
            self.empty.setText(f"No problems in {subject or 'this skill'}: it is valid for every target "
                               "(openai, codex, claude).")
            self.stack.setCurrentWidget(self.empty)
            return
        self.stack.setCurrentWidget(self.tree)
        style = self.style()
        for p in problems:
            where = f"{p.file}:{p.line}" if p.line else p.file
            item = QTreeWidgetItem(["", p.message, where + (f"  [{p.target}]" if p.target else ""), ""])
            icon = load_icon(p.severity)
            fallback = _std_icon(p.severity)
            item.setIcon(0, icon if not icon.isNull() else style.standardIcon(fallback))
            item.setToolTip(1, f"{p.code}: {p.message}")
            item.setData(0, Qt.ItemDataRole.UserRole, p)
            if p.severity == "error":
                item.setForeground(1, QColor("#d9534f"))
            self.tree.addTopLevelItem(item)
            if p.fix:
                button = QPushButton("Fix")
                button.setObjectName("fix_button")
                button.setMinimumWidth(80)
                button.setStyleSheet("QPushButton { padding: 1px 10px; margin: 1px 6px 1px 2px; }")
                item.setSizeHint(3, QSize(96, max(26, button.sizeHint().height() + 2)))
                button.setToolTip(f"Apply fix-it '{p.fix}' (undo with Ctrl+Z)")
                button.setProperty("problem_index", self.tree.indexOfTopLevelItem(item))
                button.clicked.connect(self._on_fix_clicked)
                self.tree.setItemWidget(item, 3, button)

    def counts(self) -> tuple[int, int, int]:
        """(errors, warnings, notes) of the problems shown; the tab title and the summary both use it."""
        errors = sum(p.severity == "error" for p in self.problems)
        warnings = sum(p.severity == "warning" for p in self.problems)
        return errors, warnings, len(self.problems) - errors - warnings

    def fix_buttons(self) -> list[QPushButton]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            w = self.tree.itemWidget(item, 3) if item is not None else None
            if isinstance(w, QPushButton):
                out.append(w)
        return out

    def selected_problem(self) -> Problem | None:
        """The problem of the current row; None when no row is current."""
        item = self.tree.currentItem()
        p = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        return p if isinstance(p, Problem) else None

    @Slot(QPoint)
    def _on_context_menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos) or self.tree.currentItem()
        p = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        if item is None or not isinstance(p, Problem) or not p.fix:
            return
        self.tree.setCurrentItem(item)
        menu = QMenu(self)
        menu.addAction("Fix", self._emit_fix)
        menu.addAction("Preview Fix…", self._emit_preview)
        self.menu = menu
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    @Slot()
    def _emit_fix(self) -> None:
        p = self.selected_problem()
        if p is not None:
            self.sig_fix_requested.emit(p)

    @Slot()
    def _emit_preview(self) -> None:
        p = self.selected_problem()
        if p is not None:
            self.sig_fix_preview_requested.emit(p)

    @Slot(QTreeWidgetItem, int)
    def _on_item_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        p = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(p, Problem):
            self.sig_activated.emit(p)

    @Slot()
    def _on_fix_clicked(self) -> None:
        button = self.sender()
        index = button.property("problem_index") if button is not None else None
        if isinstance(index, int) and 0 <= index < len(self.problems):
            self.sig_fix_requested.emit(self.problems[index])

    def activate_next(self, after_line: int, file: str = "SKILL.md") -> Problem | None:
        """F8: the first problem below `after_line` (wrapping), selected and emitted."""
        located = [i for i, p in enumerate(self.problems) if p.line and p.file == file]
        if not located:
            located = list(range(len(self.problems)))
        if not located:
            return None
        pick = next((i for i in located if (self.problems[i].line or 0) > after_line), located[0])
        item = self.tree.topLevelItem(pick)
        if item is not None:
            self.tree.setCurrentItem(item)
        self.sig_activated.emit(self.problems[pick])
        return self.problems[pick]
