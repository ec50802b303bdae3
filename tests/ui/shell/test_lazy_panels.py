"""The feature panels are built on first use: opening the window imports none of their heavy stacks,
and a panel built late (by showing its dock, or by reading its attribute) is pointed at the open
workspace and skill and wired like one built at start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_importing_the_main_window_pulls_in_no_http_or_docker_client() -> None:
    code = ("import sys, skillstudio.ui.shell.main_window\n"
            "print(sorted(m for m in ('openai', 'httpx', 'docker', 'cryptography') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_a_panel_is_built_when_its_dock_is_first_shown(qtbot, make_window, example_workspace: Path) -> None:
    w = make_window(example_workspace)
    f = w.features
    assert f.built() == set()
    skill = example_workspace / "network-config"
    w.tree.select_skill(skill)
    qtbot.waitUntil(lambda: f.skill_dir is not None, timeout=5000)

    f.playground_dock.show()
    f.playground_dock.raise_()  # as clicking its dock tab does
    qtbot.waitUntil(lambda: "playground" in f.built(), timeout=5000)
    assert f.built() == {"playground"}  # the other tab of that dock stays a placeholder
    assert f.playground_tabs.currentWidget() is f.playground and f.playground_tabs.count() == 2
    assert f.playground.workspace == example_workspace and f.playground.skill_name == "network-config"

    f.playground_tabs.setCurrentIndex(1)  # the "Saved runs" tab
    qtbot.waitUntil(lambda: "transcripts" in f.built(), timeout=5000)
    assert f.playground_tabs.currentWidget() is f.transcripts and f.transcripts.workspace == example_workspace
    f.playground_tabs.setCurrentIndex(0)

    # built by attribute access: in its tab (not current), with its workspace
    lock = f.lock
    assert f.publish_tabs.indexOf(lock) == 2 and f.publish_tabs.tabText(2) == "Lockfile && routes"
    assert lock.workspace == example_workspace
    assert f.built() == {"playground", "transcripts", "lock"}
