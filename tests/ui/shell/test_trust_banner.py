"""The workspace-trust banner in the real main window: shown for a pull request's policy, gone after Approve."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from skillstudio.secrets import trust


def _pr_policy(ws: Path, allow: list[str]) -> None:
    pol = ws / ".skillstudio" / "policies"
    pol.mkdir(parents=True, exist_ok=True)
    (pol / "workspace.json").write_text(json.dumps({"network": {"allow": allow}}) + "\n")


def test_banner_shows_the_diff_and_approve_applies_it(qtbot, make_window,
                                                      example_workspace: Path) -> None:
    _pr_policy(example_workspace, ["api.example.com"])
    w = make_window(example_workspace)
    banner = w.trust_banner
    assert banner.isVisible() and "not used until you review and approve" in banner.label.text()

    banner.review_button.click()
    dialog = banner.dialog
    assert dialog is not None and dialog.isVisible()
    assert '+{"network": {"allow": ["api.example.com"]}}' in dialog.diff.toPlainText()
    with qtbot.waitSignal(banner.sig_approved, timeout=5000):
        dialog.approve_button.click()
    assert not banner.isVisible() and trust.state(example_workspace).trusted

    # A later change shows the banner again when the workspace is opened.
    _pr_policy(example_workspace, ["*.example.net"])
    other = example_workspace.parent / "other-ws"
    shutil.copytree(example_workspace, other)
    w.open_workspace(other)
    assert banner.isVisible()
    w.open_workspace(example_workspace)
    assert banner.isVisible()
    banner.review_button.click()
    assert "-" + '{"network": {"allow": ["api.example.com"]}}' in banner.dialog.diff.toPlainText()
    banner.dialog.reject()
    assert not trust.state(example_workspace).trusted and banner.isVisible()


def test_banner_stays_hidden_for_a_workspace_without_bindings(make_window,
                                                               example_workspace: Path) -> None:
    w = make_window(example_workspace)
    assert not w.trust_banner.isVisible()
