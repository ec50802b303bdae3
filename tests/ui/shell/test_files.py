"""The file lifecycle of the main window: atomic saves, crash recovery, external changes, closing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mainwindow_support import open_and_check, wait_checked
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from skillstudio import userdirs
from skillstudio.ui.common import dialogs
from skillstudio.ui.common.diff_view import DiffDialog
from skillstudio.ui.shell.main_window import MainWindow

CRLF_BOM = ("\ufeff---\r\nname: crm-query\r\ndescription: \"Query Salesforce: pipeline and accounts. Do not use for "
            "support tickets.\"\r\nlicense: MIT  # SPDX\r\nmetadata:\r\n"
            "  version: '1.0.0'  # bumped by release\r\n---\r\n\r\n# CRM\r\n"
            "\r\nRun SOQL.\r\n")


def _append(tab, text: str) -> None:  # type: ignore[no-untyped-def]
    tab.editor.moveCursor(QTextCursor.MoveOperation.End)
    tab.editor.insertPlainText(text)


def test_save_is_atomic_and_byte_exact(qtbot, make_window, example_workspace: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    md = example_workspace / "crm-query" / "SKILL.md"
    md.write_bytes(CRLF_BOM.encode("utf-8"))
    w = make_window(example_workspace)
    tab = open_and_check(qtbot, w, md)
    wait_checked(qtbot, w, tab)
    assert w.save_current()  # unchanged: written back byte for byte
    assert md.read_bytes() == CRLF_BOM.encode("utf-8")

    inode = md.stat().st_ino
    qtbot.keyClicks(tab.form.fields["version"], "1")  # 1.0.0 -> 1.0.01
    assert tab.dirty
    w.action("save").trigger()
    assert not tab.dirty
    data = md.read_bytes()
    assert data == CRLF_BOM.replace("'1.0.0'", "'1.0.01'").encode("utf-8")  # CRLF, BOM, quoting, comment kept
    assert md.stat().st_ino != inode  # replaced by rename, never rewritten in place
    assert not [p.name for p in md.parent.iterdir() if p.name.endswith(".tmp")]
    qtbot.waitUntil(lambda: w.tree.find_skill_item("crm-query").text(0) == "crm-query  v1.0.01", timeout=10000)
    assert w.workspace.skill("crm-query").version == "1.0.01"  # the catalog the checks use is current too

    # our own save is not mistaken for another program's change
    qtbot.wait(400)
    assert not any(d.isVisible() for d in w.findChildren(DiffDialog))  # not asked about our own save
    assert tab.editor.text() == data.decode("utf-8")[1:].replace("\r\n", "\n")


def test_save_as_and_save_all(qtbot, make_window, example_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    w = make_window(example_workspace)
    a = open_and_check(qtbot, w, example_workspace / "crm-query" / "SKILL.md")
    b = open_and_check(qtbot, w, example_workspace / "support-reply" / "SKILL.md")
    _append(a, "\nA line for crm.\n")
    _append(b, "\nA line for support.\n")
    assert w.save_all()
    assert (example_workspace / "crm-query" / "SKILL.md").read_text().endswith("A line for crm.\n")
    assert (example_workspace / "support-reply" / "SKILL.md").read_text().endswith("A line for support.\n")
    target = example_workspace / "support-reply" / "references" / "copy.md"
    monkeypatch.setattr(dialogs, "choose_save_path", lambda *a: target)
    w.tabs.setCurrentWidget(b)
    assert w.save_current_as()
    c = w.current_tab()
    assert c is not None and c.path == target.resolve() and target.read_text().endswith("A line for support.\n")
    assert w.tabs.tabText(w.tabs.indexOf(c)) == "copy.md" and c.mode == "markdown" and c.form is None
    assert w.tab_for(example_workspace / "support-reply" / "SKILL.md") is None


CHILD = r"""
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtGui import QTextCursor
from skillstudio.ui.shell import main_window, recovery_controller
from skillstudio.ui.app import create_app
recovery_controller.AUTOSAVE_MS = 300
app = create_app()
w = main_window.MainWindow()
w.open_workspace(Path(sys.argv[1]))
w.show()
def edit():
    tab = w.open_file(Path(sys.argv[2]))
    tab.editor.moveCursor(QTextCursor.MoveOperation.End)
    tab.editor.insertPlainText("\nUnsaved line typed before the crash.\n")
