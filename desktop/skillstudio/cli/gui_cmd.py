"""`skillstudio gui [WORKSPACE]`: open the desktop app (Qt is imported only when it is asked for)."""

from __future__ import annotations

from pathlib import Path

import typer


def launch(workspace: Path | None) -> int:
    from skillstudio.ui.app import run_app  # lazy: the CLI never pays for Qt

    return run_app(workspace)


def register(app: typer.Typer) -> None:
    @app.command("gui")
    def gui(workspace: Path = typer.Argument(None, help="Workspace folder (default: skills/ here, else the last one).")) -> None:
        """Open the desktop app."""
        raise typer.Exit(launch(workspace))
