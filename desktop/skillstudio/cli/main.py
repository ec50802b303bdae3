"""The `skillstudio` console command: a thin typer shell over the core packages.

Each command group lives in its own module with a `register(app)` function, so features stay apart.
Errors the user can fix become one line on stderr and exit code 2 (1 when a check failed); no
traceback ever reaches a user (set SKILLSTUDIO_DEBUG=1 to see one).
"""

from __future__ import annotations

import importlib
import os
import sys

import typer

from skillstudio import __version__
from skillstudio.errors import SkillStudioError

COMMAND_MODULES = [
    "skillstudio.cli.gui_cmd",
    "skillstudio.cli.validate_cmd",
    "skillstudio.cli.test_cmd",
    "skillstudio.cli.secrets_cmd",
    "skillstudio.cli.exec_cmd",
    "skillstudio.cli.run_cmd",
    "skillstudio.cli.release_cmd",
    "skillstudio.cli.trust_cmd",
    "skillstudio.cli.history_cmd",
    "skillstudio.cli.doctor_cmd",
    "skillstudio.cli.diagnostics_cmd",
]

app = typer.Typer(
    name="skillstudio",
    help="Skill Studio: author, trigger-test, sandbox, sign and ship agent skills.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"skillstudio {__version__}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """With no command, opens the desktop app."""
    from pathlib import Path

    from skillstudio.secrets.log_redaction import install_log_redaction

    install_log_redaction(Path.cwd())  # no log line may carry a secret (reads the keyring only if one is set)
    if ctx.invoked_subcommand is None:
        from skillstudio.cli.gui_cmd import launch

        raise typer.Exit(launch(None))


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line to stderr and return the Exit to raise."""
    typer.echo(f"skillstudio: {message}", err=True)
    return typer.Exit(code)


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="skillstudio", standalone_mode=True)
    except SkillStudioError as exc:
        if os.environ.get("SKILLSTUDIO_DEBUG"):
            raise
        typer.echo(f"skillstudio: {exc}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:  # unreadable/unwritable paths, full disks: the user's to fix, not a crash
        if os.environ.get("SKILLSTUDIO_DEBUG"):
            raise
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        typer.echo(f"skillstudio: {exc.strerror or exc}{where}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("skillstudio: interrupted", err=True)
        sys.exit(130)


def gui_main() -> None:
    from skillstudio.cli.gui_cmd import launch

    sys.exit(launch(None))
