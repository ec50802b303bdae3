"""Releasing a skill on a real git repository: validation gate, semver bump, changelog, commit, tag, immutability."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from skillstudio.bundle import history, release
from skillstudio.bundle.model import load_skill
from skillstudio.errors import CheckFailed, SkillStudioError
from support.gitrepo import example_repo, git


@pytest.fixture(autouse=True)
def _git_installed() -> None:
    from support.realparts import need

    need(shutil.which("git") is not None, "git not installed (apt-get install git)")
DAY = dt.date(2026, 11, 30)


def test_release_patch_then_minor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    skill = ws / "ledger-reconcile"
    md_before = (skill / "SKILL.md").read_text(encoding="utf-8")

    r1 = release.release_skill(ws, skill, "patch", "Explain the 9-rule for transpositions.", date=DAY)
    assert (r1.skill, r1.version, r1.previous_version, r1.tag) == ("ledger-reconcile", "1.0.1", "1.0.0",
                                                                   "ledger-reconcile/v1.0.1")
    md = (skill / "SKILL.md").read_text(encoding="utf-8")
    assert load_skill(skill).version == "1.0.1"
    # only the version line changed: the rest of SKILL.md is byte-identical
    assert md == md_before.replace('version: "1.0.0"', 'version: "1.0.1"')
    log = (skill / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [1.0.1] - 2026-11-30\n\n- Explain the 9-rule for transpositions.\n" in log
    assert log.index("## [Unreleased]") < log.index("## [1.0.1]") < log.index("## [1.0.0]")
    assert git(ws, "rev-parse", "ledger-reconcile/v1.0.1^{commit}").strip() == r1.commit == \
        git(ws, "rev-parse", "HEAD").strip()
    assert git(ws, "tag", "-l", "--format=%(objecttype)", "ledger-reconcile/v1.0.1").strip() == "tag"  # annotated
    assert git(ws, "log", "-1", "--format=%s").strip() == "Release ledger-reconcile 1.0.1"
    assert sorted(r1.files) == ["ledger-reconcile/CHANGELOG.md", "ledger-reconcile/SKILL.md"]
    assert git(ws, "status", "--porcelain") == ""

    r2 = release.release_skill(ws, skill, "minor", "### Added\n- Multi-currency statements.", date=DAY)
    assert r2.version == "1.1.0" and r2.previous_version == "1.0.1"
    log = (skill / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [1.1.0] - 2026-11-30\n\n### Added\n- Multi-currency statements.\n" in log
    assert log.index("## [1.1.0]") < log.index("## [1.0.1]")
    r3 = release.release_skill(ws, skill, "major", "", date=DAY)
    assert r3.version == "2.0.0" and "## [2.0.0] - 2026-11-30\n\n- No notable changes.\n" in \
        (skill / "CHANGELOG.md").read_text(encoding="utf-8")
    assert history.released_versions(ws, skill) == ["1.0.1", "1.1.0", "2.0.0"]


def test_unreleased_notes_move_into_the_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    skill = ws / "crm-query"
    log = skill / "CHANGELOG.md"
    log.write_text(log.read_text(encoding="utf-8").replace(
        "## [Unreleased]\n", "## [Unreleased]\n\n- Added the win-rate query.\n"), encoding="utf-8")
    release.release_skill(ws, skill, "patch", "Fixed the stale-pipeline filter.", date=DAY)
    text = log.read_text(encoding="utf-8")
    assert "## [Unreleased]\n\n## [1.0.1] - 2026-11-30\n\n- Added the win-rate query.\n" \
           "- Fixed the stale-pipeline filter.\n\n## [1.0.0]" in text


def test_release_as_is_and_first_release_of_an_unversioned_skill(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    r = release.release_skill(ws, ws / "support-reply", None, "First public version.", date=DAY)
    assert r.version == "1.0.0" and r.tag == "support-reply/v1.0.0"
    with pytest.raises(SkillStudioError, match="1.0.0 was already released and released versions are immutable"):
        release.release_skill(ws, ws / "support-reply", None, "again")

    skill = ws / "compliance-evidence"
    md = skill / "SKILL.md"
    md.write_text(md.read_text(encoding="utf-8").replace('  version: "1.0.0"\n', ""), encoding="utf-8")
    (skill / "CHANGELOG.md").unlink()
    r = release.release_skill(ws, skill, "minor", "Initial evidence workflow.", date=DAY)
    assert r.version == "0.1.0" and r.previous_version is None
    assert load_skill(skill).version == "0.1.0"
    log = (skill / "CHANGELOG.md").read_text(encoding="utf-8")
    assert log.startswith("# Changelog") and "## [0.1.0] - 2026-11-30\n\n- Initial evidence workflow." in log


def test_failing_validation_blocks_the_release_and_changes_nothing(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    skill = ws / "network-config"
    md = skill / "SKILL.md"
    broken = md.read_text(encoding="utf-8").replace("license: Apache-2.0", "license: Apache-2.0\nowner: netops")
    md.write_text(broken, encoding="utf-8")
    head = git(ws, "rev-parse", "HEAD")
    with pytest.raises(CheckFailed, match="network-config cannot be released:.*owner"):
        release.release_skill(ws, skill, "patch", "x")  # default validator: ours + skills-ref
    assert md.read_text(encoding="utf-8") == broken
    assert git(ws, "rev-parse", "HEAD") == head and git(ws, "tag") == ""
    with pytest.raises(CheckFailed, match=r"cannot be released: bad one \(and 1 more\)"):
        release.release_skill(ws, ws / "crm-query", "patch", "x", validate=lambda d: ["bad one", "bad two"])
    calls: list[Path] = []
    release.release_skill(ws, ws / "crm-query", "patch", "x", validate=lambda d: calls.append(d) or [])
    assert calls == [ws / "crm-query"]


def test_other_dirty_files_are_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    other_md = ws / "support-reply" / "SKILL.md"
    other_md.write_text(other_md.read_text(encoding="utf-8") + "\nDraft paragraph.\n", encoding="utf-8")
    staged = ws / "network-config" / "assets" / "staged.json"
    staged.write_text("{}\n", encoding="utf-8")
    git(ws, "add", str(staged))
    (ws / "scratch.txt").write_text("notes\n", encoding="utf-8")
    skill = ws / "crm-query"
    (skill / "references" / "new.md").write_text("# New reference\n", encoding="utf-8")

    r = release.release_skill(ws, skill, "patch", "New reference.")
    assert sorted(r.files) == ["crm-query/CHANGELOG.md", "crm-query/SKILL.md", "crm-query/references/new.md"]
    status = git(ws, "status", "--porcelain").splitlines()
    assert sorted(status) == sorted([" M support-reply/SKILL.md", "A  network-config/assets/staged.json",
                                     "?? scratch.txt"])
    assert other_md.read_text(encoding="utf-8").endswith("Draft paragraph.\n")


def test_released_versions_are_immutable_edits_start_the_next_version(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    skill = ws / "network-config"
    assert not release.is_released(ws, skill)
    assert release.start_next_version(ws, skill) is None  # nothing released yet: nothing to do
    release.release_skill(ws, skill, "patch", "Baseline.", date=DAY)
    assert release.is_released(ws, skill)

    assert release.next_version(ws, skill) == "1.0.2"
    text = (skill / "SKILL.md").read_text(encoding="utf-8")
    assert release.set_version_text(text, "1.0.2") == text.replace('version: "1.0.1"', 'version: "1.0.2"')
    log = skill / "CHANGELOG.md"
    log.write_text(log.read_text(encoding="utf-8").replace("## [Unreleased]\n\n", ""), encoding="utf-8")
    assert release.start_next_version(ws, skill) == "1.0.2"
    assert "\n## [Unreleased]\n\n## [1.0.1] - 2026-11-30\n" in log.read_text(encoding="utf-8")
    assert release.next_version(ws, skill) is None
    assert not release.is_released(ws, skill)
    assert load_skill(skill).version == "1.0.2"
    assert release.start_next_version(ws, skill) is None  # already moved on
    # the tagged content is untouched
    assert 'version: "1.0.1"' in history.file_at(ws, "network-config/v1.0.1", "network-config/SKILL.md")

    # a patch release now releases the started version; minor from there would skip nothing either
    r = release.release_skill(ws, skill, "patch", "Template: trunk native VLAN.", date=DAY)
    assert r.version == "1.0.2" and r.previous_version == "1.0.2"
    assert history.released_versions(ws, skill) == ["1.0.1", "1.0.2"]

    # moving the tag-protected version by hand to an older number is refused
    md = skill / "SKILL.md"
    md.write_text(md.read_text(encoding="utf-8").replace('"1.0.2"', '"1.0.1"'), encoding="utf-8")
    with pytest.raises(SkillStudioError, match="1.0.1 was already released"):
        release.release_skill(ws, skill, None, "x")


def test_unreleased_version_ahead_of_the_bump_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    skill = ws / "crm-query"
    release.release_skill(ws, skill, "patch", "Baseline.")
    md = skill / "SKILL.md"
    md.write_text(md.read_text(encoding="utf-8").replace('"1.0.1"', '"2.0.0"'), encoding="utf-8")
    with pytest.raises(SkillStudioError, match="SKILL.md is at 2.0.0 but a patch release from 1.0.1 would be 1.0.2"):
        release.release_skill(ws, skill, "patch", "x")
    assert release.release_skill(ws, skill, None, "Rewrite.").version == "2.0.0"


def test_clear_errors_for_repo_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    skill = ws / "crm-query"
    git(ws, "tag", "crm-query/v1.0.1")  # someone tagged the next version by hand: it counts as released
    with pytest.raises(SkillStudioError, match="1.0.0 is not newer than the last release 1.0.1"):
        release.release_skill(ws, skill, None, "x")
    assert release.release_skill(ws, skill, "patch", "After the hand-made tag.").version == "1.0.2"
    with pytest.raises(SkillStudioError, match="unknown bump"):
        release.release_skill(ws, skill, "huge", "x")

    (ws / ".git" / "MERGE_HEAD").write_text(git(ws, "rev-parse", "HEAD"), encoding="utf-8")
    with pytest.raises(SkillStudioError, match="middle of a merge"):
        release.release_skill(ws, skill, "minor", "x")
    (ws / ".git" / "MERGE_HEAD").unlink()

    plain = tmp_path / "plain"
    shutil.copytree(skill, plain / "crm-query")
    with pytest.raises(SkillStudioError, match="not a git repository"):
        release.release_skill(plain, plain / "crm-query", "patch", "x")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(SkillStudioError, match="git is not installed"):
        release.release_skill(ws, skill, "minor", "x")


def test_failed_commit_restores_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    skill = ws / "support-reply"
    hook = ws / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho 'blocked by policy' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    md_before = (skill / "SKILL.md").read_bytes()
    log_before = (skill / "CHANGELOG.md").read_bytes()
    with pytest.raises(SkillStudioError, match="git commit failed: blocked by policy"):
        release.release_skill(ws, skill, "patch", "x")
    assert (skill / "SKILL.md").read_bytes() == md_before and (skill / "CHANGELOG.md").read_bytes() == log_before
    assert git(ws, "status", "--porcelain") == "" and git(ws, "tag") == ""


def test_changelog_helpers_keep_crlf_and_add_unreleased() -> None:
    text = "# Changelog\r\n\r\n## [1.0.0] - 2026-01-01\r\n\r\n- First.\r\n"
    out, entry = release.add_changelog_entry(text, "1.0.1", "2026-02-01", "Fix.")
    assert out == ("# Changelog\r\n\r\n## [1.0.1] - 2026-02-01\r\n\r\n- Fix.\r\n\r\n"
                   "## [1.0.0] - 2026-01-01\r\n\r\n- First.\r\n")
    assert entry == "## [1.0.1] - 2026-02-01\n\n- Fix.\n"
    assert release.ensure_unreleased(text).startswith("# Changelog\r\n\r\n## [Unreleased]\r\n\r\n## [1.0.0]")
    assert release.ensure_unreleased(release.CHANGELOG_HEADER) == release.CHANGELOG_HEADER
    assert release.format_notes("one\n\ntwo") == "- one\n- two"
    assert release.next_release_version("1.2.3", [], "major") == "2.0.0"
    assert release.next_release_version("1.0.5", ["1.0.4"], "patch") == "1.0.5"
    with pytest.raises(SkillStudioError, match="not a semver"):
        release.next_release_version("one", [], "patch")
