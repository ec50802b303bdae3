"""The workspace trust store: which public keys are trusted, in which roles, and the signing policy.

Plain files under `.skillstudio/trust/` (skillstudio.release.trust) — small and local, so reads and
writes happen directly on the GUI thread; no keyring or network is involved.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skillstudio.errors import SkillStudioError
from skillstudio.release import trust
from skillstudio.ui.common.theme import ERROR_STYLE


class TrustView(QWidget):
    sig_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace: Path | None = None
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Name", "Roles", "Key id"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.add_btn = QPushButton("Add public key…")
        self.remove_btn = QPushButton("Remove")
        self.add_btn.clicked.connect(self._on_add)
        self.remove_btn.clicked.connect(self._on_remove)
        self.require = {r: QCheckBox(f"require an {r} signature") for r in trust.ROLES}
        self.save_policy_btn = QPushButton("Save policy")
        self.save_policy_btn.clicked.connect(self._on_save_policy)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.title = QLabel("")

        buttons = QHBoxLayout()
        buttons.addWidget(self.add_btn)
        buttons.addWidget(self.remove_btn)
        buttons.addStretch(1)
        policy = QHBoxLayout()
        policy.addWidget(QLabel("<b>Policy</b>: a trusted signature, and"))
        for role, cb in self.require.items():
            cb.setToolTip(f"Verification also requires a trusted {role} signature")
            policy.addWidget(cb)
        policy.addStretch(1)
        policy.addWidget(self.save_policy_btn)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addWidget(self.table, 1)
        lay.addLayout(buttons)
        lay.addLayout(policy)
        lay.addWidget(self.status)
        self.set_workspace(None)

    def shutdown(self) -> None:
        """Nothing runs in the background here (the shell calls this on every panel)."""

    def set_workspace(self, path: Path | None) -> None:
        self.workspace = Path(path) if path else None
        self.reload()

    @Slot()
    def reload(self) -> None:
        self.table.setRowCount(0)
        enabled = self.workspace is not None
        for w in (self.add_btn, self.remove_btn, self.save_policy_btn, *self.require.values()):
            w.setEnabled(enabled)
        if self.workspace is None:
            self.title.setText("No workspace open.")
            return
        self.title.setText(f"Trusted keys of <code>{trust.trust_dir(self.workspace)}</code>")
        try:
            store = trust.load(self.workspace)
        except SkillStudioError as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        for row, k in enumerate(sorted(store.keys.values(), key=lambda k: k.name)):
            self.table.insertRow(row)
            name = QTableWidgetItem(k.name)
            name.setData(Qt.ItemDataRole.UserRole, k.name)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, QTableWidgetItem(", ".join(k.roles) or "(no role)"))
            self.table.setItem(row, 2, QTableWidgetItem(k.keyid))
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)
        for role, cb in self.require.items():
            cb.setChecked(role in store.require_roles)
        self._say(f"{len(store.keys)} trusted key(s); policy: "
                  f"{', '.join(store.require_roles) or 'any trusted signature'}.")

    @Slot()
    def _on_add(self) -> None:
        if self.workspace is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Public key to trust", "", "PEM (*.pem);;All files (*)")
        if not path:
            return
        name, ok = QInputDialog.getText(self, "Trust key", "Name for this key:", text=Path(path).stem)
        if not ok or not name.strip():
            return
        role, ok = QInputDialog.getItem(self, "Trust key", "Role:", [*trust.ROLES, "author and approver"], 0, False)
        if not ok:
            return
        roles = list(trust.ROLES) if role == "author and approver" else [role]
        try:
            k = trust.add_key(self.workspace, name.strip(), Path(path).read_bytes(), roles)
        except (SkillStudioError, OSError) as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        self.reload()
        self._say(f"Trusting {k.name} ({k.keyid[:16]}) as {', '.join(k.roles)}.")
        self.sig_changed.emit()

    @Slot()
    def _on_remove(self) -> None:
        row = self.table.currentRow()
        if self.workspace is None or row < 0:
            self._say("Select a key to remove.", ERROR_STYLE)
            return
        item = self.table.item(row, 0)
        if item is None:
            return
        name = str(item.data(Qt.ItemDataRole.UserRole))
        answer = QMessageBox.question(self, "Remove trusted key",
                                      f"Stop trusting {name}? Bundles signed only by it will be refused.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            trust.remove_key(self.workspace, name)
        except SkillStudioError as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        self.reload()
        self.sig_changed.emit()

    @Slot()
    def _on_save_policy(self) -> None:
        if self.workspace is None:
            return
        try:
            trust.set_policy(self.workspace, [r for r, cb in self.require.items() if cb.isChecked()])
        except SkillStudioError as exc:
            self._say(str(exc), ERROR_STYLE)
            return
        self.reload()
        self.sig_changed.emit()

    def _say(self, text: str, style: str = "") -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)
