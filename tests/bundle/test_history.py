"""Per-skill history on a real git repository: init, log with versions and tags, files at a revision, diffs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from skillstudio.bundle import history, release, skillmd
from skillstudio.errors import SkillStudioError
from skillstudio.resources import examples_dir
from support.gitrepo import example_repo, git, isolate_git


@pytest.fixture(autouse=True)
def _git_installed() -> None:
    from support.realparts import need

    need(shutil.which("git") is not None, "git not installed (apt-get install git)")


def _edit_body(skill: Path, old: str, new: str) -> None:
    md = skill / "SKILL.md"
    text = md.read_text(encoding="utf-8")
    assert old in text
    md.write_text(text.replace(old, new), encoding="utf-8")


def test_not_a_repo_then_init_commits_the_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path, monkeypatch, identity=False)  # no identity: the fallback author is used
    ws = tmp_path / "ws"
    shutil.copytree(examples_dir(), ws, ignore=shutil.ignore_patterns(".skillstudio", "__pycache__"))
    for sub in ("cache", "runs", "policies"):
        (ws / ".skillstudio" / sub).mkdir(parents=True)
        (ws / ".skillstudio" / sub / "x.json").write_text("{}", encoding="utf-8")
    assert not history.is_git_repo(ws) and history.find_repo_root(ws / "crm-query") is None
    with pytest.raises(SkillStudioError, match="not a git repository"):
        history.skill_log(ws, ws / "crm-query")

    root = history.init_repo(ws)
    assert root == ws.resolve() and history.find_repo_root(ws / "crm-query" / "references") == root
    tracked = git(ws, "ls-files").split()
    assert "crm-query/SKILL.md" in tracked and "ledger-reconcile/assets/sample-2026-10/bank.csv" in tracked
    assert [f for f in tracked if f.startswith(".skillstudio/")] == [".skillstudio/policies/x.json"]
    assert git(ws, "status", "--porcelain") == ""
    assert git(ws, "log", "--format=%an <%ae>").strip() == f"{history.FALLBACK_NAME} <{history.FALLBACK_EMAIL}>"
    assert history.init_repo(ws) == root  # idempotent
    assert len(git(ws, "log", "--format=%H").split()) == 1


def test_workspace_inside_a_bigger_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path, monkeypatch)
    project = tmp_path / "project"
    shutil.copytree(examples_dir(), project / "skills", ignore=shutil.ignore_patterns(".skillstudio", "__pycache__"))
    (project / "README.md").write_text("project\n", encoding="utf-8")
    history.init_repo(project)
    ws = project / "skills"
    assert history.find_repo_root(ws) == project.resolve()
    log = history.skill_log(ws, ws / "support-reply")
    assert [c.version for c in log] == ["1.0.0"]
    assert history.file_at(ws, "HEAD", "support-reply/SKILL.md").startswith("---\nname: support-reply")
    res = release.release_skill(ws, ws / "support-reply", "patch", "Tone guide: shorter replies.")
    assert history.released_versions(ws, ws / "support-reply") == ["1.0.1"]
    assert sorted(res.files) == ["skills/support-reply/CHANGELOG.md", "skills/support-reply/SKILL.md"]


def test_log_versions_tags_file_at_and_diff_between_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    skill = ws / "crm-query"
    first = release.release_skill(ws, skill, "patch", "First tagged release.")
    _edit_body(skill, "Never run `sf data update`", "Never run `sf data update`, `sf apex run`")
    (skill / "references" / "fields.md").write_text("# Opportunity fields\n\n- StageName\n", encoding="utf-8")
    second = release.release_skill(ws, skill, "minor", "Forbid anonymous Apex.\nField list.")
    # a commit that touches another skill only is not in this skill's history
    _edit_body(ws / "support-reply", "# Support reply", "# Support replies")
    git(ws, "commit", "-qam", "Retitle support-reply")

    log = history.skill_log(ws, skill)
    assert [c.version for c in log] == ["1.1.0", "1.0.1", "1.0.0"]
    assert [c.tags for c in log] == [["crm-query/v1.1.0"], ["crm-query/v1.0.1"], []]
    assert log[0].subject == "Release crm-query 1.1.0" and log[0].rev == second.commit
    assert log[0].author == "Test Author" and log[0].date[:4].isdigit() and len(log[0].short) >= 7
    assert len(history.skill_log(ws, skill, limit=1)) == 1
    assert history.released_versions(ws, skill) == ["1.0.1", "1.1.0"]
    assert history.skill_log(ws, ws / "support-reply")[0].subject == "Retitle support-reply"

    old = history.file_at(ws, first.tag, "crm-query/SKILL.md")
    assert "sf apex run" not in old and 'version: "1.0.1"' in old
    assert history.file_at(ws, "crm-query/v1.1.0", skill / "SKILL.md").count("sf apex run") == 1
    with pytest.raises(SkillStudioError, match="does not exist"):
        history.file_at(ws, first.tag, "crm-query/references/fields.md")

    text = history.diff(ws, skill, "1.0.1", "1.1.0")  # versions resolve to the skill's tags
    assert "diff --git a/SKILL.md b/SKILL.md" in text  # paths relative to the skill folder
    assert any(ln.startswith("+") and "`sf apex run`" in ln for ln in text.splitlines())
    assert '-  version: "1.0.1"' in text and '+  version: "1.1.0"' in text
    files = {f.path: f for f in history.split_diff(text)}
    assert set(files) == {"SKILL.md", "CHANGELOG.md", "references/fields.md"}
    assert files["references/fields.md"].status == "added" and files["references/fields.md"].added == 3
    assert files["SKILL.md"].status == "modified" and files["SKILL.md"].added == 2 == files["SKILL.md"].removed
    # HEAD also has the support-reply commit: the diff is limited to this skill's folder
    assert history.diff(ws, skill, "1.0.1", "HEAD") == text and "Support replies" not in text
    assert history.diff(ws, skill, "v1.1.0", second.commit) == ""
    with pytest.raises(SkillStudioError, match="unknown version or revision"):
        history.diff(ws, skill, "9.9.9")
    # 1.0.0 was never tagged: it resolves to the newest commit whose SKILL.md had that version
    assert history.resolve_rev(ws, skill, "1.0.0") == log[2].rev
    assert '-  version: "1.0.0"' in history.diff(ws, skill, "1.0.0", "1.0.1")


def test_diff_against_the_working_tree_includes_new_and_deleted_files(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    skill = ws / "network-config"
    release.release_skill(ws, skill, "patch", "Baseline.")
    _edit_body(skill, "Never log in to a device", "Never log in to any device")
    (skill / "assets" / "core-intent.json").write_text('{"hostname": "core-01"}\n', encoding="utf-8")
    (skill / "assets" / "logo.bin").write_bytes(b"\x00\x01\x02")
    (skill / "CHANGELOG.md").unlink()
    text = history.diff(ws, skill, "1.0.1")
    files = {f.path: f for f in history.split_diff(text)}
    assert files["SKILL.md"].status == "modified"
    assert files["CHANGELOG.md"].status == "deleted" and files["CHANGELOG.md"].added == 0
    assert files["assets/core-intent.json"].status == "added"
    assert '+{"hostname": "core-01"}' in files["assets/core-intent.json"].text
    assert files["assets/logo.bin"].status == "binary"
    assert sorted(history.working_changes(ws, skill)) == ["CHANGELOG.md", "SKILL.md", "assets/core-intent.json",
                                                         "assets/logo.bin"]
    assert history.working_changes(ws, ws / "crm-query") == []
    # an untracked FIFO or a link to a file outside the repository is never read into the diff
    import os

    os.mkfifo(skill / "assets" / "pipe.txt")
    secret = tmp_path / "outside-secret.txt"
    secret.write_text("token=abc123\n", encoding="utf-8")
    (skill / "assets" / "creds.txt").symlink_to(secret)
    text = history.diff(ws, skill, "1.0.1")  # would hang on the FIFO
    assert "token=abc123" not in text and "assets/core-intent.json" in text


def test_versions_are_read_from_history_even_when_front_matter_was_broken(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    md = ws / "crm-query" / "SKILL.md"
    md.write_text("no front matter at all\n", encoding="utf-8")
    git(ws, "commit", "-qam", "Break it")
    md.write_text(skillmd.set_metadata(history.file_at(ws, "HEAD~1", md), "version", "2.0.0"), encoding="utf-8")
    git(ws, "commit", "-qam", "Fix it")
    assert [c.version for c in history.skill_log(ws, ws / "crm-query")] == ["2.0.0", None, "1.0.0"]


def test_fresh_git_init_without_commits_then_first_release(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path, monkeypatch)
    ws = tmp_path / "ws"
    shutil.copytree(examples_dir() / "crm-query", ws / "crm-query")
    git(tmp_path, "init", "-q", str(ws))  # the user ran `git init` and nothing else
    assert history.is_git_repo(ws) and not history.has_commits(ws)
    assert history.skill_log(ws, ws / "crm-query") == []
    r = release.release_skill(ws, ws / "crm-query", None, "First release.")
    assert r.version == "1.0.0" and "crm-query/references/soql-cheatsheet.md" in r.files
    log = history.skill_log(ws, ws / "crm-query")
    assert [(c.version, c.tags) for c in log] == [("1.0.0", ["crm-query/v1.0.0"])]
