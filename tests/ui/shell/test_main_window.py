"""The main window end to end on the example workspace: tree, form <-> text, live problems, fix-its."""

from __future__ import annotations

from pathlib import Path

from mainwindow_support import open_and_check, shot, wait_checked
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication

from skillstudio.bundle import skillmd
from skillstudio.ui.editor.tab import EditorTab

COMMENTED = """---
# owner: sales-ops (keep this comment)
name: crm-query
description: 'Query Salesforce pipeline and accounts. Do not use for support tickets.'
license: Apache-2.0   # SPDX id
metadata:
  version: "1.0.0"
  team: sales
---

# CRM query

Run SOQL and summarise.
"""


def _put_cursor_after(tab: EditorTab, needle: str) -> None:
    doc = tab.editor.document()
    found = doc.find(needle)
    assert not found.isNull(), needle
    cursor = QTextCursor(found)
    cursor.setPosition(found.selectionEnd())
    tab.editor.setTextCursor(cursor)


def test_open_workspace_lists_skills_and_titles_window(qtbot, make_window, example_workspace: Path,
                                                       artifacts_dir: Path) -> None:
    w = make_window(example_workspace)
    assert w.windowTitle() == f"{example_workspace.name} — Skill Studio"
    names = sorted(item.data(0, Qt.ItemDataRole.UserRole).name for item in w.tree.skill_items())
    expected = sorted(p.name for p in example_workspace.iterdir() if (p / "SKILL.md").is_file())
    assert names == expected and len(names) >= 5
    assert w.center.currentWidget() is w.welcome
    assert f"{len(names)} skills" in w.welcome.subtitle.text()
    shot(w, artifacts_dir, "main-welcome")
    # activating a skill in the tree opens its SKILL.md
    item = w.tree.find_skill_item("crm-query")
    with qtbot.waitSignal(w.sig_checked, timeout=20000):
        w.tree.tree.itemActivated.emit(item, 0)
    tab = w.current_tab()
    assert tab is not None and tab.path == (example_workspace / "crm-query" / "SKILL.md").resolve()
    assert "Always-loaded" in w.token_meter.text()
    assert w.token_meter.summary is not None and 0 < w.token_meter.summary.always_loaded < w.token_meter.summary.total
    shot(w, artifacts_dir, "main-editor")


def test_form_edits_change_text_in_place_and_undo_in_one_step(qtbot, make_window, example_workspace: Path) -> None:
    md = example_workspace / "crm-query" / "SKILL.md"
    md.write_text(COMMENTED, encoding="utf-8")
    w = make_window(example_workspace)
    tab = open_and_check(qtbot, w, md)
    wait_checked(qtbot, w, tab)
    form = tab.form
    assert form is not None
    assert form.fields["license"].text() == "Apache-2.0"
    assert form.fields["version"].text() == "1.0.0"
    assert form.metadata_rows() == [("team", "sales")]

    qtbot.keyClicks(form.fields["version"], "-rc1")
    text = tab.editor.text()
    assert '  version: "1.0.0-rc1"' in text
    # everything else is exactly as written: comments, quoting, trailing comment, body
    assert text == COMMENTED.replace('"1.0.0"', '"1.0.0-rc1"')
    assert tab.dirty
    tab.editor.undo()  # typing "-rc1" in one field is one undo step, as typing in the editor is
    assert tab.editor.text() == COMMENTED
    tab.editor.redo()
    assert tab.editor.text() == text
    qtbot.keyClicks(form.fields["license"], "-x")
    tab.editor.undo()  # another field: its own step
    assert tab.editor.text() == text

    before = tab.editor.text()
    form.description.setPlainText("Query Salesforce. Do not use for tickets: use support-reply.")
    after = tab.editor.text()
    assert "description: 'Query Salesforce. Do not use for tickets: use support-reply.'" in after
    assert "# owner: sales-ops (keep this comment)" in after and "license: Apache-2.0   # SPDX id" in after
    tab.editor.undo()  # one step takes the whole form edit back
    assert tab.editor.text() == before
    assert "1024" in form.desc_count.text()


