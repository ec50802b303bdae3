"""CLI commands: validate, tokens."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Adds the commands of this module to the main app."""
