"""The page shown when no file is open: where you are and what to do next."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from skillstudio.ui.common.font_scale import relative_font


class WelcomePage(QWidget):
    PICK_HINT = ("Pick a skill in the tree on the left to edit its SKILL.md — the front-matter form, live problems "
                 "and token costs follow as you type.")
    EMPTY_HINT = ("This folder has no skills yet. Create the first one from a template with New Skill… — or open "
                  "a folder whose sub-folders hold SKILL.md files.")
    sig_new_skill = Signal()
    sig_open_workspace = Signal()
    sig_open_recent = Signal(object)  # Path
    sig_open_examples = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WelcomePage")
        self.title = QLabel("Skill Studio")
        self.title.setObjectName("WelcomeTitle")
        relative_font(self.title, 2.0, bold=True)
        self.subtitle = QLabel("")
        self.subtitle.setObjectName("WelcomeSubtitle")
        self.subtitle.setWordWrap(True)
        self.hint = QLabel(self.PICK_HINT)
        self.hint.setWordWrap(True)
        self.hint.setObjectName("Hint")
        new = QPushButton("New Skill…")
        new.setObjectName("welcome_new")
        new.clicked.connect(self.sig_new_skill)
        open_ws = QPushButton("Open Workspace…")
        open_ws.setObjectName("welcome_open")
        open_ws.clicked.connect(self.sig_open_workspace)
        self.examples_button = QPushButton("Open a Copy of the Examples…")
        self.examples_button.setObjectName("welcome_examples")
        self.examples_button.setToolTip("Copy the five example skills into a folder of yours and open it "
                                        "(the bundled originals are never edited)")
        self.examples_button.clicked.connect(self.sig_open_examples)
        buttons = QHBoxLayout()
        buttons.addWidget(new)
        buttons.addWidget(open_ws)
        buttons.addWidget(self.examples_button)
        buttons.addStretch(1)
        self.recent_title = QLabel("Recent workspaces")
        self.recent_title.setObjectName("SubTitle")
        self.recent_box = QVBoxLayout()
        self.recent_box.setSpacing(2)
        inner = QVBoxLayout()
        inner.setSpacing(12)
        inner.addWidget(self.title)
        inner.addWidget(self.subtitle)
        inner.addWidget(self.hint)
        inner.addLayout(buttons)
        inner.addSpacing(12)
        inner.addWidget(self.recent_title)
        inner.addLayout(self.recent_box)
        column = QWidget()
        column.setLayout(inner)
        column.setMaximumWidth(620)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(column, 4)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self._recent_buttons: list[QPushButton] = []

    def set_state(self, workspace: Path | None, skills: int | None, recent: list[Path]) -> None:
        self.examples_button.setVisible(workspace is None)
        if workspace is None:
            self.subtitle.setText("No workspace open. Open a folder of skills, or start from a copy of the examples.")
        elif skills is None:
            self.subtitle.setText(f"Loading {workspace.name}…")
        else:
            self.subtitle.setText(f"Workspace {workspace.name} — {skills} skill{'s' * (skills != 1)} in {workspace}")
        self.hint.setText(self.EMPTY_HINT if skills == 0 else self.PICK_HINT)
        for b in self._recent_buttons:
            b.deleteLater()
        self._recent_buttons = []
        shown = [p for p in recent if p != workspace][:5]
        self.recent_title.setVisible(bool(shown))
        for p in shown:
            b = QPushButton(f"{p.name}    {p}")
            b.setObjectName("RecentLink")
            b.setFlat(True)
            b.setStyleSheet("QPushButton { text-align: left; border: none; padding: 3px 2px; color: palette(link); }"
                            "QPushButton:hover { text-decoration: underline; }")
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.setProperty("ws_path", str(p))
            b.clicked.connect(self._on_recent)
            self.recent_box.addWidget(b)
            self._recent_buttons.append(b)

    @Slot()
    def _on_recent(self) -> None:
        b = self.sender()
        if b is not None:
            self.sig_open_recent.emit(Path(str(b.property("ws_path"))))
