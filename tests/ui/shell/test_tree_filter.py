"""A tree filter belongs to its workspace: switching workspaces clears it, reloading keeps it."""

from __future__ import annotations

import shutil
from pathlib import Path

import mainwindow_support

make_window = mainwindow_support.make_window  # fixture


def _visible(w) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.text(0) for i in w.tree.skill_items() if not i.isHidden()]


def test_switching_workspace_clears_the_filter(qtbot, make_window, example_workspace: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = tmp_path / "other"
    shutil.copytree(example_workspace / "support-reply", other / "support-reply")
    w = make_window(example_workspace)
    qtbot.keyClicks(w.tree.filter, "crm")
    assert 0 < len(_visible(w)) < len(w.tree.skill_items())
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        w.reload_workspace()
    qtbot.waitUntil(lambda: not w.tree.filling, timeout=20000)
    assert w.tree.filter.text() == "crm"  # a reload of the same workspace keeps it
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        w.open_workspace(other)
    qtbot.waitUntil(lambda: not w.tree.filling, timeout=20000)
    assert w.tree.filter.text() == ""
    assert any("support-reply" in name for name in _visible(w))
