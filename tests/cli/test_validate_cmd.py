"""`skillstudio validate` and `skillstudio tokens`, run as a user runs them (exit codes for real)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from skills_ref.validator import validate as ref_validate
from typer.testing import CliRunner

from skillstudio.cli.main import app


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "skillstudio", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def broken_skill(root: Path) -> Path:
    d = root / "My_Skill"
    d.mkdir(parents=True)
    (d / "SKILL.md").write_text("---\nname: My Skill\ndescription: Use when: deals come up\nversion: 1.0.0\n"
                                "tags: [crm, sales]\n---\n# Body\n", encoding="utf-8")
    return d


def test_example_workspace_validates_clean(example_workspace: Path) -> None:
    proc = run("validate", "skills", cwd=example_workspace.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "invalid" in proc.stdout and "0 invalid" in proc.stdout and "0 errors" in proc.stdout
    proc = run("validate", "skills", "--json", cwd=example_workspace.parent)
    assert proc.returncode == 0
    out = json.loads(proc.stdout)
    names = sorted(s["name"] for s in out["skills"])
    assert names == sorted(p.name for p in example_workspace.iterdir() if (p / "SKILL.md").exists())
    for s in out["skills"]:
        assert s["path"] == f"skills/{s['name']}"
        assert s["errors"] == [] and isinstance(s["warnings"], list)


def test_invalid_skill_exits_1_with_json_errors(tmp_path: Path) -> None:
    broken_skill(tmp_path)
    (tmp_path / "empty").mkdir()
    proc = run("validate", "My_Skill", "empty", "does-not-exist", "--json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    skills = json.loads(proc.stdout)["skills"]
    assert [s["path"] for s in skills] == ["My_Skill", "empty", "does-not-exist"]
    assert any("invalid YAML" in e and e.startswith("SKILL.md:3:") for e in skills[0]["errors"])
    assert skills[1]["errors"] == ["SKILL.md: missing SKILL.md"]
    assert skills[2]["errors"] == ["SKILL.md: missing SKILL.md"]
    assert "quote-values" in skills[0]["fix_ids"] and "spec.yaml" in skills[0]["codes"]


def test_human_output_groups_per_skill(tmp_path: Path) -> None:
    broken_skill(tmp_path)
    proc = run("validate", "My_Skill", cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("✖ My_Skill")
    assert any("error" in ln and "SKILL.md:3" in ln and "(fix: quote-values)" in ln for ln in lines)
    assert lines[-1].startswith("1 skill: 0 valid, 1 invalid")
    assert "Traceback" not in proc.stderr


def test_fix_reports_changes_and_passes_skills_ref(tmp_path: Path) -> None:
    broken_skill(tmp_path)
    proc = run("validate", ".", "--fix", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (entry,) = json.loads(proc.stdout)["skills"]
    assert entry["path"] == "my-skill" and entry["errors"] == []
    fixed = "\n".join(entry["fixed"])
    for expected in ("quoted the value of 'description'", "metadata.version", "metadata.tags",
                     "normalised name 'My Skill' to 'my-skill'", "renamed folder 'My_Skill' to 'my-skill'"):
        assert expected in fixed
    assert ref_validate(tmp_path / "my-skill") == []


def test_fix_on_a_single_skill_path_follows_the_rename(tmp_path: Path) -> None:
    broken_skill(tmp_path)
    proc = run("validate", "My_Skill", "--fix", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "fixed" in proc.stdout and "renamed folder" in proc.stdout and "my-skill" in proc.stdout


def test_target_filter_and_usage_errors(tmp_path: Path) -> None:
    d = tmp_path / "demo"
    d.mkdir()
    (d / "SKILL.md").write_text("---\nname: demo\ndescription: Turns <a> into <b>. Not for c.\n"
                                "compatibility: git\n---\nbody\n", encoding="utf-8")
    runner = CliRunner()
    res = runner.invoke(app, ["validate", str(d), "--json", "--target", "codex"])
    assert res.exit_code == 0, res.output
    warnings = json.loads(res.output)["skills"][0]["warnings"]
    assert any("[codex]" in w for w in warnings) and not any("[claude]" in w for w in warnings)
    res = runner.invoke(app, ["validate", str(d), "--json", "--target", "claude"])
    warnings = json.loads(res.output)["skills"][0]["warnings"]
    assert any("[claude]" in w for w in warnings) and not any("[codex]" in w for w in warnings)
    proc = run("validate", "demo", "--target", "gemini", cwd=tmp_path)
    assert proc.returncode == 2 and "gemini" in proc.stderr
    assert run("validate", cwd=tmp_path).returncode == 2


def test_tokens_json_and_table(example_workspace: Path) -> None:
    proc = run("tokens", "skills", "--json", cwd=example_workspace.parent)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["encoding"] == "o200k_base"
    for s in out["skills"]:
        assert s["path"].startswith("skills/")
        assert 0 < s["always_loaded"] < s["body"] <= s["total"]
        assert "SKILL.md" in s["files"] and s["total"] == sum(s["files"].values())
    cat = out["catalog"]
    assert cat["skills"] == len(out["skills"])
    assert cat["always_loaded"] == sum(s["always_loaded"] for s in out["skills"])
    assert cat["codex_budget_chars"] == 8000 and cat["within_codex_budget"] is (cat["chars"] <= 8000)
    table = run("tokens", "skills", cwd=example_workspace.parent)
    assert table.returncode == 0 and "always loaded" in table.stdout and "Codex" in table.stdout
    missing = run("tokens", "nowhere", "--json", cwd=example_workspace.parent)
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["skills"][0]["error"] == "missing SKILL.md"


def test_validating_a_short_skill_never_loads_the_token_vocabulary(tmp_path: Path) -> None:
    """A body of at most 5,000 UTF-8 bytes cannot exceed 5,000 tokens, so its lint rule needs no vocabulary."""
    d = tmp_path / "short-skill"
    d.mkdir()
    (d / "SKILL.md").write_text("---\nname: short-skill\ndescription: Use for short things. Do not use for long "
                                "ones.\n---\n" + "A line of instructions.\n" * 100, encoding="utf-8")
    code = ("import sys\nfrom skillstudio.cli.main import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    print('@@exit', e.code)\nprint('@@modules@@', *sorted(sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "desktop")}
    p = subprocess.run([sys.executable, "-c", code, "validate", str(d)], capture_output=True, text=True, env=env,
                       timeout=120, check=False)
    assert "@@exit 0" in p.stdout, p.stdout + p.stderr
    loaded = p.stdout.split("@@modules@@")[-1].split()
    assert "skillstudio.bundle.validate" in loaded and "tiktoken" not in loaded


def test_json_has_contract_fields_and_lists_each_problem_once(tmp_path: Path) -> None:
    broken_skill(tmp_path / "ws")
    good = tmp_path / "ws" / "good"
    good.mkdir()
    (good / "SKILL.md").write_text("---\nname: good\ndescription: Use when: x\ncompatibility: linux\n---\n# B\n",
                                   encoding="utf-8")
    proc = run("validate", "ws", "--json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert "\n" not in proc.stdout.strip()  # compact: one line, the C encoder's form
    assert [s["path"] for s in out["skills"]] == [str(Path("ws") / "My_Skill"), str(Path("ws") / "good")]
    for s in out["skills"]:
        assert {"path", "name", "errors", "warnings"} <= set(s)
        assert all(isinstance(x, str) for x in s["errors"] + s["warnings"])
        lines = [x for v in s.values() if isinstance(v, list) for x in v if isinstance(x, (str, dict))]
        texts = [x if isinstance(x, str) else json.dumps(x) for x in lines]
        # no problem appears twice, whatever the extra fields are called
        problem_texts = s["errors"] + s["warnings"] + s.get("infos", [])
        for p in problem_texts:
            message = p.split(": ", 1)[1]
            assert sum(message in t for t in texts) == 1, (message, s)
    assert out["skills"][0]["errors"] and out["skills"][1]["warnings"]


def test_plain_validate_is_parsed_without_typer_and_gives_typer_s_results(tmp_path: Path) -> None:
    """The fast argv path (no typer, rich or pydantic) and typer's parse agree, option forms and all."""
    d = tmp_path / "demo"
    d.mkdir()
    (d / "SKILL.md").write_text("---\nname: demo\ndescription: Turns <a> into <b>. Not for c.\n"
                                "compatibility: git\n---\nbody\n", encoding="utf-8")
    code = ("import sys\nfrom skillstudio.cli.main import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
            "    print('@@exit', e.code)\nprint('@@modules@@', *sorted(sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "desktop")}
    runner = CliRunner()
    for argv in (["validate", str(d), "--json", "--target", "CODEX"], ["validate", "--target=claude", "--json", str(d)],
                 ["validate", "--json", "--", str(d)]):
        p = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, timeout=120,
                           check=False)
        out, loaded = p.stdout.split("@@modules@@")
        assert "@@exit 0" in out, p.stdout + p.stderr
        assert not {m for m in loaded.split() if m.split(".")[0] in ("typer", "click", "rich", "pydantic")}
        via_typer = runner.invoke(app, argv)
        assert via_typer.exit_code == 0, via_typer.output
        assert json.loads(out.split("@@exit")[0]) == json.loads(via_typer.output)
    # what the fast path does not take goes to typer, which words the error
    proc = run("validate", "demo", "--no-such-option", cwd=tmp_path)
    assert proc.returncode == 2 and "No such option" in proc.stderr
