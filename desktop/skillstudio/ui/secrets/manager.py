"""The Secrets manager: add, bind to domains, rotate and delete secrets; values are write-only.

The value field is a password field that is only ever written by the user and cleared as soon as
the value is handed to the vault; nothing here reads a value from the keyring, so nothing can show
one. Every keyring call (which may block on D-Bus or an unlock prompt) runs in a WorkerPool job;
results come back to @Slot methods in the GUI thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.secrets.model import Apply, SecretMeta, validate_domain, validate_name, validate_value
from skillstudio.secrets.vault import Vault
from skillstudio.ui.common.workers import WorkerPool

APPLY_CHOICES = [("bearer", "Authorization: Bearer"), ("header", "Header…"), ("query", "Query parameter…"),
                 ("anywhere", "Anywhere (headers, query, body)")]


class SecretsManager(QWidget):
    """List + editor for one vault (a workspace's, or the user's when `workspace` is None)."""

    sig_loaded = Signal(int)  # number of secrets shown
    sig_saved = Signal(str)  # name
    sig_deleted = Signal(str)
    sig_error = Signal(str)

    def __init__(self, workspace: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SecretsManager")
        self.setWindowTitle("Secrets")
        self.vault = Vault(workspace)
        self._workers = WorkerPool(self, max_threads=1)  # one at a time: keyring calls stay ordered
        self._rows: list[tuple[SecretMeta, bool]] = []
        self._editing: str | None = None
        self._note = ""  # shown once the next reload is done
        self._loaded_once = False
        self._build()
        self.new_secret()
        if workspace is not None:  # standalone use: show it at once
            self.refresh()

    def set_workspace(self, path: Path | None) -> None:
        """Show another workspace's vault (the main window calls this when a workspace opens)."""
        self.vault = Vault(path)
        self.scope.setText(f"Bindings file: {self.vault.path}")
        self._editing = None
        self.new_secret()
        if self.isVisible():
            self.refresh()
        else:
            self._loaded_once = False  # refreshed when first shown: no keyring call at start-up

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._loaded_once:
            self.refresh()

    def shutdown(self) -> None:
        self._workers.shutdown()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        intro = QLabel("Tools see only a placeholder such as <code>$API_TOKEN</code>; the sidecar puts the real "
                       "value into requests to the bound domains. Values stay in the OS keyring and are never shown.")
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        self.scope = QLabel(f"Bindings file: {self.vault.path}")
        self.scope.setObjectName("secretsScope")
        self.scope.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scope.setStyleSheet("color: palette(placeholder-text);")

        self.table = QTableWidget(0, 4)
        self.table.setObjectName("secretsTable")
        self.table.setHorizontalHeaderLabels(["Name", "Domains", "Applied as", "Value"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.empty = QLabel("No secrets yet. Fill in the form to add one.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: palette(placeholder-text);")

        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("secretName")
        self.name_edit.setPlaceholderText("GITHUB_TOKEN")
        self.desc_edit = QLineEdit()
        self.desc_edit.setToolTip("What the secret is for (shown to whoever grants it)")
        self.desc_edit.setPlaceholderText("What it is for (optional)")
        self.domains_edit = QLineEdit()
        self.domains_edit.setToolTip("Hosts the secret may be sent to (comma-separated, wildcards allowed)")
        self.domains_edit.setObjectName("secretDomains")
        self.domains_edit.setPlaceholderText("api.github.com, *.example.com")
        self.apply_combo = QComboBox()
        self.apply_combo.setToolTip("How the proxy adds the secret to requests (header, bearer token, "
                                    "query parameter…)")
        self.apply_combo.setObjectName("secretApply")
        for key, label in APPLY_CHOICES:
            self.apply_combo.addItem(label, key)
        self.apply_combo.currentIndexChanged.connect(self._on_apply_kind)
        self.param_edit = QLineEdit()
        self.param_edit.setToolTip("Header or parameter name the secret is put in")
        self.param_edit.setObjectName("secretApplyParam")
        apply_row = QHBoxLayout()
        apply_row.setContentsMargins(0, 0, 0, 0)
        self.apply_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.apply_combo.setMinimumContentsLength(14)
        self.param_edit.setMinimumWidth(120)
        apply_row.addWidget(self.apply_combo, 3)
        apply_row.addWidget(self.param_edit, 2)
        self.value_edit = QLineEdit()
        self.value_edit.setToolTip("The secret’s value; stored in the system keyring and never shown again")
        self.value_edit.setObjectName("secretValue")
        self.value_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.value_edit.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.value_edit.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
        self.value_hint = QLabel()
        self.value_hint.setWordWrap(True)
        self.value_hint.setStyleSheet("color: palette(placeholder-text);")

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("Description", self.desc_edit)
        form.addRow("Domains", self.domains_edit)
        form.addRow("Applied as", apply_row)
        form.addRow("Value", self.value_edit)
        form.addRow("", self.value_hint)

        self.save_btn = QPushButton("Add secret")
        self.save_btn.setObjectName("secretSave")
        self.save_btn.setDefault(True)
        self.save_btn.clicked.connect(self.save)
        self.delete_btn = QPushButton("Delete…")
        self.delete_btn.setObjectName("secretDelete")
        self.delete_btn.clicked.connect(self.delete_selected)
        self.new_btn = QPushButton("New")
        self.new_btn.clicked.connect(self.new_secret)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_btn)
        buttons.addStretch(1)
        buttons.addWidget(self.delete_btn)
        buttons.addWidget(self.save_btn)

        self.status = QLabel()
        self.status.setObjectName("secretsStatus")
        self.status.setWordWrap(True)
        self.editor = QGroupBox("New secret")
        editor_layout = QVBoxLayout(self.editor)
        editor_layout.addLayout(form)
        editor_layout.addLayout(buttons)
        editor_layout.addWidget(self.status)
        editor_layout.addStretch(1)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table)
        left_layout.addWidget(self.empty)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.editor)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([600, 380])
        self.editor.setMinimumWidth(340)
        self.editor.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        root = QVBoxLayout(self)
        root.addWidget(intro)
        root.addWidget(splitter, 1)
        root.addWidget(self.scope)

    # ------------------------------------------------------------------ editor state

    @Slot()
    def new_secret(self) -> None:
        self.table.clearSelection()
        self._editing = None
        self.editor.setTitle("New secret")
        self._lock_name(False)
        self.name_edit.clear()
        self.desc_edit.clear()
        self.domains_edit.clear()
        self.apply_combo.setCurrentIndex(self._apply_index("bearer"))
        self.param_edit.clear()
        self.value_edit.clear()
        self.value_edit.setPlaceholderText("Paste the value (write-only)")
        self.value_hint.setText("Stored in the OS keyring; it is never shown again.")
        self.save_btn.setText("Add secret")
        self.delete_btn.setEnabled(False)
        self._on_apply_kind()

    def _lock_name(self, locked: bool) -> None:
        """An existing secret keeps its name (rename = new secret); show the field as fixed."""
        self.name_edit.setReadOnly(locked)
        self.name_edit.setStyleSheet("QLineEdit { background: palette(window); }" if locked else "")
        self.name_edit.setToolTip("To rename, add a new secret and delete this one." if locked
                                  else "Name the skill uses for this secret, e.g. GITHUB_TOKEN")

    def _apply_index(self, kind: str) -> int:
        return next(i for i, (k, _) in enumerate(APPLY_CHOICES) if k == kind)

    @Slot()
    def _on_apply_kind(self) -> None:
        kind = self.apply_combo.currentData()
        self.param_edit.setEnabled(kind in ("header", "query"))
        self.param_edit.setVisible(kind in ("header", "query"))
        self.param_edit.setPlaceholderText({"header": "X-Api-Key", "query": "api_key"}.get(kind, ""))
        if kind not in ("header", "query"):
            self.param_edit.clear()

    @Slot()
    def _on_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        meta, stored = self._rows[rows[0].row()]
        self._editing = meta.name
        self.editor.setTitle(f"Edit {meta.name}")
        self.name_edit.setText(meta.name)
        self._lock_name(True)
        self.desc_edit.setText(meta.description)
        self.domains_edit.setText(", ".join(meta.domains))
        self.apply_combo.setCurrentIndex(self._apply_index(meta.apply.kind))
        self.param_edit.setText(meta.apply.param)
        self.value_edit.clear()
        self.value_edit.setPlaceholderText("Type a new value to rotate (write-only)")
        self.value_hint.setText("A value is stored in the OS keyring." if stored else
                                "No value in the keyring: type one to store it.")
        self.save_btn.setText("Save")
        self.delete_btn.setEnabled(True)
        self._set_status("")

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c0392b;" if error else "")

    # ------------------------------------------------------------------ actions

    def _collect(self) -> tuple[str, list[str], Apply, str, str]:
        name = self.name_edit.text().strip()
        validate_name(name)
        domains = [validate_domain(d) for d in self.domains_edit.text().replace("\n", ",").split(",") if d.strip()]
        kind = str(self.apply_combo.currentData())
        apply = Apply.parse(f"{kind}:{self.param_edit.text().strip()}" if kind in ("header", "query") else kind)
        value = self.value_edit.text()
        if value or self._editing is None:
            validate_value(value)
        return name, domains, apply, self.desc_edit.text().strip(), value

    @Slot()
    def save(self) -> None:
        try:
            name, domains, apply, description, value = self._collect()
        except SkillStudioError as exc:
            self._set_status(str(exc), error=True)
            self.sig_error.emit(str(exc))
            return
        if self._editing is None and any(m.name == name for m, _ in self._rows):
            msg = f"{name} already exists — select it in the list to rotate or re-bind it"
            self._set_status(msg, error=True)
            self.sig_error.emit(msg)
            return
        self.value_edit.clear()  # handed to the job below; the widget keeps no copy
        vault = self.vault

        def job(token: CancelToken, progress: Any) -> str:
            if value:
                vault.set(name, value, domains=domains, apply=apply, description=description)
            else:
                vault.bind(name, domains=domains, apply=apply, description=description)
            return name

        self._busy(True, "Saving…")
        self._workers.submit(job, on_result=self._saved, on_error=self._failed)

    @Slot()
    def delete_selected(self) -> None:
        name = self._editing
        if name is None or not self.confirm_delete(name):
            return
        vault = self.vault

        def job(token: CancelToken, progress: Any) -> str:
            vault.delete(name)
            return name

        self._busy(True, "Deleting…")
        self._workers.submit(job, on_result=self._deleted, on_error=self._failed)

    def confirm_delete(self, name: str) -> bool:
        """Asks before deleting (tests replace this method instead of clicking the dialog)."""
        answer = QMessageBox.question(self, "Delete secret",
                                      f"Delete {name}? Its value is removed from the OS keyring and tools "
                                      "using it will stop working.")
        return answer == QMessageBox.StandardButton.Yes

    @Slot()
    def refresh(self) -> None:
        vault = self.vault

        def job(token: CancelToken, progress: Any) -> list[tuple[SecretMeta, bool]]:
            return [(m, vault.stored(m.name)) for m in vault.list()]

        self._loaded_once = True
        self._busy(True, "Loading…")
        self._workers.submit(job, on_result=self._loaded, on_error=self._failed)

    def _busy(self, busy: bool, text: str = "") -> None:
        for w in (self.save_btn, self.new_btn, self.table):
            w.setEnabled(not busy)
        self.delete_btn.setEnabled(not busy and self._editing is not None)
        if busy:
            self._set_status(text)

    # ------------------------------------------------------------------ results (GUI thread)

    @Slot(int, object)
    def _loaded(self, _job: int, rows: object) -> None:
        assert isinstance(rows, list)
        self._rows = rows
        self.table.setRowCount(len(rows))
        for r, (meta, stored) in enumerate(rows):
            cells = [meta.name, ", ".join(meta.domains) or "— not bound (never sent) —", meta.apply.describe(),
                     "stored" if stored else "missing"]
            tips = [meta.description, "\n".join(meta.domains), "", "in the OS keyring" if stored else
                    "no value in the OS keyring: select the secret and type a value"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if tips[c]:
                    item.setToolTip(tips[c])
                if c == 3 and not stored:
                    item.setForeground(Qt.GlobalColor.red)
                self.table.setItem(r, c, item)
        self.table.setVisible(bool(rows))
        self.empty.setVisible(not rows)
        self._busy(False)
        if self._editing is not None:
            idx = next((i for i, (m, _) in enumerate(rows) if m.name == self._editing), None)
            if idx is None:
                self.new_secret()
            else:
                self.table.selectRow(idx)
        self._set_status(self._note)
        self._note = ""
        self.sig_loaded.emit(len(rows))

    @Slot(int, object)
    def _saved(self, _job: int, name: object) -> None:
        self._editing = str(name)
        self._busy(False)
        self._note = f"Saved {name}."
        self.refresh()
        self.sig_saved.emit(str(name))

    @Slot(int, object)
    def _deleted(self, _job: int, name: object) -> None:
        self._editing = None
        self.new_secret()
        self._note = f"Deleted {name}."
        self.refresh()
        self.sig_deleted.emit(str(name))

    @Slot(int, str)
    def _failed(self, _job: int, message: str) -> None:
        self._busy(False)
        self._set_status(message, error=True)
        self.sig_error.emit(message)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        self._workers.shutdown()
        super().closeEvent(event)
