"""`skillstudio release`, `history` and `diff` on a real git repository, through the real CLI entry point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from skillstudio.cli import main
from support.gitrepo import example_repo, git


@pytest.fixture(autouse=True)
def _git_installed() -> None:
    from support.realparts import need

    need(shutil.which("git") is not None, "git not installed (apt-get install git)")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        main.main(list(argv))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_release_history_and_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    skill = ws / "crm-query"
    code, out, err = run(capsys, "release", str(skill), "--notes", "First tagged release.")
    assert code == 0, err
    assert out.startswith("Released crm-query 1.0.1 (was 1.0.0): tag crm-query/v1.0.1, commit ")

    (skill / "references" / "soql-cheatsheet.md").write_text("# SOQL\n\nShorter.\n", encoding="utf-8")
    code, out, err = run(capsys, "release", str(skill), "--bump", "minor", "--notes", "Shorter cheat-sheet.", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["version"] == "1.1.0" and data["tag"] == "crm-query/v1.1.0"
    assert "crm-query/references/soql-cheatsheet.md" in data["files"]

    code, out, err = run(capsys, "history", str(skill), "--json")
    assert code == 0, err
    hist = json.loads(out)
    assert hist["skill"] == "crm-query" and hist["released"] == ["1.0.1", "1.1.0"]
    assert [c["version"] for c in hist["commits"]] == ["1.1.0", "1.0.1", "1.0.0"]
    assert hist["commits"][0]["tags"] == ["crm-query/v1.1.0"]
    assert hist["commits"][0]["rev"] == git(ws, "rev-parse", "HEAD").strip()

    code, out, _ = run(capsys, "history", str(skill))
    lines = out.splitlines()
    assert len(lines) == 3 and "1.1.0" in lines[0] and "[crm-query/v1.1.0]" in lines[0]
    assert "Release crm-query 1.1.0" in lines[0]

    code, out, _ = run(capsys, "diff", str(skill), "1.0.1", "1.1.0")
    assert code == 0
    assert "diff --git a/references/soql-cheatsheet.md b/references/soql-cheatsheet.md" in out
    assert "+Shorter." in out
    code, out, _ = run(capsys, "diff", str(skill), "1.0.1", "1.1.0", "--stat")
    rows = {ln.split()[-1]: ln.split()[:3] for ln in out.splitlines()}
    assert set(rows) == {"CHANGELOG.md", "SKILL.md", "references/soql-cheatsheet.md"}
    assert rows["SKILL.md"] == ["modified", "+1", "-1"]
    assert rows["references/soql-cheatsheet.md"][2] != "-0"

    (skill / "SKILL.md").write_text((skill / "SKILL.md").read_text(encoding="utf-8") + "\nMore.\n", encoding="utf-8")
    code, out, _ = run(capsys, "diff", str(skill), "1.1.0")
    assert code == 0 and "+More." in out


def test_errors_are_one_line_with_the_right_exit_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    ws = example_repo(tmp_path, monkeypatch)
    skill = ws / "support-reply"
    md = skill / "SKILL.md"
    md.write_text(md.read_text(encoding="utf-8").replace("name: support-reply", "name: Support Reply"),
                  encoding="utf-8")
    code, out, err = run(capsys, "release", str(skill))
    assert code == 1 and out == ""
    assert err.startswith("skillstudio: Support Reply cannot be released:") and len(err.strip().splitlines()) == 1
    assert git(ws, "tag") == ""

    code, _, err = run(capsys, "release", str(ws / "crm-query"), "--bump", "huge")
    assert code == 2 and "unknown --bump 'huge'" in err
    code, _, err = run(capsys, "history", str(tmp_path / "nope"))
    assert code == 2 and "is not a skill folder" in err
    code, _, err = run(capsys, "diff", str(ws / "crm-query"), "7.7.7")
    assert code == 2 and "unknown version or revision '7.7.7'" in err

    plain = tmp_path / "plain" / "crm-query"
    shutil.copytree(ws / "crm-query", plain)
    code, _, err = run(capsys, "history", str(plain))
    assert code == 2 and "is not a git repository" in err and "Traceback" not in err
