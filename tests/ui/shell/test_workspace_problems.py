"""Problems of every skill, computed in the background when a workspace opens, with badges in the tree."""

from __future__ import annotations

from pathlib import Path

import mainwindow_support
from mainwindow_support import wait_checked

from skillstudio.bundle import skillmd
from skillstudio.ui.shell.workspace_tree import ROLE_BADGE

make_window = mainwindow_support.make_window  # fixture


def _badge(w, name: str) -> tuple[int, int] | None:  # type: ignore[no-untyped-def]
    item = w.tree.find_skill_item(name)
    return item.data(0, ROLE_BADGE) if item is not None else None


def test_all_problems_and_tree_badges_without_opening_files(qtbot, make_window, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    broken = example_workspace / "support-reply" / "SKILL.md"
    broken.write_text(skillmd.set_field(broken.read_text(encoding="utf-8"), "owner", "ops"), encoding="utf-8")
    w = make_window(example_workspace)
    qtbot.waitUntil(lambda: not w.ws_problems.busy and bool(w.ws_problems.results), timeout=30000)
    assert not w.documents()  # nothing was opened
    errors, _warnings = _badge(w, "support-reply")
    assert errors >= 1
    assert _badge(w, "crm-query") is not None and _badge(w, "crm-query")[0] == 0
    view = w.all_problems
    heads = [view.tree.topLevelItem(i).text(0) for i in range(view.tree.topLevelItemCount())]
    assert any(h.startswith("support-reply — ") for h in heads)
    assert "error" in view.summary.text()
    # a problem row opens the file at its line
    head = next(view.tree.topLevelItem(i) for i in range(view.tree.topLevelItemCount())
                if view.tree.topLevelItem(i).text(0).startswith("support-reply"))
    row = head.child(0)
    view.tree.itemActivated.emit(row, 0)
    qtbot.waitUntil(lambda: w.current_tab() is not None, timeout=5000)
    tab = w.current_tab()
    assert tab.path == broken.resolve()
    # fixing it in the editor clears the badge (the live check feeds the workspace view)
    wait_checked(qtbot, w, tab)
    tab.apply_text(skillmd.set_field(tab.editor.text(), "owner", None))
    qtbot.waitUntil(lambda: _badge(w, "support-reply")[0] == 0, timeout=10000)
