"""An explicit-only skill that carries trigger cases: `validate` warns in the CLI and the app's Problems say
the same (lint.explicit-only-trigger-cases), for the Claude Code and the Codex declarations."""

from __future__ import annotations

import json
from pathlib import Path

from mainwindow_support import open_and_check, shot

from support.cli_runner import run_cli

CODE = "lint.explicit-only-trigger-cases"


def _workspace(root: Path) -> Path:
    for name in ("deploy", "plain"):
        d = root / name
        (d / "evals").mkdir(parents=True)
        (d / "SKILL.md").write_text(f"---\nname: {name}\ndescription: Does {name}. Do not use for other work.\n"
                                    "---\n# Body\n", encoding="utf-8")
        (d / "evals" / "triggers.yaml").write_text(f"cases:\n  - prompt: {name} the thing now\n    expect: trigger\n"
                                                   "  - prompt: write a poem\n    expect: no_trigger\n")
    (root / "deploy" / "agents").mkdir()
    (root / "deploy" / "agents" / "openai.yaml").write_text("policy:\n  allow_implicit_invocation: false\n")
    return root


def test_validate_warns_in_the_cli_and_in_the_problems_panel(qtbot, make_window, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                             artifacts_dir: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    p = run_cli("validate", str(ws), "--json")
    assert p.returncode == 0, p.stdout + p.stderr  # a warning, not an error
    by = {s["name"]: s for s in json.loads(p.stdout)["skills"]}
    assert [c for c in by["deploy"]["codes"] if c == CODE] == [CODE]
    assert CODE not in by["plain"]["codes"]
    human = run_cli("validate", str(ws))
    assert "explicit-only" in human.stdout and "1 trigger case(s) are reported as explicit-only" in human.stdout

    w = make_window(ws)
    open_and_check(qtbot, w, ws / "deploy" / "SKILL.md")
    hits = [x for x in w.problems.problems if x.code == CODE]
    assert len(hits) == 1 and hits[0].severity == "warning" and "allow_implicit_invocation: false" in hits[0].message
    shown = [w.problems.tree.topLevelItem(i).text(1) for i in range(w.problems.tree.topLevelItemCount())]
    assert any("explicit-only" in t for t in shown)
    shot(w, artifacts_dir, "problems-explicit-only")
    open_and_check(qtbot, w, ws / "plain" / "SKILL.md")
    assert not [x for x in w.problems.problems if x.code == CODE]
