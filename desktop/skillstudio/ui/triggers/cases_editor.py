"""The trigger cases editor: a table of prompts that should (or must not) load a skill.

Edits are undoable (the model's QUndoStack) and saved to `evals/triggers.yaml` atomically and in
place (`bundle.triggers_edit`): unchanged cases, comments and keys we do not know keep their text. A triggers.yaml that
cannot be parsed is never overwritten behind the user's back: the editor shows a banner and saves
nothing until the user reloads a fixed file or explicitly starts a new list (the broken file is then
kept as `triggers.yaml.bak`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from skillstudio.bundle import safeyaml, triggers
from skillstudio.bundle.fileio import atomic_write, read_text_file
from skillstudio.bundle.triggers import TriggerCase, TriggersError
from skillstudio.ui.common.banner import set_banner
from skillstudio.ui.common.font_scale import relative_font
from skillstudio.ui.triggers.cases_model import (
    COL_EXPECT,
    COL_LAST,
    COL_PROMPT,
    COL_WHY,
    EXPECT_VALUES,
    CaseRow,
    CasesModel,
)
from skillstudio.ui.triggers.last_results import results_for, short_label

if TYPE_CHECKING:
    from skillstudio.services.trigger_runs import TriggerReport

MIN_NO_TRIGGER = 3


class ExpectDelegate(QStyledItemDelegate):
    """A combo box (trigger / no_trigger) that commits as soon as a value is picked."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        combo = QComboBox(parent)
        combo.addItems(list(EXPECT_VALUES))
        combo.activated.connect(self._commit)
        return combo

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        assert isinstance(editor, QComboBox)
        value = index.data(Qt.ItemDataRole.EditRole)
        editor.setCurrentIndex(max(0, editor.findText(str(value))))

    def setModelData(self, editor: QWidget, model: Any, index: QModelIndex | QPersistentModelIndex) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)

    @Slot(int)
    def _commit(self, _index: int) -> None:
        editor = self.sender()
        if isinstance(editor, QWidget):
            self.commitData.emit(editor)
            self.closeEditor.emit(editor, QStyledItemDelegate.EndEditHint.NoHint)


