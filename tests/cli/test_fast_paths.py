"""The forms `main` runs without typer (`validate` and opening the app), and the ones it leaves to typer."""

from __future__ import annotations

from pathlib import Path

from skillstudio.cli.main import _fast_gui, _fast_validate


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
