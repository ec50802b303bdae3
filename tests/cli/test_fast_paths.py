"""The forms `main` runs without typer (`validate`, `test`, opening the app), and the ones it leaves to typer."""

from __future__ import annotations

import os
import re
from pathlib import Path

from skillstudio.cli.main import _fast_gui, _fast_test, _fast_validate


def test_opening_the_app_takes_only_the_plain_forms() -> None:
    assert _fast_gui([]) == []
    assert _fast_gui(["gui"]) == []
    assert _fast_gui(["gui", "ws"]) == [Path("ws")]
    for typer_s in (["gui", "--smoke-test"], ["gui", "a", "b"], ["gui", "-h"], ["--version"], ["validate", "x"]):
        assert _fast_gui(typer_s) is None, typer_s


def test_validate_takes_only_the_plain_forms() -> None:
    assert _fast_validate(["a", "--json", "--target", "Codex", "--fix-id=dashes", "--", "-odd"]) == {
        "paths": [Path("a"), Path("-odd")], "as_json": True, "target": "codex", "fix": False, "fix_ids": ["dashes"]}
    assert _fast_validate(["a", "--fix"])["fix"] is True  # type: ignore[index]
    for typer_s in ([], ["--json"], ["a", "--help"], ["a", "--target", "gemini"], ["a", "--target"], ["a", "-x"]):
        assert _fast_validate(typer_s) is None, typer_s


def test_test_takes_only_the_plain_forms() -> None:
    from skillstudio.openai_defaults import DEFAULT_MODEL

    opts = _fast_test(["ws", "--offline", "--json", "r.json", "--runs=5", "-m", "m1", "--threshold", ".7",
                       "--no-save", "-v", "--compare", "previous", "--max-turns", "6"])
    assert opts is not None
    assert (opts["path"], opts["offline"], opts["json_out"], opts["runs"], opts["model"], opts["threshold"],
            opts["save"], opts["verbose"], opts["compare"], opts["max_turns"]) == (
        Path("ws"), True, Path("r.json"), 5, "m1", 0.7, False, True, "previous", 6)
    plain = _fast_test(["ws"])
    assert plain is not None and (plain["model"], plain["runs"], plain["save"], plain["offline"]) == (
        DEFAULT_MODEL, 3, True, False)
    for typer_s in ([], ["--offline"], ["ws", "--help"], ["ws", "--provider", "offline"], ["ws", "--batch"],
                    ["ws", "--runs", "x"], ["ws", "--runs", "-1"], ["ws", "--runs"], ["ws", "--threshold", "1e0"],
                    ["a", "b"], ["ws", "--offline=1"], ["ws", "-m=x"], ["ws", "--", "x"], ["ws", "--base-url", "u"]):
        assert _fast_test(typer_s) is None, typer_s


def test_the_fast_test_gives_what_typer_gives(tmp_path: Path) -> None:
    """The same workspace tested through the fast path and through typer: same exit, output and report."""
    import json
    import shutil
    import subprocess
    import sys

    ws = tmp_path / "ws"
    shutil.copytree(Path(__file__).resolve().parents[2] / "skills", ws,
                    ignore=shutil.ignore_patterns(".skillstudio"))
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    results = []
    for extra in ([], ["--provider", "offline"]):  # --provider sends the second one through typer
        report = tmp_path / f"r{len(results)}.json"
        proc = subprocess.run([sys.executable, "-m", "skillstudio", "test", str(ws), "--offline", "--no-save",
                               "--json", str(report), *extra], capture_output=True, text=True, env=env)
        data = json.loads(report.read_text())
        data.pop("started_at", None)
        data["summary"].pop("wall_s", None)
        results.append((proc.returncode, re.sub(r"[0-9.]+ s\b", "", proc.stdout + proc.stderr), data))
    assert results[0] == results[1]
    assert results[0][0] in (0, 1)
    bad = subprocess.run([sys.executable, "-m", "skillstudio", "test", str(ws), "--runs", "0", "--offline"],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "Runs must be at least 1" in bad.stderr and "Traceback" not in bad.stderr