def test_text_edits_update_the_form(qtbot, make_window, example_workspace: Path) -> None:
    md = example_workspace / "crm-query" / "SKILL.md"
    md.write_text(COMMENTED, encoding="utf-8")
    w = make_window(example_workspace)
    tab = open_and_check(qtbot, w, md)
    wait_checked(qtbot, w, tab)
    _put_cursor_after(tab, "license: Apache-2.0")
    qtbot.keyClicks(tab.editor, "-with-LLVM-exception")
    qtbot.waitUntil(lambda: tab.form.fields["license"].text() == "Apache-2.0-with-LLVM-exception", timeout=10000)
    _put_cursor_after(tab, "team: sales")
    qtbot.keyClicks(tab.editor, "-emea")
    qtbot.waitUntil(lambda: tab.form.metadata_rows() == [("team", "sales-emea")], timeout=10000)
    # breaking the YAML disables the form with an explanation instead of guessing
    _put_cursor_after(tab, "metadata:")
    qtbot.keyClicks(tab.editor, " [")
    qtbot.waitUntil(lambda: not tab.form.fields["name"].isEnabled(), timeout=10000)
    assert "cannot be read" in tab.form.status.text()


def test_typing_an_error_shows_it_live_and_clicking_jumps_to_its_line(qtbot, make_window, example_workspace: Path,
                                                                      artifacts_dir: Path) -> None:
    w = make_window(example_workspace)
    md = example_workspace / "crm-query" / "SKILL.md"
    tab = open_and_check(qtbot, w, md)
    wait_checked(qtbot, w, tab)
    assert not [p for p in w.problems.problems if p.severity == "error"]
    name_line = 1 + next(i for i, line in enumerate(md.read_text().splitlines()) if line.startswith("name:"))
    _put_cursor_after(tab, "name: crm-query")
    qtbot.keyClicks(tab.editor, "_Tool")
    qtbot.waitUntil(lambda: any(p.severity == "error" and p.line == name_line for p in w.problems.problems),
                    timeout=10000)
    assert tab.editor.marks().get(name_line) == "error"
    wait_checked(qtbot, w, tab)
    shot(w, artifacts_dir, "main-problems")

    tab.editor.go_to_line(20)
    row = next(i for i, p in enumerate(w.problems.problems) if p.line == name_line)
    item = w.problems.tree.topLevelItem(row)
    rect = w.problems.tree.visualItemRect(item)
    with qtbot.waitSignal(w.problems.sig_activated):
        qtbot.mouseClick(w.problems.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tab.editor.current_line() == name_line
    # F8 walks to the next problem (wrapping to the first)
    tab.editor.go_to_line(1)
    w.action("next_problem").trigger()
    assert tab.editor.current_line() == min(p.line for p in w.problems.problems if p.line and p.line > 1)


def test_fix_button_repairs_the_buffer_as_one_undoable_step(qtbot, make_window, example_workspace: Path) -> None:
    w = make_window(example_workspace)
    md = example_workspace / "crm-query" / "SKILL.md"
    original = md.read_text(encoding="utf-8")
    tab = open_and_check(qtbot, w, md)
    wait_checked(qtbot, w, tab)
    tab.apply_text(skillmd.set_field(tab.editor.text(), "name", "CRM-Query"))
    qtbot.waitUntil(lambda: any(p.fix and p.severity == "error" for p in w.problems.problems), timeout=10000)
    wait_checked(qtbot, w, tab)
    buttons = w.problems.fix_buttons()
    assert buttons
    qtbot.mouseClick(buttons[0], Qt.MouseButton.LeftButton)
    assert skillmd.load_front_matter(tab.editor.text())[0]["name"] == "crm-query"
    qtbot.waitUntil(lambda: not [p for p in w.problems.problems if p.severity == "error"]
                    and w._checkers[tab].last_result.text == tab.buffer_text(), timeout=10000)
    assert tab.buffer_text() == original  # the fix restored exactly the original line
    tab.editor.undo()
    assert "CRM-Query" in tab.editor.text()
    assert md.read_text(encoding="utf-8") == original  # nothing written until Save


def test_dark_theme_screenshot(qtbot, make_window, example_workspace: Path, artifacts_dir: Path) -> None:
    w = make_window(example_workspace, theme="dark")
    tab = open_and_check(qtbot, w, example_workspace / "network-config" / "SKILL.md")
    wait_checked(qtbot, w, tab)
    assert w.settings.theme in ("light", "dark")
    w.set_theme("dark")
    assert w.action("theme").isChecked()
    shot(w, artifacts_dir, "main-editor-dark")
    w.set_theme("light")
    assert w.settings.theme == "light" and not w.action("theme").isChecked()


def test_metadata_table_adds_renames_and_removes_keys(qtbot, make_window, example_workspace: Path) -> None:
    md = example_workspace / "crm-query" / "SKILL.md"
    md.write_text(COMMENTED, encoding="utf-8")
    w = make_window(example_workspace)
    tab = open_and_check(qtbot, w, md)
    wait_checked(qtbot, w, tab)
    form = tab.form
    form._add_meta_row()
    row = form.meta.rowCount() - 1
    form.meta.item(row, 0).setText("owner")
    form.meta.item(row, 1).setText("sales-ops: EMEA")
    fm = skillmd.load_front_matter(tab.editor.text())[0]
    assert fm["metadata"] == {"version": "1.0.0", "team": "sales", "owner": "sales-ops: EMEA"}
    form.meta.item(0, 0).setText("squad")  # rename team -> squad
    fm = skillmd.load_front_matter(tab.editor.text())[0]
    assert fm["metadata"] == {"version": "1.0.0", "owner": "sales-ops: EMEA", "squad": "sales"}
    wait_checked(qtbot, w, tab)
    row = next(r for r, (k, _) in enumerate(form.metadata_rows()) if k == "owner")
    form.meta.setCurrentCell(row, 0)
    form._remove_meta_row()
    fm = skillmd.load_front_matter(tab.editor.text())[0]
    assert fm["metadata"] == {"version": "1.0.0", "squad": "sales"}
    assert "# owner: sales-ops (keep this comment)" in tab.editor.text()


def test_folder_fix_renames_the_skill_and_reopens_its_files(qtbot, make_window, example_workspace: Path) -> None:
    w = make_window(example_workspace)
    md = example_workspace / "crm-query" / "SKILL.md"
    tab = open_and_check(qtbot, w, md)
    tab.apply_text(skillmd.set_field(tab.editor.text(), "name", "crm-pipeline"))
    assert w.save_current()
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        new_dir = w.fixes.apply_folder_fix((example_workspace / "crm-query").resolve(), "rename-folder")
    assert new_dir == (example_workspace / "crm-pipeline").resolve()
    assert not (example_workspace / "crm-query").exists() and (new_dir / "SKILL.md").is_file()
    tab = w.current_tab()
    assert tab is not None and tab.path == new_dir / "SKILL.md" and not tab.dirty
    assert w.tree.find_skill_item("crm-pipeline") is not None and w.tree.find_skill_item("crm-query") is None
    assert "renamed folder" in w.statusBar().currentMessage()


def test_standard_shortcuts_reach_the_window(qtbot, make_window, example_workspace: Path) -> None:
    from PySide6.QtGui import QKeySequence

    w = make_window(example_workspace)
    md = example_workspace / "crm-query" / "SKILL.md"
    tab = open_and_check(qtbot, w, md)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    tab.editor.setFocus()
    tab.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(tab.editor, "Typed then saved with the keyboard.")
    assert tab.dirty
    qtbot.keySequence(tab.editor, QKeySequence("Ctrl+S"))
    assert not tab.dirty and md.read_text().endswith("Typed then saved with the keyboard.")
    qtbot.keySequence(tab.editor, QKeySequence("Ctrl+Z"))  # the editor's own undo
    assert tab.dirty and not tab.editor.text().endswith("keyboard.")
    qtbot.keySequence(tab.editor, QKeySequence("Ctrl+Y"))
    assert not tab.dirty
    qtbot.keySequence(tab.editor, QKeySequence("Ctrl+W"))
    assert w.tabs.count() == 0


def test_command_palette_finds_and_runs_a_command(qtbot, make_window, example_workspace: Path) -> None:
    w = make_window(example_workspace)
    a = open_and_check(qtbot, w, example_workspace / "crm-query" / "SKILL.md")
    b = open_and_check(qtbot, w, example_workspace / "support-reply" / "SKILL.md")
    for tab in (a, b):
        tab.editor.moveCursor(QTextCursor.MoveOperation.End)
        tab.editor.insertPlainText("\nedited\n")
    palette = w.show_palette()
    qtbot.keyClicks(palette.query, "save al")
    assert [palette.list.item(i).text().split("    ")[0] for i in range(palette.list.count())] == ["Save All"]
    qtbot.keyClick(palette.query, Qt.Key.Key_Return)
    assert not a.dirty and not b.dirty
    assert (example_workspace / "support-reply" / "SKILL.md").read_text().endswith("\nedited\n")
