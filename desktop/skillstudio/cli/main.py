"""The `skillstudio` console command: a thin typer shell over the services.

Commands are registered lazily: `COMMANDS` names each command, the module that defines it (with a
`register(app)` function) and the one line `--help` lists. A module is imported only when its command
runs, so `skillstudio --version` and `--help` pay for typer alone — no pydantic, keyring, rich tables
or OpenAI SDK. To add a command: define it in a module's `register(app)`, then add one line here
(tests/cli/test_main.py checks that every line matches a real command and its docstring).

Errors the user can fix become one line on stderr and exit code 2 (1 when a check failed); no
traceback ever reaches a user (set SKILLSTUDIO_DEBUG=1 to see one).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from skillstudio import __version__
from skillstudio.errors import SkillStudioError

# name: (module whose register(app) defines it, the line `skillstudio --help` shows)
COMMANDS: dict[str, tuple[str, str]] = {
    "gui": ("skillstudio.cli.gui_cmd", "Open the desktop app."),
    "validate": (
        "skillstudio.cli.validate_cmd",
        "Validate skills: spec errors (as skills-ref), platform warnings, lint. Exit 1 on any error.",
    ),
    "tokens": (
        "skillstudio.cli.validate_cmd",
        "Token counts (o200k_base): always-loaded part, body, every file; the catalog vs Codex's budget.",
    ),
    "cases": (
        "skillstudio.cli.cases_cmd",
        "Trigger cases in other formats: import skill-creator eval sets, export them back.",
    ),
    "test": (
        "skillstudio.cli.test_cmd",
        "Run trigger cases against the whole catalog; exit 1 if any case fails.",
    ),
    "optimize": (
        "skillstudio.cli.test_cmd",
        "Propose a better description from the training failures only; keep the best by validation score.",
    ),
    "try": (
        "skillstudio.cli.test_cmd",
        "Which skill does the model pick for one prompt, and what did its first shell call say?",
    ),
    "runs": ("skillstudio.cli.test_cmd", "Saved trigger-test runs: list, export again, compare."),
    "exec": ("skillstudio.cli.exec_cmd", "Run CMD in the sandbox, exactly as an agent's shell call is run."),
    "run": (
        "skillstudio.cli.run_cmd",
        "One agent run: the model's shell calls execute in the sandbox until its final answer.",
    ),
    "transcripts": (
        "skillstudio.cli.run_cmd",
        "List the saved agent runs of a workspace, or export one (JSON, Markdown, trigger case, fixture).",
    ),
    "replay": (
        "skillstudio.cli.run_cmd",
        "Run a saved run's shell calls again (no model); exit 1 if an exit code or stdout changed.",
    ),
    "secrets": (
        "skillstudio.cli.secrets_cmd",
        "Secrets for sandboxed tools: values in the OS keyring, tools see "
        "placeholders that the sidecar swaps on bound domains only.",
    ),
    "pack": (
        "skillstudio.cli.release_cmd",
        "Deterministic zip: the same content always gives the same bytes.",
    ),
    "sign": ("skillstudio.cli.release_cmd", "Sign a bundle: a DSSE envelope around an in-toto statement."),
    "verify": (
        "skillstudio.cli.release_cmd",
        "Exit 0 when the bundle is signed by the key (and policy holds), 1 otherwise.",
    ),
    "push": (
        "skillstudio.cli.release_cmd",
        "Pack, sign and publish a skill (OCI registry with a signature referrer, or the OpenAI Skills API).",
    ),
    "pull": ("skillstudio.cli.release_cmd", "Download, verify the signature, and only then write the skill."),
    "copy": (
        "skillstudio.cli.release_cmd",
        "Copy a signed bundle with its signatures (e.g. from a local layout folder to a registry).",
    ),
    "approve": (
        "skillstudio.cli.release_cmd",
        "Add your signature to a published bundle (e.g. the security team approving a version).",
    ),
    "lock": (
        "skillstudio.cli.release_cmd",
        "Record an approved skill version in skills.lock, or check a workspace against it.",
    ),
    "snippet": (
        "skillstudio.cli.release_cmd",
        "Print ready-to-run Python for a route, pinned to the version approved in skills.lock.",
    ),
    "keys": ("skillstudio.cli.release_cmd", "Signing keys in the OS keyring."),
    "registry": ("skillstudio.cli.release_cmd", "Registry credentials (kept in the OS keyring)."),
    "trust": (
        "skillstudio.cli.trust_cmd",
        "Workspace trust: approve a workspace's secret bindings and sandbox policies (show, approve), "
        "hosts trusted with secret values (host, hosts), signing keys it accepts (add, policy, list).",
    ),
    "release": (
        "skillstudio.cli.history_cmd",
        "Validate, bump metadata.version, add a CHANGELOG entry, commit "
        "the skill folder and tag <skill>/v<version>.",
    ),
    "history": (
        "skillstudio.cli.history_cmd",
        "The skill's commits, newest first, with versions and release tags.",
    ),
    "diff": (
        "skillstudio.cli.history_cmd",
        "Unified diff of the skill folder between two versions (or a version and the working tree).",
    ),
    "doctor": (
        "skillstudio.cli.doctor_cmd",
        "Report what this machine has for sandboxing (bubblewrap, Docker, the image) and how to fix gaps.",
    ),
    "sandbox": ("skillstudio.cli.doctor_cmd", "The sandbox: check the machine, build the Docker image."),
    "diagnostics": (
        "skillstudio.cli.diagnostics_cmd",
        "Write a redacted diagnostic bundle (versions, platform, "
        "doctor, logs, settings) to attach to a bug report.",
    ),
}


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
    from pathlib import Path

    from skillstudio.secrets.log_redaction import install_log_redaction

    install_log_redaction(Path.cwd())  # no log line may carry a secret (reads the keyring only if one is set)
    if ctx.invoked_subcommand is None:
        from skillstudio.cli.gui_cmd import launch

        raise typer.Exit(launch(None))


def error_line(exc: SkillStudioError) -> str:
    """The one line the CLI prints for an error: the core's neutral words plus our flag for its setting."""
    flag = f" (--{exc.setting})" if exc.setting else ""
    return f"{exc.message}{flag} — {exc.hint}" if exc.hint else f"{exc.message}{flag}"


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="skillstudio", standalone_mode=True)
    except SkillStudioError as exc:
        if os.environ.get("SKILLSTUDIO_DEBUG"):
            raise
        typer.echo(f"skillstudio: {error_line(exc)}", err=True)
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
