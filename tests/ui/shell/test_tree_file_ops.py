"""File operations in the workspace tree: new file/folder, rename (F2), trash (Delete), reveal, copy path."""

from __future__ import annotations

from pathlib import Path

import mainwindow_support
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTreeWidgetItem

from skillstudio.ui.shell.workspace_tree import ROLE_PATH

make_window = mainwindow_support.make_window  # fixture


def _item(w, path: Path) -> QTreeWidgetItem | None:  # type: ignore[no-untyped-def]
    def walk(item: QTreeWidgetItem) -> QTreeWidgetItem | None:
        if item.data(0, ROLE_PATH) == path:
            return item
        for i in range(item.childCount()):
            found = walk(item.child(i))
            if found is not None:
                return found
        return None

    for top in w.tree.skill_items():
        found = walk(top)
        if found is not None:
            return found
    return None


def _select(qtbot, w, path: Path) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not w.loading and not w.tree.filling and _item(w, path) is not None, timeout=20000)
    w.tree.tree.setCurrentItem(_item(w, path))
    w.tree.tree.setFocus()


def test_new_rename_trash_reveal_copy(qtbot, make_window, example_workspace: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))  # the desktop trash lives here
    (tmp_path / "xdg-data").mkdir()
    w = make_window(example_workspace)
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    ops = w.tree_actions
    answers: list[str] = []
    ops.ask_text = lambda *_a, **_k: answers.pop(0)  # type: ignore[method-assign]
    skill = example_workspace / "crm-query"

    _select(qtbot, w, skill)
    answers.append("notes.md")
    created = ops.new_file()
    assert created == skill / "notes.md" and created.is_file()
    qtbot.waitUntil(lambda: w.current_tab() is not None and w.current_tab().path == created.resolve(), timeout=5000)
    answers.append("drafts")
    assert ops.new_folder() == skill / "drafts" and (skill / "drafts").is_dir()

    # F2 renames; the open (clean) tab follows the file
    _select(qtbot, w, skill / "notes.md")
    answers.append("ideas.md")
    qtbot.keyClick(w.tree.tree, Qt.Key.Key_F2)
    assert (skill / "ideas.md").is_file() and not (skill / "notes.md").exists()
    qtbot.waitUntil(lambda: any(getattr(d, "path", None) == (skill / "ideas.md").resolve() for d in w.documents()),
                    timeout=5000)

    # a file with unsaved edits is not renamed
    tab = next(d for d in w.documents() if getattr(d, "path", None) == (skill / "ideas.md").resolve())
    tab.editor.insertPlainText("draft")
    _select(qtbot, w, skill / "ideas.md")
    errors: list[str] = []
    ops._error = errors.append  # type: ignore[method-assign]
    answers.append("other.md")
    assert ops.rename() is None and errors and (skill / "ideas.md").exists()
    tab.editor.undo()
    qtbot.waitUntil(lambda: not tab.dirty, timeout=2000)

    # copy path, reveal
    ops.copy_path()
    assert QApplication.clipboard().text() == str(skill / "ideas.md")
    ops.copy_relative_path()
    assert QApplication.clipboard().text() == "crm-query/ideas.md"
    opened: list[str] = []
    ops.open_url = lambda url: opened.append(url.toLocalFile())  # type: ignore[method-assign]
    ops.reveal()
    assert opened == [str(skill)]

    # Delete moves to the trash (never a permanent delete)
    qtbot.keyClick(w.tree.tree, Qt.Key.Key_Delete)
    assert not (skill / "ideas.md").exists()
    trashed = list((tmp_path / "xdg-data" / "Trash" / "files").iterdir())
    assert [p.name for p in trashed] == ["ideas.md"]
    assert not any(getattr(d, "path", None) == (skill / "ideas.md").resolve() for d in w.documents())


def test_run_a_skill_script_from_the_tree(qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    skill = example_workspace / "ledger-reconcile"
    scripts = sorted(p for p in (skill / "scripts").iterdir() if p.is_file() and not p.name.startswith((".", "_")))
    assert scripts, "the example skill has scripts"
    w = make_window(example_workspace)
    _select(qtbot, w, scripts[0])
    ops = w.tree_actions
    assert ops._script_of_current() == (scripts[0], skill)
    command = w.features.run_script(scripts[0], skill, run=False)  # the tree action runs it; here: prefill only
    console = w.features.sandbox
    assert command is not None and command.endswith(f"/skills/ledger-reconcile/scripts/{scripts[0].name}")
    assert console.command.currentText() == command
    assert console.request().skill_dir.resolve() == skill.resolve()
    assert w.features.sandbox_dock.isVisible()
    # a file outside scripts/ is not offered
    _select(qtbot, w, skill / "SKILL.md")
    assert ops._script_of_current() is None
