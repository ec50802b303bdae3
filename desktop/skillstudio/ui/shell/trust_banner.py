"""The workspace-trust banner: shown when a workspace's secret bindings or sandbox policies changed.

Bindings (`.skillstudio/secrets.yaml`) and policies (`.skillstudio/policies/`) come with the workspace
and apply only after the user approved them (skillstudio.secrets.trust). The banner says so above
the editors; "Review…" opens a dialog with the diff of every changed file and an Approve button.
Reading the state is a few small files, so it runs on the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from skillstudio.errors import SkillStudioError

if TYPE_CHECKING:
    from skillstudio.secrets import trust


class TrustDialog(QDialog):
    """What changed since the last approval, file by file, with Approve / Not now."""

    def __init__(self, state: trust.TrustState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review workspace trust")
        self.setObjectName("TrustDialog")
        lay = QVBoxLayout(self)
        intro = QLabel(f"{state.workspace.name}: these files decide where your secrets may be sent and what its "
                       "sandboxes may reach. Approve them only if you trust every change.")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.diff = QPlainTextEdit()
        self.diff.setObjectName("trust_diff")
        self.diff.setReadOnly(True)
        self.diff.setFont(QFont("monospace"))
        self.diff.setPlainText("\n".join(c.diff or f"{c.kind}: {c.path}\n" for c in state.changes))
        lay.addWidget(self.diff, 1)
        buttons = QDialogButtonBox()
        self.approve_button = buttons.addButton("Approve", QDialogButtonBox.ButtonRole.AcceptRole)
        self.approve_button.setObjectName("trust_approve")
        buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(720, 480)


class WorkspaceTrustBanner(QWidget):
    """Hidden while the workspace is trusted; otherwise one line and a Review button."""

    sig_approved = Signal(object)  # Path of the workspace

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WorkspaceTrustBanner")
        self.workspace: Path | None = None
        self.state: trust.TrustState | None = None
        self.dialog: TrustDialog | None = None
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        lay.addWidget(self.label, 1)
        self.review_button = QPushButton("Review…")
        self.review_button.setObjectName("trust_review")
        self.review_button.clicked.connect(self.review)
        lay.addWidget(self.review_button)
        self.hide()

    def set_workspace(self, path: Path | None) -> None:
        self.workspace = path
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        from skillstudio.secrets import trust  # the check runs after the first paint

        self.state = None
        if self.workspace is not None:
            try:
                self.state = trust.state(self.workspace)
            except SkillStudioError as exc:
                self.label.setText(f"Workspace trust cannot be checked: {exc}")
                self.review_button.setEnabled(False)
                self.show()
                return
        if self.state is None or self.state.trusted:
            self.hide()
            return
        n = len(self.state.changes)
        self.label.setText(f"This workspace's secret bindings or sandbox policies changed ({n} file{'s' * (n != 1)}) "
                           "since you approved them. They are not used until you review and approve them.")
        self.review_button.setEnabled(True)
        self.show()

    @Slot()
    def review(self) -> None:
        """Open the diff dialog (non-modal `open()`, so tests and the event loop keep running)."""
        if self.state is None or self.state.trusted:
            return
        self.dialog = TrustDialog(self.state, self)
        self.dialog.accepted.connect(self._approve)
        self.dialog.open()

    @Slot()
    def _approve(self) -> None:
        if self.workspace is None or self.state is None:
            return
        from skillstudio.secrets import trust

        now = trust.state(self.workspace)
        if now.changes != self.state.changes:  # changed again while the dialog was open: show that first
            self.refresh()
            return
        trust.approve(self.workspace)
        self.refresh()
        self.sig_approved.emit(self.workspace)
