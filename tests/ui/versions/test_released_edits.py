"""Released versions are immutable: editing a released SKILL.md in the app starts the next version."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from mainwindow_support import open_and_check
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from skillstudio.bundle import release, skillmd
from support.gitrepo import example_repo, git


def _version(text: str) -> str:
    return str(skillmd.load_front_matter(text)[0]["metadata"]["version"])


def test_editing_a_released_skill_starts_the_next_version(qtbot, make_window, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    skill = ws / "crm-query"
    release.release_skill(ws, skill, None, "First version.", validate=lambda d: [], date=dt.date(2026, 1, 2))
    assert "crm-query/v1.0.0" in git(ws, "tag")
    log = skill / "CHANGELOG.md"  # a changelog without the "Unreleased" section the save must open
    log.write_text("# Changelog\n\n## [1.0.0] - 2026-01-02\n\n- First version.\n", encoding="utf-8")
    md = skill / "SKILL.md"
    before = md.read_text(encoding="utf-8")

    w = make_window(ws)
    tab = open_and_check(qtbot, w, md)
    qtbot.waitUntil(lambda: tab.release_state is not None, timeout=20000)  # found out on a worker
    assert tab.release_state == ("crm-query", "1.0.0", "1.0.1")
    assert tab.form is not None and "your edits start 1.0.1" in tab.form.fields["version"].toolTip()
    assert not tab.dirty and _version(tab.editor.text()) == "1.0.0"  # opening changes nothing

    tab.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClick(tab.editor, Qt.Key.Key_X)
    qtbot.waitUntil(lambda: _version(tab.editor.text()) == "1.0.1", timeout=5000)
    assert tab.editor.text().endswith("x")
    assert w.statusBar().currentMessage() == "crm-query 1.0.0 is released — your edits start 1.0.1"
    form = tab.form
    assert form is not None
    qtbot.waitUntil(lambda: form.fields["version"].text() == "1.0.1", timeout=20000)  # the form shows it

    w.undo()  # one step: the keystroke and the version bump go together
    assert tab.editor.text() == before and not tab.dirty
    qtbot.wait(50)  # the undo itself is no new edit
    assert _version(tab.editor.text()) == "1.0.0"
    w.redo()
    assert _version(tab.editor.text()) == "1.0.1" and tab.editor.text().endswith("x")

    assert w.save_current()
    saved = md.read_text(encoding="utf-8")
    assert _version(saved) == "1.0.1" and saved == release.set_version_text(before, "1.0.1") + "x"
    assert log.read_text(encoding="utf-8").startswith("# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-01-02")

    # further edits of the (unreleased) next version change nothing else
    qtbot.keyClick(tab.editor, Qt.Key.Key_Y)
    qtbot.wait(50)
    assert _version(tab.editor.text()) == "1.0.1" and tab.editor.text().endswith("xy")


def test_editing_an_unreleased_skill_changes_nothing_else(qtbot, make_window, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)  # a repository, but crm-query 1.0.0 carries no tag
    md = ws / "crm-query" / "SKILL.md"
    before = md.read_text(encoding="utf-8")
    log = ws / "crm-query" / "CHANGELOG.md"
    log_before = log.read_bytes() if log.exists() else None
    w = make_window(ws)
    tab = open_and_check(qtbot, w, md)
    qtbot.waitUntil(lambda: not w.pool.busy, timeout=20000)
    assert tab.release_state is None
    tab.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClick(tab.editor, Qt.Key.Key_X)
    qtbot.wait(50)
    assert tab.editor.text() == before + "x"
    assert w.save_current()
    assert md.read_text(encoding="utf-8") == before + "x"
    assert (log.read_bytes() if log.exists() else None) == log_before
