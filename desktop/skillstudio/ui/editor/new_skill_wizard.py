"""The new-skill wizard: template → name and description → first trigger cases → created.

All file work is `bundle.scaffold.create_skill` (Qt-free, tested on its own); this module only asks.
The name is validated as the user types, with a normalised suggestion one click away; the description
gets a live character count and a nudge to say when *not* to use the skill, because that sentence is
what keeps a skill from stealing other skills' prompts.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from skillstudio.bundle import scaffold
from skillstudio.bundle.triggers import TriggerCase

_OK = "color: #1f8a4c;"
_BAD = "color: #c0392b;"
_WARN = "color: #b26a00;"
_MUTED = "color: palette(placeholder-text);"


class TemplatePage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("Choose a template")
        self.setSubTitle("Every template gives a valid SKILL.md, version 0.1.0 and a place for trigger cases.")
        self.templates = scaffold.list_templates()
        lay = QHBoxLayout(self)
        self.list = QListWidget()
        self.list.setMinimumWidth(200)
        self.list.setMaximumWidth(260)
        self.list.setSpacing(3)
        for t in self.templates:
            item = QListWidgetItem(t.title)
            item.setData(Qt.ItemDataRole.UserRole, t.id)
            item.setToolTip(t.summary or t.title)
            self.list.addItem(item)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.list)
        lay.addWidget(self.summary, 1)
        self.list.currentRowChanged.connect(self._on_row)
        self.list.setCurrentRow(0)

    @Slot(int)
    def _on_row(self, row: int) -> None:
        if 0 <= row < len(self.templates):
            t = self.templates[row]
            files = _template_files(t)
            listing = "".join(f"<li><code>{f}</code></li>" for f in files[:12])
            more = f"<li>… and {len(files) - 12} more</li>" if len(files) > 12 else ""
            self.summary.setText(
                f"<h3 style='margin-top:0'>{_esc(t.title)}</h3><p>{_esc(t.summary or 'No summary.')}</p>"
                f"<p style='color:gray'>Creates:</p><ul style='margin-left:-20px'>{listing}{more}</ul>")
        self.completeChanged.emit()

    def template_id(self) -> str:
        item = self.list.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else scaffold.DEFAULT_TEMPLATE

    def isComplete(self) -> bool:
        return self.list.currentItem() is not None


def _template_files(t: scaffold.Template) -> list[str]:
    files = {"SKILL.md", "evals/triggers.yaml"}
    if t.path is not None:
        files |= {p.relative_to(t.path).as_posix() for p in t.path.rglob("*") if p.is_file()}
    return sorted(files, key=lambda f: (f != "SKILL.md", f))


class NamePage(QWizardPage):
    def __init__(self, workspace: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.setTitle("Name and description")
        self.setSubTitle("The model sees only these two when it decides whether to use the skill.")
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. invoice-triage")
        self.name_edit.setMaxLength(200)
        self.name_status = QLabel()
        self.name_status.setWordWrap(True)
        self.suggest_btn = QPushButton()
        self.suggest_btn.setFlat(True)
        self.suggest_btn.setCursor(Qt.CursorShape.PointingHandCursor)
        self.suggest_btn.setStyleSheet("text-align: left; color: palette(link); padding: 0;")
        self.suggest_btn.hide()
        name_box = QVBoxLayout()
        name_box.setSpacing(2)
        name_box.addWidget(self.name_edit)
        row = QHBoxLayout()
        row.addWidget(self.name_status)
        row.addWidget(self.suggest_btn)
        row.addStretch(1)
        name_box.addLayout(row)
        form.addRow("Name:", name_box)

        self.desc_edit = QPlainTextEdit()
        self.desc_edit.setPlaceholderText(
            "What the skill does and when to use it. Do not use for … (name the near misses).")
        self.desc_edit.setTabChangesFocus(True)
        self.desc_edit.setMinimumHeight(110)
        self.desc_edit.setMaximumHeight(170)
        self.desc_count = QLabel()
        self.desc_hint = QLabel()
        self.desc_hint.setWordWrap(True)
        desc_box = QVBoxLayout()
        desc_box.setSpacing(2)
        desc_box.addWidget(self.desc_edit)
        foot = QHBoxLayout()
        foot.addWidget(self.desc_hint, 1)
        foot.addWidget(self.desc_count, 0, Qt.AlignmentFlag.AlignTop)
        desc_box.addLayout(foot)
        form.addRow("Description:", desc_box)
        where = QLabel(f"Created in <code>{_esc(str(workspace))}</code>")
        where.setStyleSheet(_MUTED)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("", where)

        self.name_edit.textChanged.connect(self._on_name)
        self.desc_edit.textChanged.connect(self._on_desc)
        self.suggest_btn.clicked.connect(self._use_suggestion)
        self._on_name("")
        self._on_desc()

    def name(self) -> str:
        return self.name_edit.text().strip()

    def description(self) -> str:
        return self.desc_edit.toPlainText().strip()

    def name_problem(self) -> str | None:
        name = self.name()
        problem = scaffold.name_problem(name)
        if problem is None and (self.workspace / name).exists():
            problem = f"'{name}' already exists in this workspace."
        return problem

    @Slot(str)
    def _on_name(self, _text: str) -> None:
        name = self.name()
        problem = self.name_problem()
        suggestion = ""
        if name and problem:  # invalid: the normalised form; valid but taken: name-2, name-3, ...
            base = scaffold.normalize_name(name)
            suggestion = self._free(base) if base else ""
        if not name:
            self.name_status.setText("Lowercase letters, digits and hyphens; it is also the folder name.")
            self.name_status.setStyleSheet(_MUTED)
        elif problem:
            self.name_status.setText(problem)
            self.name_status.setStyleSheet(_BAD)
        else:
            self.name_status.setText("✓ Valid name")
            self.name_status.setStyleSheet(_OK)
        self.suggest_btn.setVisible(bool(problem and suggestion and suggestion != name))
        self.suggest_btn.setText(f"Use “{suggestion}”")
        self.suggest_btn.setProperty("suggestion", suggestion)
        self.completeChanged.emit()

    def _free(self, name: str) -> str:
        if not (self.workspace / name).exists():
            return name
        for i in range(2, 100):
            cand = f"{name[: scaffold.MAX_NAME_LENGTH - 3]}-{i}"
            if not (self.workspace / cand).exists():
                return cand
        return ""

    @Slot()
    def _use_suggestion(self) -> None:
        self.name_edit.setText(str(self.suggest_btn.property("suggestion") or ""))
        self.desc_edit.setFocus()

    @Slot()
    def _on_desc(self) -> None:
        text = self.description()
        n = len(text)
        self.desc_count.setText(f"{n} / {scaffold.MAX_DESCRIPTION_LENGTH}")
        self.desc_count.setStyleSheet(_BAD if n > scaffold.MAX_DESCRIPTION_LENGTH else _MUTED)
        lowered = text.lower()
        if not text:
            self.desc_hint.setText("Say what it does, when to use it, and when not to.")
            self.desc_hint.setStyleSheet(_MUTED)
        elif n > scaffold.MAX_DESCRIPTION_LENGTH:
            self.desc_hint.setText(f"Too long: the Agent Skills limit is {scaffold.MAX_DESCRIPTION_LENGTH} characters.")
            self.desc_hint.setStyleSheet(_BAD)
        elif "do not use" not in lowered and "don't use" not in lowered and "not for" not in lowered:
            self.desc_hint.setText("Tip: add “Do not use for …” naming the near misses, so the skill "
                                   "does not take other skills' prompts.")
            self.desc_hint.setStyleSheet(_WARN)
        elif "<" in text or ">" in text:
            self.desc_hint.setText("Claude rejects “<” and “>” in descriptions; rephrase to keep the skill portable.")
            self.desc_hint.setStyleSheet(_WARN)
        else:
            self.desc_hint.setText("✓ Says when not to use the skill.")
            self.desc_hint.setStyleSheet(_OK)
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.name_problem() is None and scaffold.description_problem(self.description()) is None


class CasesPage(QWizardPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle("First trigger cases (optional)")
        self.setSubTitle("One prompt per line. You can add, import and edit cases later in the Trigger cases tab.")
        lay = QVBoxLayout(self)
        self.pos_edit = QPlainTextEdit()
        self.pos_edit.setPlaceholderText("Prompts that SHOULD load this skill, e.g.\nTriage the invoices in inbox/")
        self.neg_edit = QPlainTextEdit()
        self.neg_edit.setPlaceholderText(
            "Near misses that must NOT load it (another skill's job), e.g.\nReconcile the March ledger")
        self.pos_edit.setTabChangesFocus(True)
        self.neg_edit.setTabChangesFocus(True)
        lay.addWidget(QLabel("Should trigger:"))
        lay.addWidget(self.pos_edit, 1)
        lay.addWidget(QLabel("Should not trigger:"))
        lay.addWidget(self.neg_edit, 1)
        self.count = QLabel()
        lay.addWidget(self.count)
        self.pos_edit.textChanged.connect(self._on_text)
        self.neg_edit.textChanged.connect(self._on_text)
        self._on_text()

    @staticmethod
    def _lines(edit: QPlainTextEdit) -> list[str]:
        seen: set[str] = set()
        out = []
        for line in edit.toPlainText().splitlines():
            line = line.strip()
            if line and line.casefold() not in seen:
                seen.add(line.casefold())
                out.append(line)
        return out

    def cases(self) -> list[TriggerCase]:
        return [TriggerCase(prompt=p, expect="trigger") for p in self._lines(self.pos_edit)] + \
               [TriggerCase(prompt=p, expect="no_trigger") for p in self._lines(self.neg_edit)]

    @Slot()
    def _on_text(self) -> None:
        pos, neg = len(self._lines(self.pos_edit)), len(self._lines(self.neg_edit))
        text = f"{pos} trigger · {neg} no_trigger"
        if (pos or neg) and neg < 3:
            text += "  —  aim for at least 3 near misses"
            self.count.setStyleSheet(_WARN)
        else:
            self.count.setStyleSheet(_MUTED)
        self.count.setText(text)


class NewSkillWizard(QWizard):
    """Create a skill in `workspace`; after `exec()` returns Accepted, `created_path()` is the new folder."""

    def __init__(self, workspace: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = Path(workspace)
        self._created: Path | None = None
        self.setWindowTitle("New skill")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Create skill")
        self.template_page = TemplatePage()
        self.name_page = NamePage(self.workspace)
        self.cases_page = CasesPage()
        self.name_page.setFinalPage(True)  # the cases are optional: Create is offered from here on
        self.addPage(self.template_page)
        self.addPage(self.name_page)
        self.addPage(self.cases_page)
        self.resize(720, 520)

    def created_path(self) -> Path | None:
        return self._created

    def accept(self) -> None:
        try:
            self._created = scaffold.create_skill(
                self.workspace, self.name_page.name(), self.name_page.description(),
                self.template_page.template_id(), self.cases_page.cases())
        except scaffold.ScaffoldError as exc:
            QMessageBox.critical(self, "Cannot create the skill", f"{exc.message}\n\n{exc.hint}".strip())
            return
        super().accept()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
