"""skills.lock and routes.yaml: the approved versions and which workflow runs which skill@version.

A route whose skill or version is not approved in the lock is marked, and its snippets are refused
(the core raises a clear error). "Copy Python snippet" puts ready-to-run Responses API code for the
selected route on the clipboard, pinned to the locked version (skillstudio.release.snippets).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skillstudio.errors import SkillStudioError
from skillstudio.release import lockfile, snippets
from skillstudio.ui.common.theme import ERROR_STYLE, OK_STYLE


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setStretchLastSection(True)
    return t


class LockView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Path | None = None
        self.lock_table = _table(["Skill", "Version", "Digest", "Signers", "Published at"])
        self.routes_table = _table(["Route", "Skill@version", "Status"])
        self.local_btn = QPushButton("Copy Python snippet (local)")
        self.hosted_btn = QPushButton("Copy Python snippet (hosted)")
        self.reload_btn = QPushButton("Reload")
        self.local_btn.clicked.connect(self._on_copy_local)
        self.hosted_btn.clicked.connect(self._on_copy_hosted)
        self.reload_btn.clicked.connect(self.reload)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.local_btn)
        buttons.addWidget(self.hosted_btn)
        buttons.addStretch(1)
        buttons.addWidget(self.reload_btn)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"<b>{lockfile.LOCK_NAME}</b> — approved versions"))
        lay.addWidget(self.lock_table, 2)
        lay.addWidget(QLabel(f"<b>{lockfile.ROUTES_NAME}</b> — routes"))
        lay.addWidget(self.routes_table, 1)
        lay.addLayout(buttons)
        lay.addWidget(self.status)
        self.set_workspace(None)

    def shutdown(self) -> None:
        """Nothing runs in the background here (the shell calls this on every panel)."""

    def set_workspace(self, path: Path | None) -> None:
        self.workspace = Path(path) if path else None
        self.reload()

    @Slot()
    def reload(self) -> None:
        self.lock_table.setRowCount(0)
        self.routes_table.setRowCount(0)
        if self.workspace is None:
            self._say("No workspace open.")
            self._sync()
            return
        try:
            lock = lockfile.load_lock(self.workspace)
            routes = lockfile.load_routes(self.workspace)
        except SkillStudioError as exc:
            self._say(str(exc), ERROR_STYLE)
            self._sync()
            return
        for row, (name, e) in enumerate(sorted(lock.items())):
            self.lock_table.insertRow(row)
            openai = f"openai:{e.openai['skill_id']}@{e.openai.get('version', '')}" if e.openai.get("skill_id") else ""
            cells = [name, e.version, e.digest[:19] + "…", ", ".join(k[:16] for k in e.signers),
                     ", ".join([*e.sources, openai] if openai and openai not in e.sources else e.sources)]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(e.digest if col == 2 else text)
                self.lock_table.setItem(row, col, item)
        for row, (route, (skill, version)) in enumerate(sorted(routes.items())):
            self.routes_table.insertRow(row)
            approved = lock.get(skill)
            if approved is None:
                status = f"not in {lockfile.LOCK_NAME}"
            elif version and version != approved.version:
                status = f"approved is {approved.version}"
            else:
                status = "approved"
            item = QTableWidgetItem(route)
            item.setData(Qt.ItemDataRole.UserRole, route)
            self.routes_table.setItem(row, 0, item)
            self.routes_table.setItem(row, 1, QTableWidgetItem(f"{skill}@{version or '(any)'}"))
            st = QTableWidgetItem(status)
            if status != "approved":
                st.setForeground(QColor("#b3261e"))
            self.routes_table.setItem(row, 2, st)
        for t in (self.lock_table, self.routes_table):
            for col in range(t.columnCount() - 1):  # the last column stretches (long refs elide, full in tooltip)
                t.resizeColumnToContents(col)
        if routes:
            self.routes_table.selectRow(0)
        self._say(f"{len(lock)} approved skill(s), {len(routes)} route(s)." if lock or routes else
                  f"No {lockfile.LOCK_NAME} or {lockfile.ROUTES_NAME} yet: export with “Record in skills.lock”.")
        self._sync()

    def selected_route(self) -> str | None:
        row = self.routes_table.currentRow()
        item = self.routes_table.item(row, 0) if row >= 0 else None
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    @Slot()
    def _on_copy_local(self) -> None:
        self._copy(hosted=False)

    @Slot()
    def _on_copy_hosted(self) -> None:
        self._copy(hosted=True)

    def _copy(self, *, hosted: bool) -> None:
        route = self.selected_route()
        if self.workspace is None or route is None:
            self._say("Select a route first.", ERROR_STYLE)
            return
        try:
            code = (snippets.hosted if hosted else snippets.local)(self.workspace, route)
        except SkillStudioError as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        QApplication.clipboard().setText(code)
        self._say(f"Copied the {'hosted' if hosted else 'local'} Python snippet for route {route}.", OK_STYLE)

    def _sync(self) -> None:
        has_routes = self.routes_table.rowCount() > 0
        self.local_btn.setEnabled(has_routes)
        self.hosted_btn.setEnabled(has_routes)

    def _say(self, text: str, style: str = "") -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)
