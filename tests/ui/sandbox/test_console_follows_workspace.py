"""After a workspace switch the console mounts nothing of the old workspace and writes only into the new one."""

from __future__ import annotations

import shutil
from pathlib import Path

import mainwindow_support

make_window = mainwindow_support.make_window  # fixture


def test_console_follows_the_active_workspace_and_skill(qtbot, make_window, example_workspace: Path,  # type: ignore[no-untyped-def]
                                                         tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(example_workspace / "support-reply", other / "support-reply")
    w = make_window(example_workspace)
    w.features.show_sandbox()
    console = w.features.sandbox
    w.tree.select_skill(example_workspace / "crm-query")
    qtbot.waitUntil(lambda: console.request().skill_dir is not None, timeout=5000)
    assert console.request().skill_dir == example_workspace / "crm-query"
    assert "crm-query" in console.mounts.text() and "/skills/crm-query" in console.mounts.text()

    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        w.open_workspace(other)
    req = console.request()
    assert req.workspace == other.resolve()
    assert req.skill_dir is None  # the old workspace's skill is no longer mounted
    assert req.data_dir is not None and req.data_dir.resolve().is_relative_to(other.resolve())
    assert "crm-query" not in console.mounts.text() and "no skill mounted" in console.mounts.text()

    w.tree.select_skill(other / "support-reply")
    qtbot.waitUntil(lambda: console.request().skill_dir is not None, timeout=5000)
    assert console.request().skill_dir.resolve() == (other / "support-reply").resolve()
    assert "/skills/support-reply" in console.mounts.text()
