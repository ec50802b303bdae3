"""The shipped user guide documents every CLI command (so it cannot silently fall behind the CLI)."""

from __future__ import annotations

import re

from skillstudio import resources
from skillstudio.cli.main import COMMANDS


def test_every_cli_command_is_in_the_guide() -> None:
    guide = resources.read_text("docs", "user-guide.md")
    documented = set(re.findall(r"`([a-z][a-z-]*)(?=[ `])", guide))
    names = set(COMMANDS)  # every command, as `skillstudio --help` lists them
    missing = sorted(n for n in names if n and n not in documented)
    assert not missing, f"add these commands to resources/docs/user-guide.md: {missing}"
    assert "diagnostics" in documented and "doctor" in documented
