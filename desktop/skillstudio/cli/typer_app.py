"""The typer app behind `skillstudio`: the lazy command group, --version, and the root callback.

Kept apart from cli/main.py so that a command parsed without typer (see main._fast_validate) never
imports it; everything here is as cli/main.py describes (COMMANDS, lazy modules, plain help).
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperGroup

from skillstudio import __version__
from skillstudio.cli.main import COMMANDS, _root_setup


def load_module_commands(module: str) -> typer.core.TyperGroup:
    """The click group of everything `module.register(app)` defines (imports the module)."""
    holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @holder.callback()
    def _holder() -> None:  # a callback keeps a one-command module a group, so lookups work alike
        """Holds one module's commands."""

    importlib.import_module(module).register(holder)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    return group


class LazyGroup(TyperGroup):
    """A typer group that imports a command's module only when that command is looked up to run.

    `--help` lists the names and lines of COMMANDS without importing anything; a name missing from
    COMMANDS is simply not a command.
    """

    _listing = False
    _loaded: dict[str, TyperGroup] = {}

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module, line = entry
        if self._listing:
            return typer.core.TyperCommand(cmd_name, help=line, short_help=line)
        if module not in self._loaded:
            self._loaded[module] = load_module_commands(module)
        return self._loaded[module].get_command(ctx, cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="skillstudio",
    cls=LazyGroup,
    help="Skill Studio: author, trigger-test, sandbox, sign and ship agent skills.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: `--help` must not import rich
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"skillstudio {__version__}")
        raise typer.Exit(0)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    """With no command, opens the desktop app."""
    _root_setup()
    if ctx.invoked_subcommand is None:
        from skillstudio.cli.gui_cmd import launch

        raise typer.Exit(launch(None))
