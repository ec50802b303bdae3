"""`skillstudio gui [WORKSPACE]`: open the desktop app (Qt is imported only when it is asked for)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer


def launch(workspace: Path | None) -> int:
    from skillstudio.diagnostics import install_app_log
    from skillstudio.secrets.log_redaction import install_log_redaction
    from skillstudio.ui.app import run_app  # lazy: the CLI never pays for Qt

    install_log_redaction(workspace or Path.cwd())  # the app's logs never carry a secret either
    install_app_log()  # warnings and errors kept for Help ▸ Report a Problem… (redacted as they are made)
    return run_app(workspace)


def register(app: typer.Typer) -> None:
    import typer  # here, not above: `skillstudio gui WS` launches without typer (cli.main._fast_gui)

    @app.command("gui")
    def gui(
        workspace: Path = typer.Argument(None, help="Workspace folder (default: skills/ here, else the last one)."),
        smoke_test: bool = typer.Option(False, "--smoke-test", help="Open the window on a copy of the workspace "
                                        "(default: the examples), wait for it to paint and load, exit 0."),
    ) -> None:
        """Open the desktop app."""
        if smoke_test:
            from skillstudio.ui.smoke import run_smoke_test  # lazy: Qt only when asked for

            raise typer.Exit(run_smoke_test(workspace))
        raise typer.Exit(launch(workspace))
