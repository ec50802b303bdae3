"""The `skillstudio` console command: a thin typer shell over the services.

Commands are registered lazily: `COMMANDS` names each command, the module that defines it (with a
`register(app)` function) and the one line `--help` lists. A module is imported only when its command
runs, so `skillstudio --version` and `--help` pay for typer alone — no pydantic, keyring, rich tables
or OpenAI SDK. The typer app itself lives in cli/typer_app.py, imported on first use: the plain forms of
`validate` and `test` are parsed here without it (see `_fast_validate`, `_fast_test`). To add a command:
define it in a module's `register(app)`, then add one line here (tests/cli/test_main.py checks that
every line matches a real command and its docstring).

Errors the user can fix become one line on stderr and exit code 2 (1 when a check failed); no
traceback ever reaches a user (set SKILLSTUDIO_DEBUG=1 to see one).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

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


def _root_setup() -> None:
    """What every command gets before it runs (the typer callback and the fast validate path alike)."""
    from skillstudio.secrets.log_redaction import install_log_redaction

    install_log_redaction(Path.cwd())  # no log line may carry a secret (reads the keyring only if one is set)


def _fast_validate(argv: list[str]) -> dict[str, Any] | None:
    """`validate`'s arguments parsed without typer, or None to let typer parse them.

    Why: typer coerces every parameter through pydantic (~50 ms of imports), a quarter of a one-skill
    `validate`, the command editors and hooks run most. Only the plain forms are taken here; help,
    a bad --target, an unknown option or a missing PATH go to typer, which words the error.
    """
    from skillstudio.bundle.problems import TARGETS

    opts: dict[str, Any] = {"paths": [], "as_json": False, "target": None, "fix": False, "fix_ids": []}
    args = iter(argv)
    for arg in args:
        if arg == "--":
            opts["paths"] += [Path(a) for a in args]
            break
        if not arg.startswith("-") or arg == "-":
            opts["paths"].append(Path(arg))
            continue
        name, eq, value = arg.partition("=")
        if name in ("--json", "--fix") and not eq:
            opts["as_json" if name == "--json" else "fix"] = True
            continue
        if name not in ("--target", "--fix-id"):
            return None
        if not eq:
            value = next(args, "")
            if not value or value.startswith("-"):
                return None
        if name == "--fix-id":
            opts["fix_ids"].append(value)
        elif value.lower() in TARGETS:
            opts["target"] = value.lower()
        else:
            return None
    return opts if opts["paths"] else None


# `test` options the fast path takes: name -> (parameter, kind); kind "flag" sets True, "no" sets False
_TEST_FLAGS: dict[str, tuple[str, str]] = {
    "--offline": ("offline", "flag"), "--no-cache": ("no_cache", "flag"), "--verbose": ("verbose", "flag"),
    "-v": ("verbose", "flag"), "--save": ("save", "flag"), "--no-save": ("save", "no"),
}
_TEST_VALUES: dict[str, tuple[str, str]] = {
    "--json": ("json_out", "path"), "--junit": ("junit_out", "path"), "--html": ("html_out", "path"),
    "--csv": ("csv_out", "path"), "--model": ("model", "str"), "-m": ("model", "str"),
    "--compare": ("compare", "str"), "--runs": ("runs", "int"), "--concurrency": ("concurrency", "int"),
    "--max-turns": ("max_turns", "int"), "--threshold": ("threshold", "float"),
}


def _fast_test(argv: list[str]) -> dict[str, Any] | None:
    """`test`'s arguments parsed without typer (all of `run_test`'s parameters), or None for typer.

    Why: typer's parameter coercion imports pydantic and typer itself, about a third of a
    `test --offline` of a small workspace. Only one PATH with the options in `_TEST_FLAGS` and
    `_TEST_VALUES` is taken, and a number only in plain digits; anything else (help, --provider, --batch,
    --base-url, a bad number, a missing value, a second PATH) goes to typer, which words the error.
    """
    import re

    from skillstudio.openai_defaults import DEFAULT_MODEL

    opts: dict[str, Any] = {
        "path": None, "base_url": os.environ.get("OPENAI_BASE_URL") or None, "model": DEFAULT_MODEL, "runs": 3,
        "concurrency": 8, "threshold": 0.5, "json_out": None, "junit_out": None, "html_out": None,
        "csv_out": None, "no_cache": False, "offline": False, "provider": None, "timeout": 60.0, "retries": 4,
        "no_stream": False, "save": True, "verbose": False, "compare": None, "batch": False, "poll": 10.0,
        "max_turns": 4}
    args = iter(argv)
    for arg in args:
        if not arg.startswith("-") or arg == "-":
            if opts["path"] is not None:
                return None
            opts["path"] = Path(arg)
            continue
        name, eq, value = arg.partition("=")
        if name in _TEST_FLAGS and not eq:
            param, kind = _TEST_FLAGS[name]
            opts[param] = kind == "flag"
            continue
        if name not in _TEST_VALUES or (eq and not name.startswith("--")):
            return None
        param, kind = _TEST_VALUES[name]
        if not eq:
            value = next(args, "")
        if not value or value.startswith("-"):
            return None
        if kind == "int" and not (value.isascii() and value.isdigit()):
            return None
        if kind == "float" and not re.fullmatch(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", value):
            return None
        opts[param] = {"path": Path, "str": str, "int": int, "float": float}[kind](value)
    return opts if opts["path"] is not None else None


def _fast_gui(argv: list[str]) -> list[Path] | None:
    """`skillstudio` or `skillstudio gui [WORKSPACE]` with nothing else: the folder to open (an empty list
    for none), else None for typer. typer's parameter coercion imports pydantic, ~15% of the first paint."""
    if not argv:
        return []
    if argv[0] != "gui" or len(argv) > 2 or any(a.startswith("-") for a in argv[1:]):
        return None
    return [Path(a) for a in argv[1:]]


