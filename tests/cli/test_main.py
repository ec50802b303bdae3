"""The lazy command registry: complete, true to each command's docstring, and cheap to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from skillstudio.cli.main import COMMANDS, load_module_commands
from support.cli_runner import run_cli

HEAVY = ("pydantic", "keyring", "openai", "rich.table", "rich.progress", "tiktoken", "skillstudio.services")


def test_every_registered_command_is_listed_with_its_own_first_line() -> None:
    modules = {module for module, _ in COMMANDS.values()}
    for module in modules:
        group = load_module_commands(module)
        real = set(group.commands)
        listed = {name for name, (m, _) in COMMANDS.items() if m == module}
        assert real == listed, f"{module}: registers {sorted(real)}, COMMANDS lists {sorted(listed)}"
        for name in real:
            cmd = group.commands[name]
            first = " ".join((cmd.help or "").strip().split("\n\n")[0].split())
            assert COMMANDS[name][1] == first, f"{name}: COMMANDS says {COMMANDS[name][1]!r}, the command {first!r}"


def _modules_after(*argv: str) -> set[str]:
    code = ("import sys\nfrom skillstudio.cli.main import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit:\n    pass\nprint('@@modules@@', *sorted(sys.modules))")
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2] / "desktop"))
    p = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    return set(p.stdout.split("@@modules@@")[-1].split())


def test_version_and_help_import_no_heavy_module() -> None:
    for argv in (["--version"], ["--help"]):
        loaded = _modules_after(*argv)
        heavy = sorted(m for m in loaded if m.startswith(HEAVY))
        assert not heavy, f"skillstudio {' '.join(argv)} imported {heavy[:8]}"
        assert not any(m.startswith("skillstudio.cli.") and m.endswith("_cmd") for m in loaded)


def test_offline_test_never_imports_the_openai_sdk(example_workspace: Path) -> None:
    loaded = _modules_after("test", str(example_workspace), "--offline", "--runs", "1", "--no-save")
    assert "skillstudio.services.trigger_runs" in loaded  # it did run
    assert not any(m == "openai" or m.startswith("openai.") for m in loaded)


def test_help_lists_every_command_and_a_command_runs_after_lazy_lookup() -> None:
    p = run_cli("--help")
    assert p.returncode == 0
    for name in COMMANDS:
        assert f"  {name} " in p.stdout
    bad = run_cli("no-such-command")
    assert bad.returncode == 2 and "No such command" in bad.stderr
    assert isinstance(load_module_commands("skillstudio.cli.gui_cmd"), typer.core.TyperGroup)
