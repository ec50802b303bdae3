"""Core messages speak no shell: an option is named in `setting`, and the CLI words it as its flag."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import skillstudio
from skillstudio.errors import SkillStudioError
from support.cli_runner import run_cli

PACKAGE = Path(skillstudio.__file__).parent
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
ERRORS = {"SkillStudioError", "EnvironmentProblem", "CheckFailed", "InvalidSetting", "NoModelConfigured"}
NOT_YET: set[str] = set()


def _flag_messages(path: Path, root: Path = PACKAGE) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        if name not in ERRORS:
            continue
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            for part in ast.walk(arg):
                if isinstance(part, ast.Constant) and isinstance(part.value, str) and FLAG.search(part.value):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: {part.value}")
    return found


def test_no_core_or_services_error_names_a_cli_flag() -> None:
    shells = ("cli", "ui")
    offenders = [line for p in sorted(PACKAGE.rglob("*.py"))
                 if p.relative_to(PACKAGE).parts[0] not in shells
                 and p.relative_to(PACKAGE).as_posix() not in NOT_YET
                 for line in _flag_messages(p)]
    assert offenders == []


def test_the_guard_sees_a_flag_in_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('raise SkillStudioError("x", "or drop --max-cost")\n'
                   'raise CheckFailed(f"{ref} unsigned", hint=f"push {ref} with --key")\n'
                   'run(["git", "--version"])\n')
    assert len(_flag_messages(bad, tmp_path)) == 2


def test_the_cli_names_the_flag_the_app_does_not(tmp_path: Path) -> None:
    err = SkillStudioError("no price for model 'm'", "or run without a cost limit", setting="max-cost")
    assert str(err) == "no price for model 'm' — or run without a cost limit"  # what the app shows
    p = run_cli("run", str(tmp_path), "--prompt", "x", "--max-cost", "1", "--model", "no-such-model",
                "--provider", "chat", "--base-url", "http://127.0.0.1:9/v1")
    assert p.returncode == 2
    assert "a cost limit cannot be kept (--max-cost) — add it to" in p.stderr and "run without a cost limit" in p.stderr
