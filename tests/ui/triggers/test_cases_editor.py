"""TriggerCasesEditor: inline edits, import, undo, and never overwriting a broken triggers.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QFileDialog, QLineEdit, QMessageBox

from skillstudio.bundle.triggers import TriggerCase, load_cases
from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor
from skillstudio.ui.triggers.cases_model import COL_EXPECT, COL_PROMPT, COL_WHY

ORIGINAL = """\
# Cases for crm-query, reviewed by the sales team.
suite: crm
cases:
  - prompt: Pull the Q3 pipeline for Acme from Salesforce
    expect: trigger
    tags: [pipeline]
  - prompt: A customer says their login is broken, draft a reply
    expect: no_trigger
    why: support tickets belong to support-reply
  - prompt: List open opportunities over 50k
    expect: trigger
owner: sales-ops
"""


def _snapshot(widget: TriggerCasesEditor, path: Path) -> None:
    """Let pending layout requests run (label sizes), then save what a person would see."""
    QApplication.processEvents()
    assert widget.grab().save(str(path))


def _skill(tmp_path: Path, triggers_text: str | None = ORIGINAL) -> Path:
    skill = tmp_path / "crm-query"
    (skill / "evals").mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: crm-query\ndescription: CRM.\n---\n", encoding="utf-8")
    if triggers_text is not None:
        (skill / "evals" / "triggers.yaml").write_text(triggers_text, encoding="utf-8")
    return skill


@pytest.fixture()
def editor(qtbot) -> TriggerCasesEditor:  # type: ignore[no-untyped-def]
    w = TriggerCasesEditor()
    qtbot.addWidget(w)
    w.resize(900, 420)
    w.show()
    qtbot.waitExposed(w)
    return w


def _open_editor(editor: TriggerCasesEditor, kind: type) -> object:
    """The inline editor the view has open now (closed ones linger until deleteLater runs)."""
    found = [w for w in editor.view.findChildren(kind) if w.isVisible()]
    assert len(found) == 1, found
    return found[0]


def _type_into_cell(qtbot, editor: TriggerCasesEditor, src_row: int, col: int, text: str) -> None:  # type: ignore[no-untyped-def]
    """Edit a cell the way a user does: open the inline editor, type, press Enter."""
    idx = editor.proxy.mapFromSource(editor.model.index(src_row, col))
    editor.view.setCurrentIndex(idx)
    editor.view.edit(idx)
    line = _open_editor(editor, QLineEdit)
    assert isinstance(line, QLineEdit)
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: editor.view.state() != editor.view.State.EditingState)  # commit is queued


def _pick_expect(editor: TriggerCasesEditor, src_row: int, value: str) -> None:
    idx = editor.proxy.mapFromSource(editor.model.index(src_row, COL_EXPECT))
    editor.view.edit(idx)
    combo = _open_editor(editor, QComboBox)
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findText(value))
    combo.activated.emit(combo.currentIndex())
    assert editor.view.state() != editor.view.State.EditingState


def test_add_edit_remove_and_save_round_trips(qtbot, editor: TriggerCasesEditor, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              artifacts_dir: Path) -> None:
    skill = _skill(tmp_path)
    editor.load(skill)
    assert not editor.is_dirty()
    assert editor.counts_label.text() == "2 trigger · 1 no_trigger"
    assert "at least 3 no_trigger cases" in editor.hint_label.text()

    with qtbot.waitSignal(editor.sig_dirty_changed, check_params_cb=lambda d: d is True):
        editor.view.selectRow(2)
        editor.btn_add_neg.click()
    assert editor.model.rowCount() == 4
    line = _open_editor(editor, QLineEdit)  # the new row's prompt is open for typing
    assert isinstance(line, QLineEdit)
    qtbot.keyClicks(line, "Reconcile the March ledger")
    qtbot.keyClick(line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: editor.view.state() != editor.view.State.EditingState)
    _type_into_cell(qtbot, editor, 3, COL_WHY, "ledger-reconcile owns month-end")
    _type_into_cell(qtbot, editor, 0, COL_PROMPT, "Pull the Q4 pipeline for Acme from Salesforce")
    _pick_expect(editor, 2, "no_trigger")  # flip "List open opportunities" to no_trigger
    editor.view.selectRow(1)
    editor.btn_remove.click()
    assert editor.counts_label.text() == "1 trigger · 2 no_trigger"
    assert editor.is_dirty()

    assert editor.save() is True
    assert not editor.is_dirty()
    text = (skill / "evals" / "triggers.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Cases for crm-query, reviewed by the sales team.\n")
    data = yaml.safe_load(text)
    assert list(data) == ["suite", "cases", "owner"]
    assert data["suite"] == "crm" and data["owner"] == "sales-ops"
    assert data["cases"] == [
        {"prompt": "Pull the Q4 pipeline for Acme from Salesforce", "expect": "trigger", "tags": ["pipeline"]},
        {"prompt": "List open opportunities over 50k", "expect": "no_trigger"},
        {"prompt": "Reconcile the March ledger", "expect": "no_trigger", "why": "ledger-reconcile owns month-end"},
    ]
    assert load_cases(skill) == editor.cases()
    _snapshot(editor, artifacts_dir / "cases_editor.png")

    editor.load(skill)  # reading back what we wrote gives the same cases
    assert [c.prompt for c in editor.cases()] == [c["prompt"] for c in data["cases"]]


def test_duplicate_move_filter_and_counts(qtbot, editor: TriggerCasesEditor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    editor.load(_skill(tmp_path))
    editor.view.selectRow(0)
    editor.btn_dup.click()
    assert [c.prompt for c in editor.cases()][:2] == ["Pull the Q3 pipeline for Acme from Salesforce"] * 2
    assert editor.cases()[1].model_extra == {"tags": ["pipeline"]}
    editor.view.selectRow(3)
    editor.btn_up.click()
    assert editor.cases()[2].prompt == "List open opportunities over 50k"
    editor.filter_edit.setText("acme")
    assert editor.proxy.rowCount() == 2
    assert "showing 2 of 4" in editor.counts_label.text()
    assert not editor.btn_up.isEnabled()  # reordering a filtered view would jump over hidden rows
    editor.filter_edit.clear()
    assert editor.counts_label.text() == "3 trigger · 1 no_trigger"
    editor.view.selectAll()
    editor.set_expect_selected("no_trigger")  # context menu "Mark as no_trigger", one undo step
    assert editor.counts_label.text() == "0 trigger · 4 no_trigger"
    assert editor.undo_stack.undoText() == "mark 3 cases no_trigger"
    editor.undo_stack.undo()
    assert editor.counts_label.text() == "3 trigger · 1 no_trigger"


def test_empty_prompt_blocks_save(qtbot, editor: TriggerCasesEditor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    skill = _skill(tmp_path)
    editor.load(skill)
    editor.add_case("trigger")
    QApplication.processEvents()
    assert editor.save() is False
    assert "Row 4 has an empty prompt" in editor.status_label.text()
    assert (skill / "evals" / "triggers.yaml").read_text(encoding="utf-8") == ORIGINAL
    assert len(editor.cases()) == 3


def test_import_skill_creator_json(qtbot, editor: TriggerCasesEditor, tmp_path: Path,  # type: ignore[no-untyped-def]
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    skill = _skill(tmp_path)
    evalset = tmp_path / "evals.json"
    evalset.write_text(json.dumps([
        {"query": "Show Globex's renewal date in the CRM", "should_trigger": True},
        {"query": "Write a haiku about routers", "should_trigger": False},
        {"query": "pull the q3 pipeline for acme from salesforce", "should_trigger": True},  # already there
    ]), encoding="utf-8")
    asked: list[str] = []

    def fake_open(parent, caption, directory, filter):  # type: ignore[no-untyped-def]  # noqa: A002
        asked.append(directory)
        return str(evalset), "Eval sets (*.json)"

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(fake_open))
    editor.load(skill)
    editor.btn_import.click()
    assert asked == [str(skill / "evals")]
    assert [(c.prompt, c.expect) for c in editor.cases()[3:]] == [
        ("Show Globex's renewal date in the CRM", "trigger"), ("Write a haiku about routers", "no_trigger")]
    assert editor.status_label.text() == "Imported 2 cases from evals.json (1 already present)"
    editor.undo_stack.undo()  # one import = one undo step
    assert len(editor.cases()) == 3

    evalset.write_text('{"query": "not a list"}', encoding="utf-8")
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda parent, title, text, *a: warnings.append(text)))
    editor.btn_import.click()
    assert len(warnings) == 1 and "expected a JSON list" in warnings[0]
    assert len(editor.cases()) == 3


def test_undo_redo_of_edits(qtbot, editor: TriggerCasesEditor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    editor.load(_skill(tmp_path))
    dirty: list[bool] = []
    editor.sig_dirty_changed.connect(dirty.append)
    changed: list[int] = []
    editor.sig_changed.connect(lambda: changed.append(1))

    _type_into_cell(qtbot, editor, 1, COL_PROMPT, "Draft a reply to an angry customer")
    editor.view.selectRow(0)
    editor.btn_remove.click()
    assert [c.prompt for c in editor.cases()] == ["Draft a reply to an angry customer",
                                                 "List open opportunities over 50k"]
    editor.view.setFocus()
    qtbot.keyClick(editor.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo remove
    assert len(editor.cases()) == 3
    editor.btn_undo.click()  # undo the edit
    assert editor.cases()[1].prompt == "A customer says their login is broken, draft a reply"
    assert dirty == [True, False] and not editor.is_dirty()
    assert not editor.btn_undo.isEnabled()
    editor.btn_redo.click()
    assert editor.cases()[1].prompt == "Draft a reply to an angry customer"
    assert editor.is_dirty() and dirty == [True, False, True]
    assert len(changed) == 5  # edit, remove, undo, undo, redo


def test_broken_yaml_shows_banner_and_is_never_overwritten(qtbot, editor: TriggerCasesEditor, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           artifacts_dir: Path) -> None:
    broken = "cases:\n  - prompt: Pull the pipeline\n    expect: trigger\n   - bad indent: [\n"
    skill = _skill(tmp_path, broken)
    path = skill / "evals" / "triggers.yaml"
    editor.load(skill)
    assert editor.banner.isVisible()
    assert "cannot be read" in editor.banner_label.text() and "invalid YAML" in editor.banner_label.text()
    assert editor.is_broken() and not editor.is_dirty()
    assert not editor.btn_add.isEnabled() and editor.add_case() == -1
    assert editor.save() is False
    assert path.read_text(encoding="utf-8") == broken
    _snapshot(editor, artifacts_dir / "cases_editor_broken.png")

    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Cancel))
    editor.btn_replace.click()
    assert editor.is_broken() and path.read_text(encoding="utf-8") == broken

    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    editor.btn_replace.click()
    assert not editor.is_broken() and editor.is_dirty() and not editor.banner.isVisible()
    editor.add_case("trigger", prompt="Pull the pipeline")
    assert editor.save() is True
    assert load_cases(skill) == [TriggerCase(prompt="Pull the pipeline", expect="trigger")]
    assert (skill / "evals" / "triggers.yaml.bak").read_text(encoding="utf-8") == broken


def test_reload_after_fixing_the_file(qtbot, editor: TriggerCasesEditor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    skill = _skill(tmp_path, "cases:\n  - prompt: x\n    expect: maybe\n")
    editor.load(skill)
    assert "'expect' must be 'trigger' or 'no_trigger'" in editor.banner_label.text()
    (skill / "evals" / "triggers.yaml").write_text(ORIGINAL, encoding="utf-8")
    editor.btn_reload.click()
    assert not editor.banner.isVisible() and len(editor.cases()) == 3


def test_file_changed_on_disk_asks_before_overwriting(qtbot, editor: TriggerCasesEditor, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    skill = _skill(tmp_path)
    path = skill / "evals" / "triggers.yaml"
    editor.load(skill)
    editor.add_case("no_trigger", prompt="Configure VLAN 20 on the core switch")
    other = ORIGINAL.replace("owner: sales-ops", "owner: someone-else")
    path.write_text(other, encoding="utf-8")
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.No))
    assert editor.save() is False
    assert path.read_text(encoding="utf-8") == other
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes))
    assert editor.save() is True
    assert load_cases(skill)[-1].prompt == "Configure VLAN 20 on the core switch"


def test_empty_states(qtbot, editor: TriggerCasesEditor, tmp_path: Path, artifacts_dir: Path) -> None:  # type: ignore[no-untyped-def]
    assert editor.empty_title.text() == "No skill selected"
    assert not editor.btn_add.isEnabled() and editor.save() is False
    skill = _skill(tmp_path, None)  # no evals/triggers.yaml yet
    editor.load(skill)
    assert editor.stack.currentWidget() is editor.empty
    assert editor.empty_title.text() == "No trigger cases yet"
    assert editor.counts_label.text() == "0 trigger · 0 no_trigger"
    _snapshot(editor, artifacts_dir / "cases_editor_empty.png")
    editor.empty_add.click()
    assert editor.stack.currentWidget() is editor.view


def test_ctrl_z_in_the_table_wins_over_a_window_undo_shortcut(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Hosted in a window whose Edit>Undo owns Ctrl+Z, the focused table still undoes case edits."""
    from PySide6.QtGui import QAction, QKeySequence
    from PySide6.QtWidgets import QMainWindow

    win = QMainWindow()
    qtbot.addWidget(win)
    window_undos: list[int] = []
    act = QAction("Undo", win)
    act.setShortcut(QKeySequence.StandardKey.Undo)
    act.triggered.connect(lambda: window_undos.append(1))
    win.addAction(act)
    editor = TriggerCasesEditor()
    win.setCentralWidget(editor)
    win.resize(800, 400)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)  # window shortcuts fire only there
    editor.load(_skill(tmp_path))
    editor.view.selectRow(0)
    editor.btn_remove.click()
    assert len(editor.cases()) == 2
    editor.view.setFocus()
    assert QApplication.focusWidget() is editor.view
    qtbot.keyClick(editor.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(editor.cases()) == 3 and window_undos == []
    editor.filter_edit.setFocus()  # outside the table Ctrl+Z is not the cases' undo
    qtbot.keyClick(editor.filter_edit, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(editor.cases()) == 3 and editor.undo_stack.canRedo()


def test_context_menu_marks_selected_cases(qtbot, editor: TriggerCasesEditor, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QMenu

    editor.load(_skill(tmp_path))
    editor.view.selectRow(0)
    editor.view.customContextMenuRequested.emit(QPoint(20, 20))
    menus = [m for m in editor.findChildren(QMenu) if m.isVisible()]
    assert len(menus) == 1
    actions = {a.text(): a for a in menus[0].actions() if a.text()}
    assert list(actions) == ["Add trigger case", "Add no_trigger case", "Mark as trigger", "Mark as no_trigger",
                             "Duplicate", "Remove"]
    actions["Mark as no_trigger"].trigger()
    menus[0].close()
    assert editor.cases()[0].expect == "no_trigger"
    assert editor.counts_label.text() == "1 trigger · 2 no_trigger"


def test_a_linked_or_fifo_triggers_file_is_read_as_the_cli_reads_it(qtbot, editor: TriggerCasesEditor,  # type: ignore[no-untyped-def]
                                                                     tmp_path: Path) -> None:
    """The editor uses the CLI's reader: a link out of the skill is never shown, a FIFO never waited on."""
    import os

    secret = tmp_path / "secret.yaml"
    secret.write_text("cases:\n  - prompt: token-123\n    expect: trigger\n", encoding="utf-8")
    skill = _skill(tmp_path, None)
    (skill / "evals" / "triggers.yaml").symlink_to(secret)
    editor.load(skill)
    assert editor.is_broken() and "symbolic link" in editor.banner_label.text()
    assert editor.cases() == [] and "token-123" not in editor.banner_label.text()
    (skill / "evals" / "triggers.yaml").unlink()
    os.mkfifo(skill / "evals" / "triggers.yaml")
    editor.load(skill)
    assert editor.is_broken() and "FIFO" in editor.banner_label.text()
