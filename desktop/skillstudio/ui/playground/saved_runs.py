"""Replay a saved agent run step by step, as it happened (`.skillstudio/runs/agent/*.json`).

Reviewing a run after the fact (an audit, a failed nightly) is easier one step at a time: each
Next shows one more model message, shell call, output or compaction, in the order of the run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from skillstudio.agent.transcript import list_runs, load
from skillstudio.ui.playground.transcript_view import TranscriptView


class TranscriptViewer(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Path | None = None
        self.doc: dict[str, Any] | None = None
        self.steps: list[dict[str, Any]] = []
        self.position = 0  # steps shown
        self.runs = QComboBox()
        self.runs.setToolTip("A saved run to step through")
        self.runs.setObjectName("saved_runs")
        self.runs.setMinimumWidth(260)
        self.refresh_button = QPushButton("Refresh")
        self.open_button = QPushButton("Open file…")
        self.open_button.setToolTip("A transcript saved elsewhere (e.g. exported, or attached to a ticket)")
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.all_button = QPushButton("Show all")
        self.step_label = QLabel()
        self.step_label.setObjectName("step_label")
        self.view = TranscriptView()
        self.error = QLabel()
        self.error.setObjectName("viewer_error")
        self.error.setStyleSheet("color:#c62828;")
        self.error.hide()

        row = QHBoxLayout()
        row.addWidget(QLabel("Saved run"))
        row.addWidget(self.runs, 1)
        row.addWidget(self.refresh_button)
        row.addWidget(self.open_button)
        row.addSpacing(12)
        row.addWidget(self.prev_button)
        row.addWidget(self.next_button)
        row.addWidget(self.all_button)
        row.addWidget(self.step_label)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.error)
        lay.addWidget(self.view, 1)

        self.runs.currentIndexChanged.connect(self._on_run_chosen)
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button.clicked.connect(self._open_file)
        self.prev_button.clicked.connect(self.previous_step)
        self.next_button.clicked.connect(self.next_step)
        self.all_button.clicked.connect(self.show_all)
        QShortcut(QKeySequence("Right"), self, self.next_step)
        QShortcut(QKeySequence("Left"), self, self.previous_step)
        self._update_buttons()

    def shutdown(self) -> None:
        """Nothing runs in the background here (the shell calls this on every panel)."""

    def set_workspace(self, path: Path | str | None) -> None:
        self.workspace = Path(path) if path is not None else None
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        current = self.runs.currentData()
        self.runs.blockSignals(True)
        self.runs.clear()
        for p in list_runs(self.workspace) if self.workspace is not None else []:
            self.runs.addItem(p.stem, str(p))
        self.runs.blockSignals(False)
        index = self.runs.findData(current) if current else -1
        self.runs.setCurrentIndex(max(index, 0) if self.runs.count() else -1)
        self._on_run_chosen()

    @Slot()
    def _on_run_chosen(self) -> None:
        path = self.runs.currentData()
        if path:
            self.open(Path(path))
        else:
            self.doc, self.steps, self.position = None, [], 0
            self.view.clear_view("No saved runs in this workspace yet")
            self._update_buttons()

    @Slot()
    def _open_file(self) -> None:
        start = str(self.workspace / ".skillstudio" / "runs" / "agent") if self.workspace is not None else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a saved agent run", start, "Agent runs (*.json)")
        if path:
            self.open(Path(path))

    def open(self, path: Path) -> bool:
        """Open a saved transcript at its first step; False (with the reason shown) if unreadable."""
        try:
            doc = load(path)
            if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
                raise ValueError("not an agent-run transcript")
        except (OSError, ValueError, json.JSONDecodeError) as exc:
            self.error.setText(f"Cannot open {path.name}: {str(exc).splitlines()[0]}")
            self.error.show()
            return False
        self.error.hide()
        self.doc = doc
        self.position = 1
        self._render()
        return True

    def _render(self) -> None:
        assert self.doc is not None
        self.steps = self.view.show_doc(self.doc, self.position)
        self._update_buttons()

    def _update_buttons(self) -> None:
        total = len(self.steps)
        self.prev_button.setEnabled(self.doc is not None and self.position > 0)
        self.next_button.setEnabled(self.doc is not None and self.position < total)
        self.all_button.setEnabled(self.doc is not None and self.position < total)
        self.step_label.setText(f"Step {self.position} of {total}" if self.doc is not None else "")

    @Slot()
    def next_step(self) -> None:
        if self.doc is not None and self.position < len(self.steps):
            self.position += 1
            self._render()

    @Slot()
    def previous_step(self) -> None:
        if self.doc is not None and self.position > 0:
            self.position -= 1
            self._render()

    @Slot()
    def show_all(self) -> None:
        if self.doc is not None:
            self.position = len(self.steps)
            self._render()
