"""The front-matter form: the SKILL.md header fields as widgets, kept in sync with the text.

The form never writes YAML itself: it emits `sig_field_edited(key, value)` /
`sig_metadata_edited(key, value)` (value None = remove) and the editor tab turns them into in-place
splices with skillmd.set_field / set_metadata. Values coming back from the text are applied with
`set_frontmatter` without emitting anything, and a field the user is typing in is never overwritten.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from skillstudio.bundle.model import FrontMatter
from skillstudio.ui.common.font_scale import relative_font

DESCRIPTION_LIMIT = 1024  # Agent Skills spec
DESCRIPTION_SHOWN = 250  # some UIs truncate the description here
TEXT_FIELDS = ("name", "license", "compatibility")


class FrontMatterForm(QWidget):
    sig_field_edited = Signal(str, object)  # top-level key, str | None
    sig_metadata_edited = Signal(str, object)  # metadata key, str | None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FrontMatterForm")
        self._updating = False
        self._meta_keys: list[str] = []  # key of each metadata row as last written

        title = QLabel("Front matter")
        title.setObjectName("SectionTitle")
        relative_font(title, 1.1, bold=True)
        self.status = QLabel("")
        self.status.setObjectName("FormStatus")
        self.status.setWordWrap(True)
        self.status.hide()

        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setVerticalSpacing(8)
        placeholders = {"name": "lowercase-with-hyphens, same as the folder", "version": "1.0.0",
                        "license": "e.g. Apache-2.0", "compatibility": "e.g. needs network access (optional)"}
        for key in ("name", "version", "license", "compatibility"):
            edit = QLineEdit()
            edit.setObjectName(f"field_{key}")
            edit.setPlaceholderText(placeholders[key])
            edit.setClearButtonEnabled(False)
            edit.textEdited.connect(self._on_line_edited)
            edit.setProperty("fm_key", key)
            self.fields[key] = edit
        form.addRow("Name", self.fields["name"])

        self.description = QPlainTextEdit()
        self.description.setObjectName("field_description")
        self.description.setPlaceholderText("What the skill does, when to use it — and when NOT to use it.")
        self.description.setTabChangesFocus(True)
        self.description.setMinimumHeight(110)
        prose = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont).family()
        self.description.setStyleSheet(f'QPlainTextEdit {{ font-family: "{prose}"; }}')  # prose, not code
        self.description.textChanged.connect(self._on_description_changed)
        self.desc_count = QLabel("0 / 1024")
        self.desc_count.setObjectName("DescriptionCount")
        self.desc_count.setAlignment(Qt.AlignmentFlag.AlignRight)
        desc_box = QVBoxLayout()
        desc_box.setSpacing(2)
        desc_box.addWidget(self.description)
        desc_box.addWidget(self.desc_count)
        form.addRow("Description", desc_box)
        form.addRow("Version", self.fields["version"])
        form.addRow("License", self.fields["license"])
        form.addRow("Compatibility", self.fields["compatibility"])

        self.meta = QTableWidget(0, 2)
        self.meta.setObjectName("metadata_table")
        self.meta.setHorizontalHeaderLabels(["Metadata key", "Value"])
        self.meta.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.meta.horizontalHeader().setStretchLastSection(True)
        self.meta.verticalHeader().hide()
        self.meta.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.meta.setMinimumHeight(90)
        self.meta.itemChanged.connect(self._on_meta_item_changed)
        add = QPushButton("Add")
        add.setObjectName("meta_add")
        add.clicked.connect(self._add_meta_row)
        remove = QPushButton("Remove")
        remove.setObjectName("meta_remove")
        remove.clicked.connect(self._remove_meta_row)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(add)
        buttons.addWidget(remove)

        root = QVBoxLayout(self)
        root.setContentsMargins(12, 10, 12, 10)
        root.setSpacing(8)
        root.addWidget(title)
        root.addWidget(self.status)
        root.addLayout(form)
        meta_title = QLabel("Metadata (string → string; version is above)")
        meta_title.setObjectName("SubTitle")
        root.addWidget(meta_title)
        root.addWidget(self.meta, 1)
        root.addLayout(buttons)
        self._inputs: list[QWidget] = [*self.fields.values(), self.description, self.meta, add, remove]

    # ------------------------------------------------------------------ text -> form
    def set_frontmatter(self, fm: FrontMatter | None, error: str | None = None, error_line: int | None = None) -> None:
        """Show the values read from the text; emits nothing."""
        self._updating = True
        try:
            if fm is None:
                where = f" (line {error_line})" if error_line else ""
                self.status.setText(f"The front matter cannot be read{where}: {error or 'missing'}. "
                                    "Fix it in the text (or use the Fix button in Problems) to edit it here.")
                self.status.show()
                for w in self._inputs:
                    w.setEnabled(False)
                return
            self.status.hide()
            for w in self._inputs:
                w.setEnabled(True)
            values = {"name": fm.name or "", "license": fm.license or "", "compatibility": fm.compatibility or "",
                      "version": fm.metadata.get("version", "")}
            for key, edit in self.fields.items():
                if edit.text() != values[key] and not edit.hasFocus():
                    edit.setText(values[key])
            desc = fm.description or ""
            if self.description.toPlainText() != desc and not self.description.hasFocus():
                self.description.setPlainText(desc)
            self._update_count()
            meta = [(k, v) for k, v in fm.metadata.items() if k != "version"]
            if meta != self.metadata_rows() and self.meta.state() != QAbstractItemView.State.EditingState:
                self.meta.setRowCount(len(meta))
                for row, (k, v) in enumerate(meta):
                    self.meta.setItem(row, 0, QTableWidgetItem(k))
                    self.meta.setItem(row, 1, QTableWidgetItem(v))
                self._meta_keys = [k for k, _ in meta]
        finally:
            self._updating = False

    def metadata_rows(self) -> list[tuple[str, str]]:
        rows = []
        for r in range(self.meta.rowCount()):
            k, v = self.meta.item(r, 0), self.meta.item(r, 1)
            rows.append((k.text() if k else "", v.text() if v else ""))
        return rows

    # ------------------------------------------------------------------ form -> text
    @Slot(str)
    def _on_line_edited(self, text: str) -> None:
        edit = self.sender()
        key = edit.property("fm_key") if edit is not None else None
        if self._updating or not key:
            return
        value = text if text.strip() else None
        if key == "version":
            self.sig_metadata_edited.emit("version", value)
        elif key == "name":
            self.sig_field_edited.emit("name", text)  # name is required: keep the key even when empty
        else:
            self.sig_field_edited.emit(key, value)

    @Slot()
    def _on_description_changed(self) -> None:
        self._update_count()
        if not self._updating:
            self.sig_field_edited.emit("description", self.description.toPlainText())

    def _update_count(self) -> None:
        n = len(self.description.toPlainText())
        state = "over" if n > DESCRIPTION_LIMIT else ("long" if n > DESCRIPTION_SHOWN else "ok")
        hint = {"over": "over the limit", "long": f"beyond {DESCRIPTION_SHOWN} chars some UIs truncate",
                "ok": ""}[state]
        self.desc_count.setText(f"{n} / {DESCRIPTION_LIMIT}" + (f" — {hint}" if hint else ""))
        self.desc_count.setProperty("state", state)
        color = {"over": "#d9534f", "long": "#c08a1e", "ok": ""}[state]
        self.desc_count.setStyleSheet(f"color: {color};" if color else "")

    @Slot(QTableWidgetItem)
    def _on_meta_item_changed(self, item: QTableWidgetItem) -> None:
        if self._updating:
            return
        row = item.row()
        key_item, value_item = self.meta.item(row, 0), self.meta.item(row, 1)
        key = key_item.text().strip() if key_item else ""
        value = value_item.text() if value_item else ""
        while len(self._meta_keys) <= row:
            self._meta_keys.append("")
        old = self._meta_keys[row]
        if old and old != key:
            self.sig_metadata_edited.emit(old, None)
        if key and key != "version":
            self.sig_metadata_edited.emit(key, value)
        self._meta_keys[row] = key

    @Slot()
    def _add_meta_row(self) -> None:
        self._updating = True
        row = self.meta.rowCount()
        self.meta.insertRow(row)
        self.meta.setItem(row, 0, QTableWidgetItem(""))
        self.meta.setItem(row, 1, QTableWidgetItem(""))
        self._meta_keys.insert(row, "")
        self._updating = False
        self.meta.setCurrentCell(row, 0)
        item = self.meta.item(row, 0)
        if item is not None:
            self.meta.editItem(item)

    @Slot()
    def _remove_meta_row(self) -> None:
        row = self.meta.currentRow()
        if row < 0:
            return
        key = self._meta_keys[row] if row < len(self._meta_keys) else ""
        self._updating = True
        self.meta.removeRow(row)
        if row < len(self._meta_keys):
            del self._meta_keys[row]
        self._updating = False
        if key:
            self.sig_metadata_edited.emit(key, None)
