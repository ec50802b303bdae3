"""Every main view at 1280x720, light and dark, saved for a person to look at (test-artifacts/)."""

from __future__ import annotations

from pathlib import Path

import mainwindow_support
import pytest
from mainwindow_support import open_and_check, wait_checked
from PySide6.QtWidgets import QApplication

make_window = mainwindow_support.make_window  # fixture

VIEWS = ["editor", "all_problems", "versions", "cases", "tests", "try_prompt", "playground", "sandbox", "secrets",
         "registry"]


def _show(w, view: str, ws: Path) -> None:  # type: ignore[no-untyped-def]
    if view == "editor":
        w.problems_dock.raise_()
    elif view == "all_problems":
        w.raise_dock(w.all_problems_dock)
    elif view == "versions":
        w.versions_dock.raise_()
    elif view == "cases":
        w.open_cases(ws / "crm-query")
    else:
        getattr(w.features, f"show_{view}")()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_view_at_1280x720(qtbot, make_window, example_workspace: Path, artifacts_dir: Path,  # type: ignore[no-untyped-def]
                                theme: str) -> None:
    w = make_window(example_workspace, theme=theme)
    w.set_theme(theme)
    w.resize(1280, 720)
    tab = open_and_check(qtbot, w, example_workspace / "crm-query" / "SKILL.md")
    wait_checked(qtbot, w, tab)
    w.tree.select_skill(example_workspace / "crm-query")
    qtbot.waitUntil(lambda: not w.ws_problems.busy, timeout=30000)
    for view in VIEWS:
        _show(w, view, example_workspace)
        for _ in range(3):
            QApplication.processEvents()
        qtbot.wait(80)
        assert (w.width(), w.height()) == (1280, 720), (view, w.size())
        image = w.grab()
        assert (image.width(), image.height()) == (1280, 720)
        assert image.save(str(artifacts_dir / f"ide-{theme}-{view}.png"))
