"""Ctrl+Shift+F: find text in every file of the workspace.

The search runs on a worker (text files only, each at most MAX_BYTES, at most MAX_HITS matches) and
the results come back grouped by file; Enter or a double-click opens the file at the line with the
match selected. A new search cancels the running one. Plain text (case-insensitive unless "Aa") or a
regular expression (".*"); a bad expression is said under the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skillstudio.cancel import CancelToken
from skillstudio.errors import Cancelled
from skillstudio.ui.common.empty_hint import set_empty_hint
from skillstudio.ui.common.workers import WorkerPool

MAX_BYTES = 2_000_000
MAX_HITS = 2_000
ROLE_HIT = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class Hit:
    rel: str  # workspace-relative path
    line: int  # 1-based
    start: int  # column of the match in the line (Python offsets)
    end: int
    text: str  # the line


def search_workspace(root: Path, rx: re.Pattern[str], token: CancelToken, _progress: object) -> list[Hit]:
    """Worker side: every match in the workspace's text files (never touches a widget)."""
    from skillstudio.ui.shell.quick_open import workspace_files

    hits: list[Hit] = []
    for rel in workspace_files(root):
        if token.cancelled:
            raise Cancelled()
        path = root / rel
        try:
            if path.stat().st_size > MAX_BYTES:
                continue
            raw = path.read_bytes()
        except OSError:
            continue
        if b"\0" in raw[:4096]:
            continue
        text = raw.decode("utf-8", errors="replace")
        for n, line in enumerate(text.splitlines(), start=1):
            for m in rx.finditer(line):
                if m.end() > m.start():
                    hits.append(Hit(rel, n, m.start(), m.end(), line))
                    if len(hits) >= MAX_HITS:
                        return hits
    return hits


class FindInFiles(QWidget):
    sig_open = Signal(object, int, int, int)  # Path, line, start column, end column

    def __init__(self, pool: WorkerPool, root: Callable[[], Path | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FindInFiles")
        self.pool = pool
        self._root = root
        self._job: int | None = None
        self._token: CancelToken | None = None
        self.hits: list[Hit] = []
        self.query = QLineEdit()
        self.query.setObjectName("find_in_files_query")
        self.query.setPlaceholderText("Find in workspace (Enter)")
        self.query.setAccessibleName("Find in workspace")
        self.query.setClearButtonEnabled(True)
        self.query.returnPressed.connect(self.search)
        self.case = QToolButton()
        self.case.setText("Aa")
        self.case.setToolTip("Match case")
        self.case.setCheckable(True)
        self.regex = QToolButton()
        self.regex.setText(".*")
        self.regex.setToolTip("Regular expression")
        self.regex.setCheckable(True)
        self.status = QLabel("")
        self.status.setObjectName("find_in_files_status")
        self.status.setWordWrap(True)
        self.results = QTreeWidget()
        self.results.setObjectName("find_in_files_results")
        self.results.setHeaderHidden(True)
        self.results.setColumnCount(1)
        self.results.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.results.itemActivated.connect(self._open_item)
        self.results.itemDoubleClicked.connect(self._open_item)
        set_empty_hint(self.results, "Type text and press Enter to find it in every file of the workspace.")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.query, 1)
        row.addWidget(self.case)
        row.addWidget(self.regex)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(row)
        lay.addWidget(self.status)
        lay.addWidget(self.results, 1)
        self.query.installEventFilter(self)

    def eventFilter(self, obj: object, event: object) -> bool:  # noqa: N802 - Qt override
        if obj is self.query and isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress \
                and event.key() == Qt.Key.Key_Down and self.results.topLevelItemCount():
            self.results.setFocus(Qt.FocusReason.TabFocusReason)
            first = self.results.topLevelItem(0)
            target = first.child(0) if first is not None and first.childCount() else first
            if target is not None:
                self.results.setCurrentItem(target)
            return True
        return False

    @property
    def busy(self) -> bool:
        return self._job is not None

    def focus_query(self, seed: str = "") -> None:
        if seed and "\n" not in seed and "\u2029" not in seed:
            self.query.setText(seed)
        self.query.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.query.selectAll()

    @Slot()
    def search(self) -> None:
        root, text = self._root(), self.query.text()
        if root is None or not text:
            return
        flags = 0 if self.case.isChecked() else re.IGNORECASE
        try:
            rx = re.compile(text if self.regex.isChecked() else re.escape(text), flags)
        except re.error as exc:
            self.status.setText(f"Not a valid regular expression: {exc.msg}")
            return
        if self._token is not None:
            self._token.cancel()
        self.status.setText(f"Searching {root.name}…")
        self._job, self._token = self.pool.submit(partial(search_workspace, root, rx), on_result=self._on_result,
                                                  on_error=self._on_error)

    @Slot(int, object)
    def _on_result(self, job: int, hits: object) -> None:
        if job != self._job or not isinstance(hits, list):
            return
        self._job, self._token = None, None
        self.hits = hits
        self.results.clear()
        by_file: dict[str, QTreeWidgetItem] = {}
        for hit in hits:
            head = by_file.get(hit.rel)
            if head is None:
                head = QTreeWidgetItem([hit.rel])
                head.setData(0, ROLE_HIT, hit)
                by_file[hit.rel] = head
                self.results.addTopLevelItem(head)
            line = hit.text.strip()
            row = QTreeWidgetItem([f"{hit.line}: {line[:200]}"])
            row.setData(0, ROLE_HIT, hit)
            row.setToolTip(0, hit.text[:500])
            head.addChild(row)
        self.results.expandAll()
        more = " (first 2,000 shown)" if len(hits) >= MAX_HITS else ""
        self.status.setText(f"{len(hits)} match{'es' * (len(hits) != 1)} in {len(by_file)} "
                            f"file{'s' * (len(by_file) != 1)}{more}" if hits else "No matches.")

    @Slot(int, str)
    def _on_error(self, job: int, message: str) -> None:
        if job == self._job:
            self._job, self._token = None, None
            self.status.setText(f"Search failed: {message}")

    @Slot(QTreeWidgetItem, int)
    def _open_item(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        hit = item.data(0, ROLE_HIT)
        root = self._root()
        if isinstance(hit, Hit) and root is not None:
            self.sig_open.emit(root / hit.rel, hit.line, hit.start, hit.end)

    def shutdown(self) -> None:
        if self._token is not None:
            self._token.cancel()
