"""The CLI on real catalogs: skills at any depth, `cases import/export`, host fields, Codex metadata,
what a skipped file is. Run as a user runs them (a subprocess) where the exit code matters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from skillstudio.cli.main import app

DESC = "Queries the CRM pipeline. Do not use for support tickets."
TRIGGERS = "cases:\n" + "".join(
    f"  - prompt: \"prompt {i}\"\n    expect: {'trigger' if i < 2 else 'no_trigger'}\n" for i in range(5))


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "250", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "skillstudio", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def skill(d: Path, fm_extra: str = "", triggers: str | None = TRIGGERS) -> Path:
    d.mkdir(parents=True)
    (d / "SKILL.md").write_text(f"---\nname: {d.name}\ndescription: {DESC} ({d.name})\n{fm_extra}metadata:\n"
                                "  version: \"1.0.0\"\n---\n# Body\n", encoding="utf-8")
    if triggers is not None:
        (d / "evals").mkdir()
        (d / "evals" / "triggers.yaml").write_text(triggers, encoding="utf-8")
    return d


def test_a_cloned_repository_layout_validates_every_skill(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    skill(repo / "skills" / "alpha")
    skill(repo / "skills" / ".curated" / "beta")
    skill(repo / "plugins" / "tools" / "skills" / "gamma")
    skill(repo / ".claude" / "skills" / "delta")
    skill(repo / ".git" / "skills" / "not-me")
    proc = run("validate", "repo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("repo: 4 skills in 4 folders: ") and ".claude/skills/ (1)" in first
    assert "not-me" not in proc.stdout and "4 skills: 4 valid" in proc.stdout
    out = json.loads(run("validate", "repo", "--json", cwd=tmp_path).stdout)
    assert sorted(s["path"] for s in out["skills"]) == sorted([
        "repo/skills/alpha", "repo/skills/.curated/beta", "repo/plugins/tools/skills/gamma",
        "repo/.claude/skills/delta"])
    assert out["found"] == [{"path": "repo", "summary": first.removeprefix("repo: ")}]
    tokens = run("tokens", "repo", cwd=tmp_path)
    assert tokens.returncode == 0 and tokens.stdout.startswith("repo: 4 skills in 4 folders")


def test_a_broken_triggers_file_fails_validate(tmp_path: Path) -> None:
    skill(tmp_path / "ws" / "alpha", triggers="cases:\n  - prompt: [unclosed\n")
    proc = run("validate", "ws", "--json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout
    (entry,) = json.loads(proc.stdout)["skills"]
    assert entry["errors"] and entry["errors"][0].startswith("evals/triggers.yaml:")


def test_cases_import_and_export_round_trip(tmp_path: Path) -> None:
    d = skill(tmp_path / "crm-query", triggers=None)
    evals = [{"query": "Pull the Q3 pipeline for Acme", "should_trigger": True},
             {"query": "Reply to this angry customer", "should_trigger": False, "expected_skill": "support-reply",
              "notes": "support tickets belong to support-reply"}]
    (tmp_path / "set.json").write_text(json.dumps({"evals": evals}), encoding="utf-8")
    proc = run("cases", "import", "set.json", "--skill", "crm-query", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "crm-query/evals/triggers.yaml: 2 cases added"
    text = (d / "evals" / "triggers.yaml").read_text(encoding="utf-8")
    assert "route_to: support-reply" in text and "why: support tickets belong to support-reply" in text
    out = run("cases", "export", "crm-query", "--format", "skill-creator", cwd=tmp_path)
    assert out.returncode == 0 and json.loads(out.stdout) == evals
    again = run("cases", "import", "set.json", "--skill", "crm-query", cwd=tmp_path)
    assert "0 cases added, 2 already there" in again.stdout
    runner = CliRunner()
    res = runner.invoke(app, ["cases", "export", str(d), "--format", "yaml", "-o", str(tmp_path / "out.yaml")])
    assert res.exit_code == 0 and (tmp_path / "out.yaml").read_text(encoding="utf-8") == text


def test_cases_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    skill(tmp_path / "crm-query", triggers=None)
    (tmp_path / "evals.json").write_text(json.dumps({"skill_name": "crm-query", "evals": [
        {"id": 1, "prompt": "Summarise", "expected_output": "A summary", "files": []}]}), encoding="utf-8")
    proc = run("cases", "import", "evals.json", "--skill", "crm-query", cwd=tmp_path)
    assert proc.returncode == 2 and "output eval set" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run("cases", "export", "crm-query", cwd=tmp_path)
    assert proc.returncode == 2 and "no evals/triggers.yaml" in proc.stderr
    proc = run("cases", "export", "crm-query", "--format", "csv", cwd=tmp_path)
    assert proc.returncode == 2


def test_fix_keeps_host_fields_and_the_portable_fix_is_opt_in(tmp_path: Path) -> None:
    d = skill(tmp_path / "deploy", "disable-model-invocation: true\nowner: ops\n")
    proc = run("validate", "deploy", "--fix", cwd=tmp_path)
    assert proc.returncode == 1  # still not portable: skills-ref refuses the Claude Code field, as before
    assert "moved unknown field 'owner'" in proc.stdout
    assert "not fixed: 'disable-model-invocation' stays at the top level" in proc.stdout
    assert "\ndisable-model-invocation: true\n" in (d / "SKILL.md").read_text(encoding="utf-8")
    proc = run("validate", "deploy", "--fix-id", "portable-host-fields", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert "Claude Code then lets the model invoke the skill" in proc.stdout
    bad = run("validate", "deploy", "--fix-id", "everything", cwd=tmp_path)
    assert bad.returncode == 2 and "portable-host-fields" in bad.stderr


def test_target_openai_reports_codex_metadata(tmp_path: Path) -> None:
    d = skill(tmp_path / "demo")
    (d / "agents").mkdir()
    (d / "agents" / "openai.yaml").write_text("interface:\n  brand_color: blue\n  icon_small: ./assets/x.png\n",
                                              encoding="utf-8")
    for target in ("openai", "codex"):
        proc = run("validate", "demo", "--json", "--target", target, cwd=tmp_path)
        assert proc.returncode == 0
        warnings = json.loads(proc.stdout)["skills"][0]["warnings"]
        assert any(w.startswith(f"agents/openai.yaml:2: [{target}]") and "#RRGGBB" in w for w in warnings)
        assert any("does not exist in the skill" in w for w in warnings)


def test_tokens_say_what_a_skipped_file_is(tmp_path: Path) -> None:
    d = skill(tmp_path / "demo")
    (d / "assets").mkdir()
    (d / "assets" / "logo.png").write_bytes(b"\x89PNG\x00\x00binary")
    proc = run("tokens", "demo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "binary or too large" not in proc.stdout
    assert "demo/assets/logo.png: a binary file" in proc.stdout
    os.symlink("/dev/zero", d / "assets" / "zero.md")
    os.mkfifo(d / "assets" / "pipe.md")
    proc = run("tokens", "demo", cwd=tmp_path)  # neither hangs nor fills memory
    assert proc.returncode == 0, proc.stderr
    assert "demo/assets/zero.md: a symbolic link to /dev/zero: links out of the skill are not followed" in proc.stdout
    assert "demo/assets/pipe.md: a FIFO (named pipe), not a regular file" in proc.stdout
    why = json.loads(run("tokens", "demo", "--json", cwd=tmp_path).stdout)["skills"][0]["skipped_why"]
    assert why["assets/zero.md"].startswith("a symbolic link to /dev/zero") and "FIFO" in why["assets/pipe.md"]
    big = tmp_path / "big"
    big.mkdir()
    (big / "SKILL.md").write_text("---\nname: big\ndescription: x\n---\n", encoding="utf-8")
    with open(big / "SKILL.md", "r+b") as fh:
        fh.truncate(54 * 1000 * 1000)
    proc = run("tokens", "big", "--json", cwd=tmp_path)
    assert proc.returncode == 1
    assert "54.0 MB" in json.loads(proc.stdout)["skills"][0]["error"]
    proc = run("validate", "big", cwd=tmp_path)
    assert proc.returncode == 1 and "54.0 MB" in proc.stdout


def test_workspace_state_stays_out_of_git(tmp_path: Path, example_workspace: Path) -> None:
    """The first write into .skillstudio/ leaves a .gitignore there: run history is not untracked noise."""
    import shutil

    from support.realparts import need

    need(shutil.which("git") is not None, "git is not installed")
    root = example_workspace.parent
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    proc = run("test", "skills", "--offline", cwd=root)
    assert proc.returncode in (0, 1), proc.stderr
    state = example_workspace / ".skillstudio"
    assert (state / "runs.sqlite").is_file() and (state / ".gitignore").is_file()
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "skills/.skillstudio"],
                            cwd=root, capture_output=True, text=True, check=True).stdout
    assert status.splitlines() == ["?? skills/.skillstudio/.gitignore"]
    for shared in ("policies/workspace.json", "trust/trust.yaml", "secrets.yaml", "fixtures/a.json"):
        probe = subprocess.run(["git", "check-ignore", "-q", f"skills/.skillstudio/{shared}"], cwd=root, check=False)
        assert probe.returncode == 1, f"{shared} must stay shareable"
