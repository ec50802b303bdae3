"""Every panel of a new, empty workspace says what to do next, and the hint goes once there is content."""

from __future__ import annotations

from pathlib import Path

from mainwindow_support import shot

from skillstudio.release.lockfile import set_route
from skillstudio.ui.common.empty_hint import empty_hint


def test_empty_workspace_panels_say_what_to_do_next(qtbot, make_window, tmp_path: Path,
                                                    artifacts_dir: Path) -> None:
    ws = tmp_path / "empty"
    ws.mkdir()
    w = make_window(ws)
    f = w.features
    w.action("registry").trigger()
    qtbot.waitUntil(f.registry.repos.isVisible, timeout=5000)
    assert "press Connect" in empty_hint(f.registry.repos) and "Export Skill" in empty_hint(f.registry.repos)
    assert "Pick a repository" in empty_hint(f.registry.tags)
    shot(w, artifacts_dir, "empty-registry")
    f.publish_tabs.setCurrentWidget(f.trust)
    assert "Add public key" in empty_hint(f.trust.table)
    f.publish_tabs.setCurrentWidget(f.lock)
    assert "Record in skills.lock" in empty_hint(f.lock.lock_table)
    assert "routes.yaml" in empty_hint(f.lock.routes_table)
    shot(w, artifacts_dir, "empty-lock")
    set_route(ws, "travel-claims", "travel-expenses", "0.2.0")
    f.lock.reload()
    assert f.lock.routes_table.rowCount() == 1
    qtbot.waitUntil(lambda: empty_hint(f.lock.routes_table) == "", timeout=5000)  # gone at the next paint
    w.action("playground").trigger()
    qtbot.waitUntil(f.playground.local_view.body.isVisible, timeout=5000)
    assert "press Run (Ctrl+Enter)" in empty_hint(f.playground.local_view.body)
    f.playground_tabs.setCurrentWidget(f.transcripts)
    assert "Previous / Next" in empty_hint(f.transcripts.view.body)
    w.action("tests").trigger()
    assert "Run (Ctrl+R)" in f.test_panel.empty.text()
