"""The app opens a real catalog (skills at any depth) and says in one line how many it found where."""

from __future__ import annotations

from pathlib import Path

import mainwindow_support
from mainwindow_support import shot

make_window = mainwindow_support.make_window  # fixture


def _skill(d: Path) -> None:
    d.mkdir(parents=True)
    (d / "SKILL.md").write_text(f"---\nname: {d.name}\ndescription: Does {d.name}. Do not use for other work.\n"
                                "---\n# Body\n", encoding="utf-8")


def test_a_cloned_repository_opens_with_every_skill(qtbot, make_window, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                    artifacts_dir: Path) -> None:
    repo = tmp_path / "skills-repo"
    for i in range(12):
        _skill(repo / "skills" / f"skill-{i:02d}")
    _skill(repo / "skills" / ".curated" / "curated-one")
    _skill(repo / "plugins" / "tools" / "skills" / "plugin-one")
    _skill(repo / ".claude" / "skills" / "claude-one")
    _skill(repo / ".git" / "skills" / "never")
    w = make_window(repo)
    assert len(w.tree.skill_items()) == 15
    msg = w.statusBar().currentMessage()
    assert msg.startswith("Opened skills-repo: 15 skills in 4 folders: skills/ (12)"), msg
    assert ".claude/skills/ (1)" in msg
    shot(w, artifacts_dir, "catalog-opened")
