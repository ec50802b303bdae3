"""VersionsPanel on a real git repository: init offer, history, diffs, Release."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget

from skillstudio.bundle import scaffold, skillmd
from skillstudio.bundle.model import load_skill
from skillstudio.bundle.triggers import TriggerCase
from skillstudio.ui.versions.panel import WORKING_TREE, VersionsPanel

DESCRIPTION = "Answers Salesforce pipeline and account questions. Do not use for support tickets."
CASES = [TriggerCase(prompt="Pull the Q3 pipeline for Acme", expect="trigger"),
         TriggerCase(prompt="Reply to a customer about a refund", expect="no_trigger")]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=Tester", "-c", "user.email=tester@example.test", *args],
                          cwd=cwd, check=True, capture_output=True, text=True).stdout


def _settle(qtbot, panel: VersionsPanel) -> None:  # type: ignore[no-untyped-def]
    """Wait until every git job of the panel has finished and its answer was shown."""
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    QApplication.processEvents()


def _snapshot(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    assert widget.grab().save(str(path))


@pytest.fixture()
def panel(qtbot):  # type: ignore[no-untyped-def]
    need_git()
    p = VersionsPanel()
    qtbot.addWidget(p)
    p.resize(900, 620)
    p.show()
    qtbot.waitExposed(p)
    yield p
    p.shutdown()


def need_git() -> None:
    from support.realparts import need

    need(shutil.which("git") is not None, "git not installed (apt-get install git)")


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    scaffold.create_skill(ws, "crm-query", DESCRIPTION, cases=CASES)
    scaffold.create_skill(ws, "support-reply", "Drafts support replies. Do not use for CRM queries.")
    return ws


def _rows(panel: VersionsPanel) -> list[list[str]]:
    out = []
    for i in range(panel.list.topLevelItemCount()):
        item = panel.list.topLevelItem(i)
        assert item is not None
        out.append([item.text(c) for c in range(4)])
    return out


def _second_version(skill: Path) -> None:
    md = skill / "SKILL.md"
    text = skillmd.set_metadata(md.read_text(encoding="utf-8"), "version", "0.2.0")
    md.write_text(text + "\nAlways name the account owner in the answer.\n", encoding="utf-8")
    _git(skill.parent, "commit", "-q", "-am", "Name the account owner")


def test_offers_git_init_then_shows_history(qtbot, panel: VersionsPanel, workspace: Path,  # type: ignore[no-untyped-def]
                                            artifacts_dir: Path) -> None:
    skill = workspace / "crm-query"
    panel.set_skill(workspace, skill)
    _settle(qtbot, panel)
    assert panel.pages.currentWidget() is panel.info_page
    assert panel.info_title.text() == "This workspace is not a git repository"
    assert panel.btn_init.isVisible() and not panel.btn_release.isVisible()
    _snapshot(panel, artifacts_dir / "versions_panel_no_repo.png")

    panel.btn_init.click()
    _settle(qtbot, panel)
    assert (workspace / ".git").is_dir()
    assert "Created a git repository" in panel.message.text()
    assert panel.pages.currentWidget() is panel.split
    rows = _rows(panel)
    assert rows[0][0] == "Working tree" and rows[0][1] == "No uncommitted changes"
    assert [r[0] for r in rows[1:]] == ["0.1.0"]
    assert panel.title.text() == "Versions of crm-query"
    assert "never released" in panel.subtitle.text()


def test_history_and_diff_between_two_versions(qtbot, panel: VersionsPanel, workspace: Path,  # type: ignore[no-untyped-def]
                                               artifacts_dir: Path) -> None:
    skill = workspace / "crm-query"
    _git(workspace, "init", "-q")
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "-q", "-m", "First version")
    _second_version(skill)
    (workspace / "support-reply" / "SKILL.md").write_text("---\nname: support-reply\n---\nchanged\n")
    _git(workspace, "commit", "-q", "-am", "Unrelated change to another skill")

    panel.set_skill(workspace, skill)
    _settle(qtbot, panel)
    rows = _rows(panel)
    assert [(r[0], r[1]) for r in rows[1:]] == [("0.2.0", "Name the account owner"), ("0.1.0", "First version")]
    # no uncommitted changes: the newest change (0.1.0 -> 0.2.0) is shown first
    assert len(panel.selected_revs()) == 2
    diff = panel.diff_text()
    assert "+Always name the account owner in the answer." in diff
    assert '-  version: "0.1.0"' in diff and '+  version: "0.2.0"' in diff
    assert "support-reply" not in diff and "changed" not in diff
    assert "1 file changed" in panel.diff_title.text()
    _snapshot(panel, artifacts_dir / "versions_panel_diff.png")

    # one version vs the working tree
    (skill / "references").mkdir()
    (skill / "references" / "fields.md").write_text("Owner, Stage, Amount\n", encoding="utf-8")
    panel.refresh()
    _settle(qtbot, panel)
    assert _rows(panel)[0][1].startswith("1 uncommitted change: references/fields.md")
    first = _rows(panel)
    revs = [panel.list.topLevelItem(i).data(0, 0x0100) for i in range(len(first))]  # type: ignore[union-attr]
    panel.select_revs([revs[2]])  # 0.1.0 vs the working tree
    _settle(qtbot, panel)
    diff = panel.diff_text()
    assert "+Always name the account owner in the answer." in diff
    assert "+Owner, Stage, Amount" in diff
    assert "the working tree" in panel.diff_title.text()
    panel.select_revs([WORKING_TREE])  # only uncommitted changes
    _settle(qtbot, panel)
    assert "+Owner, Stage, Amount" in panel.diff_text()
    assert "account owner" not in panel.diff_text()
    panel.select_revs([revs[1], revs[1]])
    _settle(qtbot, panel)


def test_release_bumps_version_and_tags(qtbot, panel: VersionsPanel, workspace: Path,  # type: ignore[no-untyped-def]
                                        artifacts_dir: Path) -> None:
    skill = workspace / "crm-query"
    _git(workspace, "init", "-q")
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "-q", "-m", "First version")
    _second_version(skill)
    panel.set_skill(workspace, skill)
    _settle(qtbot, panel)
    about: list[int] = []
    panel.sig_about_to_release.connect(lambda: about.append(1))

    panel.btn_release.click()
    dlg = panel.release_dialog
    assert dlg is not None and dlg.isVisible() and about == [1]
    assert "→  0.2.1" in dlg.radios["patch"].text() and "→  0.3.0" in dlg.radios["minor"].text()
    assert "→  1.0.0" in dlg.radios["major"].text()
    dlg.radios["minor"].setChecked(True)
    dlg.notes.setPlainText("Answers name the account owner")
    _snapshot(dlg, artifacts_dir / "versions_release_dialog.png")
    with qtbot.waitSignal(panel.sig_released, timeout=20000) as released:
        dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert released.args == ["0.3.0"]
    _settle(qtbot, panel)

    assert load_skill(skill).version == "0.3.0"
    assert _git(workspace, "tag", "--list").split() == ["crm-query/v0.3.0"]
    assert "## [0.3.0]" in (skill / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "- Answers name the account owner" in (skill / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "Released crm-query 0.3.0 — tag crm-query/v0.3.0" in panel.message.text()
    rows = _rows(panel)
    assert (rows[1][0], rows[1][1]) == ("0.3.0  ● released", "Release crm-query 0.3.0")
    assert rows[2][0] == "0.2.0"
    assert "released — edits start the next version" in panel.subtitle.text()
    _snapshot(panel, artifacts_dir / "versions_panel_released.png")

    panel.btn_release.click()  # a second release is computed from the last one
    dlg = panel.release_dialog
    assert dlg is not None and "→  0.3.1" in dlg.radios["patch"].text()
    assert not panel.btn_release.isEnabled()  # one release dialog at a time
    dlg.reject()
    assert panel.release_dialog is None and panel.btn_release.isEnabled()
    assert _git(workspace, "tag", "--list").split() == ["crm-query/v0.3.0"]


def test_release_refused_when_the_skill_is_invalid(qtbot, panel: VersionsPanel, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    skill = workspace / "crm-query"
    _git(workspace, "init", "-q")
    _git(workspace, "add", "-A")
    _git(workspace, "commit", "-q", "-m", "First version")
    md = skill / "SKILL.md"
    broken = skillmd.set_field(md.read_text(encoding="utf-8"), "name", "Not Valid")
    md.write_text(broken, encoding="utf-8")
    panel.set_skill(workspace, skill)
    _settle(qtbot, panel)
    released: list[str] = []
    panel.sig_released.connect(released.append)
    panel.btn_release.click()
    assert panel.release_dialog is not None
    panel.release_dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    _settle(qtbot, panel)
    assert released == []
    assert panel.message.text().startswith("Release failed:") and "cannot be released" in panel.message.text()
    assert _git(workspace, "tag", "--list") == ""
    assert md.read_text(encoding="utf-8") == broken  # nothing touched


def test_empty_states(qtbot, panel: VersionsPanel, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    assert panel.info_title.text() == "No workspace open"
    _git(workspace, "init", "-q")
    panel.set_skill(workspace, None)
    _settle(qtbot, panel)
    assert panel.info_title.text() == "No skill selected"
    panel.set_skill(workspace, workspace / "crm-query")  # repository without commits
    _settle(qtbot, panel)
    assert panel.pages.currentWidget() is panel.split
    assert "no commits yet" in panel.diff_view.placeholderText()