QTimer.singleShot(100, edit)
app.exec()
"""


def test_unsaved_edits_survive_a_crash(qtbot, make_window, example_workspace: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    md = example_workspace / "ledger-reconcile" / "SKILL.md"
    original = md.read_bytes()
    recovery = userdirs.data_dir() / "recovery"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(example_workspace), str(md)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if any("Unsaved line typed before the crash." in f.read_text(encoding="utf-8")
                   for f in recovery.glob("*.json")):
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"the app never autosaved: {proc.stderr.read().decode() if proc.poll() is not None else ''}")
    finally:
        proc.kill()  # SIGKILL: no close handler runs, exactly like a crash
        proc.wait(10)
        proc.stderr.close()
    assert md.read_bytes() == original

    asked: list[list[str]] = []
    monkeypatch.setattr(dialogs, "ask_restore",
                        lambda parent, entries: asked.append([e.label for e in entries]) or True)
    w = make_window(example_workspace)
    assert w.recovery.offer() == 1
    assert asked == [[str(md.resolve())]]
    tab = w.current_tab()
    assert tab is not None and tab.path == md.resolve() and tab.dirty
    assert tab.editor.text().endswith("Unsaved line typed before the crash.\n")
    assert md.read_bytes() == original  # restored into the editor, not written behind the user's back
    tab.editor.undo()  # one step back to the version on disk
    assert tab.buffer_text().encode() == original
    tab.editor.redo()
    assert w.save_current()
    assert md.read_text().endswith("Unsaved line typed before the crash.\n")
    assert not list(recovery.glob("*.json"))  # saved: nothing left to recover


def test_autosave_writes_only_dirty_buffers_and_clean_close_leaves_nothing(
        qtbot, make_window, example_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    w = make_window(example_workspace)
    tab = open_and_check(qtbot, w, example_workspace / "crm-query" / "SKILL.md")
    assert w.recovery.autosave() == 0
    _append(tab, "\nmore\n")
    assert w.recovery.autosave() == 1 and w.recovery.autosave() == 0  # unchanged since the last copy
    assert len(w.recovery.store.entries()) == 1
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, names: "discard")
    assert w.close()
    assert w.recovery.store.entries() == []
    # declining a restore offer discards the copies
    w2 = make_window(example_workspace)
    w2.recovery.store.save("k", example_workspace / "crm-query" / "SKILL.md", "x")
    monkeypatch.setattr(dialogs, "ask_restore", lambda parent, entries: False)
    assert w2.recovery.offer() == 0 and w2.recovery.store.entries() == []
    # a copy written by another Skill Studio that is still running is not offered (nor deleted)
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        w2.recovery.store.save("other", example_workspace / "crm-query" / "SKILL.md", "theirs")
        f = w2.recovery.store.folder / "other.json"
        f.write_text(f.read_text().replace(f'"pid": {os.getpid()}', f'"pid": {live.pid}'))
        monkeypatch.setattr(dialogs, "ask_restore", lambda parent, entries: pytest.fail("offered a live copy"))
        assert w2.recovery.offer() == 0 and [e.key for e in w2.recovery.store.entries()] == ["other"]
    finally:
        live.kill()
        live.wait()


def _write_externally(path: Path, text: str) -> None:
    """As most editors do: write a temp file and rename it over the original."""
    tmp = path.with_name(path.name + ".other-tool")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def test_external_change_reloads_a_clean_buffer(qtbot, make_window, example_workspace: Path) -> None:
    md = example_workspace / "crm-query" / "SKILL.md"
    w = make_window(example_workspace)
    tab = open_and_check(qtbot, w, md)
    new = md.read_text(encoding="utf-8") + "\nAdded by another tool.\n"
    _write_externally(md, new)
    qtbot.waitUntil(lambda: tab.editor.text() == new, timeout=10000)
    assert not tab.dirty
    newer = new + "And again, in place.\n"
    md.write_text(newer, encoding="utf-8")  # in-place write: the watch survives the rename above
    qtbot.waitUntil(lambda: tab.editor.text() == newer, timeout=10000)


def _diff_dialog(qtbot, w) -> DiffDialog:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: any(d.isVisible() for d in w.findChildren(DiffDialog)), timeout=10000)
    return next(d for d in w.findChildren(DiffDialog) if d.isVisible())


def test_external_change_shows_a_diff_when_the_buffer_is_dirty(qtbot, make_window, example_workspace: Path) -> None:
    md = example_workspace / "crm-query" / "SKILL.md"
    w = make_window(example_workspace)
    tab = open_and_check(qtbot, w, md)
    _append(tab, "\nMy unsaved edit.\n")
    mine = tab.editor.text()
    theirs = md.read_text(encoding="utf-8") + "\nTheir edit.\n"
    _write_externally(md, theirs)
    dialog = _diff_dialog(qtbot, w)
    shown = dialog.view.toPlainText()
    assert "-Their edit." in shown and "+My unsaved edit." in shown  # what each side would lose
    assert "-" in dialog.view.line_kinds() and "+" in dialog.view.line_kinds()
    assert len(dialog.view.extraSelections()) >= 2  # the changed lines are highlighted
    qtbot.mouseClick(dialog.reject_button, Qt.MouseButton.LeftButton)  # Keep mine
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5000)
    assert tab.editor.text() == mine and tab.dirty  # kept ours
    qtbot.wait(300)
    assert not any(d.isVisible() for d in w.findChildren(DiffDialog))  # the same change is not asked about twice

    theirs2 = theirs + "Their second edit.\n"
    _write_externally(md, theirs2)
    dialog = _diff_dialog(qtbot, w)
    assert "-Their second edit." in dialog.view.toPlainText()
    qtbot.keyClick(dialog.accept_button, Qt.Key.Key_Space)  # Take theirs, from the keyboard
    qtbot.waitUntil(lambda: tab.editor.text() == theirs2, timeout=10000)
    assert not tab.dirty
    tab.editor.undo()  # one undo step brings ours back
    assert tab.editor.text() == mine


def test_closing_with_unsaved_changes_asks_save_discard_cancel(qtbot, make_window, example_workspace: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    md = example_workspace / "crm-query" / "SKILL.md"
    original = md.read_text(encoding="utf-8")
    w = make_window(example_workspace)
    tab = open_and_check(qtbot, w, md)
    _append(tab, "\nPlease keep me.\n")
    answers = iter(["cancel", "save"])
    names: list[list[str]] = []
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, n: names.append(n) or next(answers))
    assert not w.close()  # cancelled: still open, nothing written
    assert w.isVisible() and md.read_text(encoding="utf-8") == original
    assert w.close()
    assert names == [["crm-query/SKILL.md"], ["crm-query/SKILL.md"]]
    assert md.read_text(encoding="utf-8") == original + "\nPlease keep me.\n"
    assert not w.pool.busy


def test_close_tab_discard_keeps_the_file(qtbot, make_window, example_workspace: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    md = example_workspace / "crm-query" / "SKILL.md"
    original = md.read_text(encoding="utf-8")
    w: MainWindow = make_window(example_workspace)
    tab = open_and_check(qtbot, w, md)
    _append(tab, "\nthrow away\n")
    monkeypatch.setattr(dialogs, "ask_save_changes", lambda parent, n: "discard")
    w.action("close").trigger()  # while the live check of the edit is still running
    assert w.tabs.count() == 0 and w.center.currentWidget() is w.welcome
    assert md.read_text(encoding="utf-8") == original
    qtbot.waitUntil(lambda: not w.pool.busy, timeout=10000)  # its late result is dropped quietly
    qtbot.wait(200)
    assert w.problems.problems == [] and w.token_meter.summary is None


def test_skills_added_or_removed_by_other_tools_show_up(qtbot, make_window, example_workspace: Path) -> None:
    import shutil

    w = make_window(example_workspace)
    before = len(w.tree.skill_items())
    shutil.copytree(example_workspace / "crm-query", example_workspace / "crm-copy")
    qtbot.waitUntil(lambda: w.tree.find_skill_item("crm-copy") is not None, timeout=10000)
    assert len(w.tree.skill_items()) == before + 1
    shutil.rmtree(example_workspace / "crm-copy")
    qtbot.waitUntil(lambda: w.tree.find_skill_item("crm-copy") is None, timeout=10000)
