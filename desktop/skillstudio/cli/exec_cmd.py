"""CLI commands: exec — run one command exactly as an agent's shell call is run.

`skillstudio exec [--sandbox subprocess|docker] --data DIR [--allow-domain D]... [--secret NAME]...
[--timeout S] -- CMD [ARG...]`: the command's stdout/stderr are ours, the exit code is the
command's (124 on timeout, 130 on Ctrl-C); usage and environment errors exit 2. With secrets the
tool sees placeholders (`--secret-env NAME`: the raw value, and the run is marked "secret exposed")
and everything printed back is redacted to `[secret:NAME]`.
"""

from __future__ import annotations

import json
import signal
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

_DEFAULT_SANDBOX = "subprocess" if sys.platform.startswith("linux") else "docker"


def register(app: typer.Typer) -> None:
    """Adds the commands of this module to the main app."""

    @app.command("exec", context_settings={"allow_interspersed_args": False})
    def exec_(
        cmd: list[str] = typer.Argument(..., metavar="-- CMD [ARG...]", help="The command and its arguments."),
        sandbox: str = typer.Option(_DEFAULT_SANDBOX, "--sandbox", help="subprocess (bubblewrap), docker, or none."),
        data: Path = typer.Option(..., "--data", help="The data folder: the only writable place, the working dir."),
        allow_domain: list[str] = typer.Option([], "--allow-domain",
                                               help="Allow this host (name, *.suffix, NAME:PORT)."),
        secret: list[str] = typer.Option([], "--secret", help="Make this keyring secret usable (as a placeholder)."),
        secret_env: list[str] = typer.Option([], "--secret-env",
                                             help="EXPOSED mode for non-HTTP tools: put this secret's raw value in "
                                                  "the environment (the run is marked 'secret exposed')."),
        timeout: float | None = typer.Option(None, "--timeout",
                                             help="Wall time in seconds (exit 124 when it runs out)."),
        skill: list[Path] = typer.Option([], "--skill", help="Mount this skill folder read-only at /skills/<name>."),
        env: list[str] = typer.Option([], "--env", help="Pass NAME=VALUE into the sandbox."),
        memory_mb: int | None = typer.Option(None, "--memory-mb", help="Memory limit in MB."),
        pids: int | None = typer.Option(None, "--pids", help="Process limit."),
        cpu_s: int | None = typer.Option(None, "--cpu-s", help="CPU-time limit in seconds."),
        max_output: int | None = typer.Option(None, "--max-output", help="Bytes kept per stream (rest truncated)."),
        disk_mb: int | None = typer.Option(None, "--disk-mb", help="How much the command may fill the data folder's "
                                                                   "disk, in MB (killed beyond)."),
        unsandboxed_i_know: bool = typer.Option(False, "--unsandboxed-i-know",
                                                help="Allow --sandbox none (runs with all your rights)."),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="Show the policy and the proxy log on stderr."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON instead of the raw streams."),
    ) -> None:
        """Run CMD in the sandbox, exactly as an agent's shell call is run."""
        from skillstudio.cancel import CancelToken
        from skillstudio.errors import SkillStudioError
        from skillstudio.sandbox.backends import BACKENDS, KEEP_WARM_S, open_executor
        from skillstudio.sandbox.policy import Limits, Policy, PolicySettings, SkillMount, load_settings

        if sandbox not in BACKENDS:
            raise SkillStudioError(f"unknown sandbox {sandbox!r}", "use --sandbox subprocess, docker or none")
        if not cmd:
            raise SkillStudioError("no command given", "put the command after --, e.g. skillstudio exec --data d -- ls")
        mounts = []
        settings = PolicySettings()
        for s in skill:
            if not s.is_dir():
                raise SkillStudioError(f"skill folder {s} does not exist", "pass an existing skill folder to --skill")
            mounts.append(SkillMount(source=s.resolve(), name=s.resolve().name.lower()))
        if len(skill) == 1:  # a saved policy of that skill (or its workspace) is the starting point
            ws = skill[0].resolve().parent
            settings = load_settings(ws, mounts[0].name) or load_settings(ws) or settings
        extra_env: dict[str, str] = {}
        for item in env:
            name, sep, value = item.partition("=")
            if not sep:
                raise SkillStudioError(f"bad --env {item!r}", "use --env NAME=VALUE")
            extra_env[name] = value
        interceptor: Any = None
        attached: Any = None
        ro_files: dict[str, Path] = {}
        allow = [*settings.network.allow, *allow_domain]
        if secret or secret_env:
            from skillstudio.secrets.attach import attach

            workspace = skill[0].resolve().parent if len(skill) == 1 else None
            attached = attach(secret, exposed=secret_env, workspace=workspace)
            interceptor = attached.interceptor
            ro_files = dict(attached.ro_files)
            extra_env.update(attached.env)
            allow += [d for d in attached.domains if d not in allow]
        overrides = {k: v for k, v in (("wall_s", timeout), ("memory_mb", memory_mb), ("pids", pids),
                                       ("cpu_s", cpu_s), ("output_bytes", max_output), ("disk_mb", disk_mb))
                     if v is not None}
        try:
            limits = Limits.model_validate({**settings.limits.model_dump(), **overrides})
            policy = Policy(data_dir=data, skills=mounts, ro_files=ro_files,
                            network={"allow": list(dict.fromkeys(allow))}, limits=limits,
                            env={**settings.env, **extra_env}, deny_write=settings.deny_write).checked()
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ())) or "option"
            raise SkillStudioError(f"bad {where}: {err.get('msg', exc)}", "see skillstudio exec --help") from exc
        if verbose:
            for line in [f"sandbox: {sandbox}", *policy.describe()]:
                typer.echo(f"[skillstudio] {line}", err=True)
        warning = attached.warning() if attached is not None else None
        if warning:
            typer.echo(f"[skillstudio] WARNING: {warning}", err=True)
        cancel = CancelToken()
        previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
        # Docker: the container stays warm for the next `exec` with the same policy (it reaps itself when idle)
        executor = open_executor(sandbox, unsandboxed_ok=unsandboxed_i_know, interceptor=interceptor,
                                 progress=lambda m: typer.echo(f"[skillstudio] {m}", err=True),
                                 keep_warm_s=KEEP_WARM_S if sandbox == "docker" else None)
        try:
            result = executor.run(cmd, policy, cancel)
        finally:
            executor.close()
            signal.signal(signal.SIGINT, previous)
        if attached is not None:
            result = attached.redact_result(result)
        if as_json:
            payload = asdict(result)
            if attached is not None:
                payload["secrets"] = [s.name for s in attached.session.secrets]
                payload["secret_exposed"] = attached.exposed
                payload["warnings"] = [warning] if warning else []
            typer.echo(json.dumps(payload, indent=2))
        else:
            sys.stdout.write(result.stdout)
            sys.stdout.flush()
            sys.stderr.write(result.stderr)
        if verbose or result.timed_out:
            for ev in result.network_log:
                typer.echo(f"[skillstudio proxy] {ev.line()}", err=True)
            if result.timed_out:
                typer.echo(f"[skillstudio] timed out after {policy.limits.wall_s:g}s; the process tree was killed",
                           err=True)
        code = 130 if result.cancelled else result.exit_code
        raise typer.Exit(code)
