"""The Problems tab's count is the number its summary gives (errors + warnings; notes said apart)."""

from __future__ import annotations

import re
from pathlib import Path

import mainwindow_support
from mainwindow_support import open_and_check, wait_checked

make_window = mainwindow_support.make_window  # fixture


def test_tab_count_matches_the_summary(qtbot, make_window, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ws = tmp_path / "ws"
    skill = ws / "demo"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: demo\ndescription: Does demo things.\n---\n# Demo\n",
                                    encoding="utf-8")  # no version: a note, not a warning
    w = make_window(ws)
    tab = open_and_check(qtbot, w, skill / "SKILL.md")
    wait_checked(qtbot, w, tab)
    qtbot.waitUntil(lambda: bool(w.problems.problems), timeout=10000)
    assert any(p.severity == "info" for p in w.problems.problems)
    summary = w.problems.summary.text()
    errors = int(re.search(r"(\d+) errors?", summary).group(1))
    warnings = int(re.search(r"(\d+) warnings?", summary).group(1))
    m = re.search(r"\((\d+)\)", w.problems_dock.windowTitle())
    assert (int(m.group(1)) if m else 0) == errors + warnings
    assert re.search(r"\d+ notes?", summary)