class _CasesView(QTableView):
    """The table; it keeps Ctrl+Z/Ctrl+Y for the cases' undo stack while it has focus."""

    sig_delete = Signal()
    sig_duplicate = Signal()

    def __init__(self, model: CasesModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cases = model

    def event(self, ev: QEvent) -> bool:
        if ev.type() == QEvent.Type.ShortcutOverride and isinstance(ev, QKeyEvent) and self.state() != \
                QAbstractItemView.State.EditingState and (
                ev.matches(QKeySequence.StandardKey.Undo) or ev.matches(QKeySequence.StandardKey.Redo)):
            ev.accept()  # take the key from window-wide Undo/Redo shortcuts
            return True
        return super().event(ev)

    def keyPressEvent(self, ev: QKeyEvent) -> None:
        if self.state() != QAbstractItemView.State.EditingState:
            if ev.matches(QKeySequence.StandardKey.Undo):
                self._cases.undo_stack.undo()
                return
            if ev.matches(QKeySequence.StandardKey.Redo):
                self._cases.undo_stack.redo()
                return
            if ev.key() == Qt.Key.Key_Delete:
                self.sig_delete.emit()
                return
            if ev.key() == Qt.Key.Key_D and ev.modifiers() == Qt.KeyboardModifier.ControlModifier:
                self.sig_duplicate.emit()
                return
        super().keyPressEvent(ev)


def _tool(text: str, tip: str) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    b.setAutoRaise(True)
    return b


class TriggerCasesEditor(QWidget):
    """Edit one skill's `evals/triggers.yaml`. Host it, call `load(skill_dir)`, watch `sig_dirty_changed`."""

    sig_changed = Signal()
    sig_dirty_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._skill_dir: Path | None = None
        self._broken: str | None = None  # parse error of the file on disk
        self._replace_broken = False  # the user chose to replace the broken file
        self._loaded_text: str | None = None  # the file as read, to notice edits by other tools
        self._extra_before: dict[str, Any] = {}
        self._extra_after: dict[str, Any] = {}
        self._header_comment = ""
        self._loading = False
        self._was_dirty = False

        self.model = CasesModel(self)
        self.undo_stack = self.model.undo_stack
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._build()
        self.model.rowsInserted.connect(self._on_model_changed)
        self.model.rowsRemoved.connect(self._on_model_changed)
        self.model.rowsMoved.connect(self._on_model_changed)
        self.model.dataChanged.connect(self._on_model_changed)
        self.model.modelReset.connect(self._on_model_changed)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.undo_stack.canUndoChanged.connect(self._update_actions)
        self.undo_stack.canRedoChanged.connect(self._update_actions)
        self.undo_stack.indexChanged.connect(self._on_undo_index)
        self._update_all()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(8, 8, 8, 6)
        root.setSpacing(6)

        self.banner = QFrame()
        self.banner.setObjectName("casesBanner")
        set_banner(self.banner, "error")  # coloured by the theme
        bl = QHBoxLayout(self.banner)
        bl.setContentsMargins(10, 6, 6, 6)
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.btn_reload = QPushButton("Reload")
        self.btn_reload.setToolTip("Read evals/triggers.yaml again (after you fixed it in the editor)")
        self.btn_replace = QPushButton("Start a new list…")
        self.btn_replace.setToolTip("Replace the broken file on the next save (a .bak copy is kept)")
        bl.addWidget(self.banner_label, 1)
        bl.addWidget(self.btn_reload)
        bl.addWidget(self.btn_replace)
        root.addWidget(self.banner)
        self.banner.hide()
        self.btn_reload.clicked.connect(self.reload)
        self.btn_replace.clicked.connect(self._on_replace_broken)

        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.toolbar = QToolBar()  # buttons that do not fit a narrow dock go behind its » menu
        self.toolbar.setIconSize(QSize(16, 16))
        self.toolbar.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.toolbar.setMovable(False)
        self.btn_add = _tool("+ Trigger", "Add a prompt that should load this skill")
        self.btn_add_neg = _tool("+ No trigger", "Add a near miss: a prompt that must NOT load this skill")
        self.btn_dup = _tool("Duplicate", "Duplicate the selected cases (Ctrl+D)")
        self.btn_remove = _tool("Remove", "Remove the selected cases (Delete)")
        self.btn_up = _tool("▲", "Move the case up")
        self.btn_down = _tool("▼", "Move the case down")
        self.btn_import = _tool("Import…", "Import an Anthropic skill-creator eval set "
                                           '(JSON: [{"query": ..., "should_trigger": true}])')
        self.btn_undo = _tool("Undo", "Undo (Ctrl+Z)")
        self.btn_redo = _tool("Redo", "Redo (Ctrl+Shift+Z)")
        tb = self.toolbar
        for w in (self.btn_add, self.btn_add_neg, self.btn_dup, self.btn_remove, self.btn_up, self.btn_down):
            tb.addWidget(w)
        tb.addSeparator()
        tb.addWidget(self.btn_import)
        tb.addSeparator()
        tb.addWidget(self.btn_undo)
        tb.addWidget(self.btn_redo)
        bar.addWidget(tb, 1)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter cases…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMinimumWidth(120)
        self.filter_edit.setMaximumWidth(240)
        bar.addWidget(self.filter_edit)
        root.addLayout(bar)

        self.btn_add.clicked.connect(self._on_add_trigger)
        self.btn_add_neg.clicked.connect(self._on_add_no_trigger)
        self.btn_dup.clicked.connect(self.duplicate_selected)
        self.btn_remove.clicked.connect(self.remove_selected)
        self.btn_up.clicked.connect(self._on_move_up)
        self.btn_down.clicked.connect(self._on_move_down)
        self.btn_import.clicked.connect(self.import_skill_creator)
        self.btn_undo.clicked.connect(self.undo_stack.undo)
        self.btn_redo.clicked.connect(self.undo_stack.redo)
        self.filter_edit.textChanged.connect(self._on_filter)

        self.view = _CasesView(self.model)
        self.view.setModel(self.proxy)
        self.view.setTabKeyNavigation(False)  # Tab leaves the table (arrows move between cells)
        self.view.setItemDelegateForColumn(COL_EXPECT, ExpectDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed
                                  | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(COL_PROMPT, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(COL_EXPECT, QHeaderView.ResizeMode.Fixed)
        hh.setSectionResizeMode(COL_WHY, QHeaderView.ResizeMode.Interactive)
        hh.setSectionResizeMode(COL_LAST, QHeaderView.ResizeMode.Fixed)
        self.view.setColumnWidth(COL_LAST, 96)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.view.setColumnWidth(COL_EXPECT, 110)
        self.view.setColumnWidth(COL_WHY, 240)
        self.view.verticalHeader().setDefaultSectionSize(26)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu)
        self.view.sig_delete.connect(self.remove_selected)
        self.view.sig_duplicate.connect(self.duplicate_selected)
        self.view.selectionModel().selectionChanged.connect(self._update_actions)

        self.empty = QWidget()
        el = QVBoxLayout(self.empty)
        el.addStretch(1)
        self.empty_title = QLabel()
        self.empty_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        relative_font(self.empty_title, 1.25, bold=True)
        self.empty_text = QLabel()
        self.empty_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_text.setWordWrap(True)
        self.empty_text.setStyleSheet("color: palette(placeholder-text);")
        el.addWidget(self.empty_title)
        el.addWidget(self.empty_text)
        eb = QHBoxLayout()
        eb.addStretch(1)
        self.empty_add = QPushButton("Add a trigger case")
        self.empty_import = QPushButton("Import skill-creator JSON…")
        eb.addWidget(self.empty_add)
        eb.addWidget(self.empty_import)
        eb.addStretch(1)
        el.addLayout(eb)
        el.addStretch(2)
        self.empty_add.clicked.connect(self._on_add_trigger)
        self.empty_import.clicked.connect(self.import_skill_creator)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        root.addWidget(self.stack, 1)

        foot = QHBoxLayout()
        self.counts_label = QLabel()
        self.counts_label.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.hint_label = QLabel()
        self.hint_label.setStyleSheet("color: #b26a00;")
        self.hint_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # clip, never squeeze
        self.status_label = QLabel()
        self.status_label.setStyleSheet("color: palette(placeholder-text);")
        foot.addWidget(self.counts_label)
        foot.addSpacing(12)
        foot.addWidget(self.hint_label, 1)
        foot.addWidget(self.status_label)
        root.addLayout(foot)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # "why" takes up to 30% so the prompt, the column that matters, keeps most of a narrow dock
        width = event.size().width() - self.view.verticalHeader().width() - 236  # minus expect, last run, margins
        self.view.setColumnWidth(COL_WHY, max(90, min(280, int(width * 0.35))))

    # --------------------------------------------------------------------- API
    def skill_dir(self) -> Path | None:
        return self._skill_dir

    def triggers_path(self) -> Path | None:
        return self._skill_dir / triggers.TRIGGERS_PATH if self._skill_dir else None

    def load(self, skill_dir: Path | None) -> None:
        """Show the cases of `skill_dir` (None: nothing). Unsaved edits of the previous skill are dropped:
        the host asks the user first (see is_dirty)."""
        self._skill_dir = Path(skill_dir) if skill_dir is not None else None
        self._broken = None
        self._replace_broken = False
        self._loaded_text = None
        self._extra_before, self._extra_after, self._header_comment = {}, {}, ""
        rows: list[CaseRow] = []
        path = self.triggers_path()
        if path is not None and self._skill_dir is not None and os.path.lexists(path):
            try:
                text = triggers.read_cases_text(self._skill_dir) or ""  # as the CLI reads it
                self._loaded_text = text
                cases = triggers.parse_cases(text, str(triggers.TRIGGERS_PATH))
                self._keep_extras(text)
                rows = [CaseRow.from_case(c) for c in cases]
            except (OSError, ValueError) as exc:  # TriggersError is a ValueError
                self._broken = str(exc)
        self._loading = True
        try:
            self.filter_edit.clear()
            self.model.reset_rows(rows)
        finally:
            self._loading = False
        self.status_label.clear()
        self._emit_dirty_if_changed()
        self._update_all()

    def show_last_results(self, report: TriggerReport | None) -> None:
        """Show a run's verdict beside each case; a run with none of this skill's cases changes nothing."""
        if report is None or self._skill_dir is None:
            return
        results = results_for(report, self._skill_dir, short_label(report))
        if results is not None:
            self.model.set_results(results)

    @Slot()
    def reload(self) -> None:
        self.load(self._skill_dir)

    def cases(self) -> list[TriggerCase]:
        """The cases as shown, skipping rows whose prompt is still empty."""
        return [r.to_case() for r in self.model.rows() if r.prompt.strip()]

    def is_dirty(self) -> bool:
        return self._skill_dir is not None and (not self.undo_stack.isClean() or self._replace_broken)

    # the Document protocol (ui.common.contracts)
    def document_title(self) -> str:
        return f"{self._skill_dir.name}: trigger cases" if self._skill_dir is not None else "?"

    def document_skill_dir(self) -> Path | None:
        return self._skill_dir

    def add_new_cases(self, prompts: list[str], expect: str, why: str, label: str) -> int:
        """Append the prompts not in the table yet as one undo step; returns how many were added."""
        have = {r.prompt.strip() for r in self.model.rows()}
        rows = [CaseRow(p, expect, why) for p in dict.fromkeys(prompts) if p.strip() and p.strip() not in have]
        if rows:
            self.model.insert_cases(self.model.rowCount(), rows, label)
        return len(rows)

    def recovery_text(self) -> str:
        """What the crash-recovery area keeps of this table: the file as Save would write it."""
        return self._render()

    def restore_cases(self, cases: list[TriggerCase]) -> None:
        """Show recovered unsaved cases instead of the file's, as one undoable step (Ctrl+Z: the file's)."""
        self.filter_edit.clear()
        self.undo_stack.beginMacro("restore unsaved cases")
        self.model.remove_rows(list(range(self.model.rowCount())))
        self.model.insert_cases(0, [CaseRow.from_case(c) for c in cases], "restore unsaved cases")
        self.undo_stack.endMacro()
        self._set_status(f"Restored {len(cases)} unsaved cases: save to keep them")

    def is_broken(self) -> bool:
        return self._broken is not None and not self._replace_broken

    def save(self) -> bool:
        """Write evals/triggers.yaml; False (with the reason shown) when nothing was written."""
        path = self.triggers_path()
        if path is None:
            return False
        if self.is_broken():
            self._show_banner()
            return False
        empty = self.model.empty_prompt_rows()
        if empty:
            self._select_source_rows(empty[:1])
            self._set_status(f"Row {empty[0] + 1} has an empty prompt: type it or remove the row.", error=True)
            return False
        if not self._confirm_external_change(path):
            return False
        text = self._render()
        try:
            if self._replace_broken and path.exists():
                atomic_write(path.with_name(path.name + ".bak"), path.read_bytes())
            atomic_write(path, text)
        except OSError as exc:
            self._set_status(f"Could not save {triggers.TRIGGERS_PATH}: {exc.strerror or exc}", error=True)
            return False
        self._loaded_text = text
        self._broken = None
        self._replace_broken = False
        self.undo_stack.setClean()
        self._set_status(f"Saved {len(self.cases())} cases to {triggers.TRIGGERS_PATH.as_posix()}")
        self._emit_dirty_if_changed()
        self._update_all()
        return True

    # ------------------------------------------------------------- file format
    def _keep_extras(self, text: str) -> None:
        """Remember top-level keys besides `cases` and the file's leading comment, to write them back."""
        data = safeyaml.safe_load(text)  # bounded: the text was parsed (and limited) just before
        if isinstance(data, dict):
            keys = list(data)
            pos = keys.index("cases") if "cases" in keys else len(keys)
            self._extra_before = {k: data[k] for k in keys[:pos]}
            self._extra_after = {k: data[k] for k in keys[pos + 1:]}
        lines = []
        for line in text.splitlines(keepends=True):
            if not line.startswith("#"):
                break
            lines.append(line if line.endswith("\n") else line + "\n")
        self._header_comment = "".join(lines)

    def _render(self) -> str:
        # in place: unchanged cases, comments and keys we do not know keep their exact text
        from skillstudio.bundle.triggers_edit import edit_cases  # on first save, not at start-up

        return edit_cases(self._loaded_text, self.cases())

    def _confirm_external_change(self, path: Path) -> bool:
        try:
            on_disk: str | None = read_text_file(path, root=self._skill_dir) if path.exists() else None
        except (OSError, ValueError):
            on_disk = None
        if on_disk is None or on_disk == self._loaded_text or self._replace_broken:
            return True
        answer = QMessageBox.question(
            self, "Trigger cases changed on disk",
            f"{triggers.TRIGGERS_PATH.as_posix()} was changed by another program since it was opened.\n\n"
            "Overwrite it with the cases shown here?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    # ---------------------------------------------------------------- actions
    def add_case(self, expect: str = "trigger", prompt: str = "", why: str = "") -> int:
        """Insert a case after the current row and start editing its prompt; returns the source row."""
        if self._skill_dir is None or self.is_broken():
            return -1
        self.filter_edit.clear()  # a new row must be visible
        rows = self._selected_source_rows()
        r = (rows[-1] + 1) if rows else self.model.rowCount()
        self.model.insert_cases(r, [CaseRow(prompt, expect, why)],
                                "add trigger case" if expect == "trigger" else "add no_trigger case")
        self._select_source_rows([r])
        if not prompt:
            self.view.edit(self.proxy.mapFromSource(self.model.index(r, COL_PROMPT)))
        return r

    @Slot()
    def _on_add_trigger(self) -> None:
        self.add_case("trigger")

    @Slot()
    def _on_add_no_trigger(self) -> None:
        self.add_case("no_trigger")

    @Slot()
    def duplicate_selected(self) -> None:
        rows = self._selected_source_rows()
        if not rows:
            return
        copies = [self.model.row(r) for r in rows]
        at = rows[-1] + 1
        self.model.insert_cases(at, copies, f"duplicate {len(copies)} case{'s' if len(copies) > 1 else ''}")
        self._select_source_rows(list(range(at, at + len(copies))))

    @Slot()
    def remove_selected(self) -> None:
        rows = self._selected_source_rows()
        if rows:
            self.model.remove_rows(rows)
            nxt = min(rows[0], self.model.rowCount() - 1)
            if nxt >= 0:
                self._select_source_rows([nxt])

    def move_selected(self, delta: int) -> None:
        rows = self._selected_source_rows()
        if len(rows) != 1 or self.filter_edit.text():
            return
        dst = rows[0] + delta
        if self.model.move_row(rows[0], dst):
            self._select_source_rows([dst])

    @Slot()
    def _on_move_up(self) -> None:
        self.move_selected(-1)

    @Slot()
    def _on_move_down(self) -> None:
        self.move_selected(+1)

    @Slot()
    def import_skill_creator(self) -> None:
        """Append the cases of a skill-creator eval set chosen in a file dialog (duplicates skipped)."""
        if self._skill_dir is None or self.is_broken():
            return
        start = self._skill_dir / "evals"
        path, _ = QFileDialog.getOpenFileName(
            self, "Import skill-creator eval set", str(start if start.is_dir() else self._skill_dir),
            "Eval sets (*.json);;All files (*)")
        if not path:
            return
        try:
            imported = triggers.import_skill_creator_file(Path(path))
        except TriggersError as exc:
            QMessageBox.warning(self, "Cannot import eval set",
                                f"{exc}\n\nExpected a JSON list like "
                                '[{"query": "...", "should_trigger": true}].')
            return
        have = {(r.prompt.strip().casefold(), r.expect) for r in self.model.rows()}
        new_rows: list[CaseRow] = []
        for case in imported:
            key = (case.prompt.strip().casefold(), case.expect)
            if key not in have:
                have.add(key)
                new_rows.append(CaseRow.from_case(case))
        skipped = len(imported) - len(new_rows)
        name = Path(path).name
        if not new_rows:
            self._set_status(f"Nothing new in {name}: all {len(imported)} cases are already here.")
            return
        self.filter_edit.clear()
        at = self.model.rowCount()
        self.model.insert_cases(at, new_rows, f"import {len(new_rows)} cases")
        self._select_source_rows(list(range(at, at + len(new_rows))))
        self._set_status(f"Imported {len(new_rows)} cases from {name}"
                         + (f" ({skipped} already present)" if skipped else ""))

    def set_expect_selected(self, expect: str) -> None:
        self.model.set_expect(self._selected_source_rows(), expect)

    @Slot()
    def _mark_trigger(self) -> None:
        self.set_expect_selected("trigger")

    @Slot()
    def _mark_no_trigger(self) -> None:
        self.set_expect_selected("no_trigger")

    @Slot(QPoint)
    def _on_context_menu(self, pos: QPoint) -> None:
        if self._skill_dir is None or self.is_broken():
            return
        rows = self._selected_source_rows()
        menu = QMenu(self)
        menu.addAction("Add trigger case", self._on_add_trigger)
        menu.addAction("Add no_trigger case", self._on_add_no_trigger)
        menu.addSeparator()
        for text, slot in (("Mark as trigger", self._mark_trigger), ("Mark as no_trigger", self._mark_no_trigger),
                           ("Duplicate", self.duplicate_selected), ("Remove", self.remove_selected)):
            act = menu.addAction(text, slot)
            act.setEnabled(bool(rows))
        menu.popup(self.view.viewport().mapToGlobal(pos))

    @Slot()
    def _on_replace_broken(self) -> None:
        path = self.triggers_path()
        answer = QMessageBox.question(
            self, "Start a new list of trigger cases?",
            f"{triggers.TRIGGERS_PATH.as_posix()} cannot be read:\n{self._broken}\n\n"
            "Start an empty list instead? The broken file is replaced only when you save, and a copy is kept "
            f"as {path.name + '.bak' if path else 'triggers.yaml.bak'}.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._replace_broken = True
        self._emit_dirty_if_changed()
        self._update_all()

    # ---------------------------------------------------------------- helpers
    def _selected_source_rows(self) -> list[int]:
        sm = self.view.selectionModel()
        rows = {self.proxy.mapToSource(i).row() for i in sm.selectedRows()}
        if not rows and sm.currentIndex().isValid() and sm.isSelected(sm.currentIndex()):
            rows.add(self.proxy.mapToSource(sm.currentIndex()).row())
        return sorted(r for r in rows if r >= 0)

    def _select_source_rows(self, rows: list[int]) -> None:
        sm = self.view.selectionModel()
        sm.clearSelection()
        first: QModelIndex | None = None
        for r in rows:
            idx = self.proxy.mapFromSource(self.model.index(r, 0))
            if idx.isValid():
                sm.select(idx, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
                first = first or idx
        if first is not None:
            sm.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.view.scrollTo(first)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setStyleSheet("color: #c0392b;" if error else "color: palette(placeholder-text);")
        self.status_label.setText(text)

    def _show_banner(self) -> None:
        self.banner_label.setText(
            f"<b>{triggers.TRIGGERS_PATH.as_posix()} cannot be read:</b> "
            f"{_escape((self._broken or '').removeprefix(str(triggers.TRIGGERS_PATH) + ': '))}<br>"
            "Nothing is written to it until you fix the file and press Reload, or start a new list.")
        self.banner.show()

    @Slot(str)
    def _on_filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_all()

    @Slot()
    def _on_model_changed(self) -> None:
        self._update_all()

    @Slot(int)
    def _on_undo_index(self, _idx: int) -> None:
        if not self._loading:
            self.sig_changed.emit()

    @Slot(bool)
    def _on_clean_changed(self, _clean: bool) -> None:
        self._emit_dirty_if_changed()

    def _emit_dirty_if_changed(self) -> None:
        dirty = self.is_dirty()
        if dirty != self._was_dirty:
            self._was_dirty = dirty
            self.sig_dirty_changed.emit(dirty)

    def _update_all(self) -> None:
        has_skill = self._skill_dir is not None
        broken = self.is_broken()
        if broken:
            self._show_banner()
        else:
            self.banner.hide()
        n = self.model.rowCount()
        shown = self.proxy.rowCount()
        if not has_skill:
            self.empty_title.setText("No skill selected")
            self.empty_text.setText("Choose a skill in the workspace to edit its trigger cases.")
        elif broken:
            self.empty_title.setText("Trigger cases not loaded")
            self.empty_text.setText("Fix evals/triggers.yaml and press Reload, or start a new list.")
        else:
            self.empty_title.setText("No trigger cases yet")
            self.empty_text.setText(
                "Add prompts that should load this skill, and near misses that should not\n"
                "(requests that belong to another skill). Or import a skill-creator eval set.")
        self.empty_add.setVisible(has_skill and not broken)
        self.empty_import.setVisible(has_skill and not broken)
        self.stack.setCurrentWidget(self.view if n else self.empty)
        self.filter_edit.setEnabled(has_skill and not broken and n > 0)

        trig, neg = self.model.counts()
        if has_skill and not broken:
            text = f"{trig} trigger · {neg} no_trigger"
            if shown != n:
                text += f"  (showing {shown} of {n})"
            self.counts_label.setText(text)
            few = neg < MIN_NO_TRIGGER
            self.hint_label.setText(f"⚠ Add at least {MIN_NO_TRIGGER} no_trigger cases (near misses)" if few else "")
            self.hint_label.setToolTip(
                "Near misses — prompts that belong to another skill — show whether the description keeps "
                "this skill out of prompts it must not take." if few else "")
        else:
            self.counts_label.setText("")
            self.hint_label.setText("")
        self._update_actions()

    @Slot()
    def _update_actions(self) -> None:
        editable = self._skill_dir is not None and not self.is_broken()
        rows = self._selected_source_rows() if editable else []
        filtered = bool(self.filter_edit.text())
        for b in (self.btn_add, self.btn_add_neg, self.btn_import):
            b.setEnabled(editable)
        self.btn_dup.setEnabled(bool(rows))
        self.btn_remove.setEnabled(bool(rows))
        self.btn_up.setEnabled(len(rows) == 1 and not filtered and rows[0] > 0)
        self.btn_down.setEnabled(len(rows) == 1 and not filtered and rows[0] < self.model.rowCount() - 1)
        self.btn_up.setToolTip("Move the case up" if not filtered else "Clear the filter to reorder cases")
        self.btn_undo.setEnabled(editable and self.undo_stack.canUndo())
        self.btn_redo.setEnabled(editable and self.undo_stack.canRedo())
        self.btn_undo.setToolTip(f"Undo {self.undo_stack.undoText()} (Ctrl+Z)" if self.undo_stack.canUndo()
                                 else "Nothing to undo")
        self.btn_redo.setToolTip(f"Redo {self.undo_stack.redoText()} (Ctrl+Shift+Z)" if self.undo_stack.canRedo()
                                 else "Nothing to redo")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