def error_line(exc: SkillStudioError) -> str:
    """The one line the CLI prints for an error: the core's neutral words plus our flag for its setting."""
    flag = f" (--{exc.setting})" if exc.setting else ""
    return f"{exc.message}{flag} — {exc.hint}" if exc.hint else f"{exc.message}{flag}"


def main(argv: list[str] | None = None) -> None:
    try:
        args = sys.argv[1:] if argv is None else argv
        fast = _fast_validate(args[1:]) if args[:1] == ["validate"] else None
        if fast is not None:
            _root_setup()
            from skillstudio.cli.validate_cmd import validate_command

            sys.exit(validate_command(**fast))
        fast = _fast_test(args[1:]) if args[:1] == ["test"] else None
        if fast is not None:
            _root_setup()
            from skillstudio.cli.trigger_test import run_test

            sys.exit(run_test(**fast))
        folder = _fast_gui(args)
        if folder is not None:
            _root_setup()
            from skillstudio.cli.gui_cmd import launch

            sys.exit(launch(folder[0] if folder else None))
        from skillstudio.cli.typer_app import app

        app(args=argv, prog_name="skillstudio", standalone_mode=True)
    except SkillStudioError as exc:
        if os.environ.get("SKILLSTUDIO_DEBUG"):
            raise
        print(f"skillstudio: {error_line(exc)}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except OSError as exc:  # unreadable/unwritable paths, full disks: the user's to fix, not a crash
        if os.environ.get("SKILLSTUDIO_DEBUG"):
            raise
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"skillstudio: {exc.strerror or exc}{where}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("skillstudio: interrupted", file=sys.stderr)
        sys.exit(130)


def gui_main() -> None:
    from skillstudio.cli.gui_cmd import launch

    sys.exit(launch(None))


def __getattr__(name: str) -> Any:
    """`app`, `LazyGroup` and `load_module_commands` stay importable from here (typer loads on first use)."""
    if name in ("app", "LazyGroup", "load_module_commands"):
        from skillstudio.cli import typer_app

        return getattr(typer_app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
