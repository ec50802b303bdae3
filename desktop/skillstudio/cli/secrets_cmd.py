"""CLI commands: secrets set / list / bind / delete.

The value is read from stdin (or a hidden prompt on a terminal), never from argv, where it would
land in shell history and `ps`. Nothing here ever prints a value.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import typer

from skillstudio.errors import SkillStudioError
from skillstudio.secrets.model import validate_name
from skillstudio.secrets.vault import Vault

secrets_app = typer.Typer(name="secrets", help="Secrets for sandboxed tools: values in the OS keyring, "
                          "tools see placeholders that the sidecar swaps on bound domains only.",
                          no_args_is_help=True)

_WS = typer.Option(None, "--workspace", "-w", help="Keep the binding in WORKSPACE/.skillstudio/secrets.yaml "
                   "(default: your user settings).", file_okay=False)
_DOMAINS = typer.Option(None, "--domain", "-d", help="Host the secret may be sent to (repeatable; *.example.com "
                        "for sub-domains).")
_APPLY = typer.Option(None, "--apply", help="Where the placeholder is replaced: bearer (the Authorization header; "
                      "the default), header:NAME, query:NAME, or anywhere (headers, query and body: widest).")


def _read_value(name: str) -> str:
    if sys.stdin is None:
        raise SkillStudioError("no stdin to read the secret value from",
                               f"pipe it in: `... | skillstudio secrets set {name}`")
    if sys.stdin.isatty():
        value = getpass.getpass(f"Value for {name} (input hidden): ")
        if value != getpass.getpass("Repeat the value: "):
            raise SkillStudioError("the two values differ", "run the command again")
        return value
    raw = sys.stdin.buffer.read()
    if raw.endswith(b"\r\n"):
        raw = raw[:-2]
    elif raw.endswith(b"\n"):
        raw = raw[:-1]
    try:
        value = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SkillStudioError("the secret value on stdin is not UTF-8 text", "base64 binary values first") from exc
    if not value:
        raise SkillStudioError("no secret value on stdin",
                               f"pipe it in: `printf %s \"$TOKEN\" | skillstudio secrets set {name}`")
    return value


@secrets_app.command("set")
def set_cmd(
    name: str = typer.Argument(..., help="Secret name, environment-variable style (e.g. GITHUB_TOKEN)."),
    domain: list[str] | None = _DOMAINS,
    apply: str | None = _APPLY,
    description: str | None = typer.Option(None, "--description", help="What the secret is for."),
    workspace: Path | None = _WS,
) -> None:
    """Create or rotate a secret; the value is read from stdin (never from the command line)."""
    validate_name(name)
    vault = Vault(workspace)
    existed = vault.has(name)
    value = _read_value(name)
    meta = vault.set(name, value, domains=domain or None, apply=apply, description=description)
    del value
    domains = ", ".join(meta.domains) or "no domain (bind one with --domain, or it is never sent)"
    typer.echo(f"{'rotated' if existed else 'stored'} {meta.name} in the OS keyring; bound to {domains}; "
               f"applied as {meta.apply.describe()}")


@secrets_app.command("bind")
def bind_cmd(
    name: str = typer.Argument(...),
    domain: list[str] | None = _DOMAINS,
    apply: str | None = _APPLY,
    description: str | None = typer.Option(None, "--description"),
    plain_http: list[str] | None = typer.Option(None, "--plain-http", help="Bound host that may get the value "
                                                "over cleartext HTTP (repeatable; default: HTTPS only)."),
    https_only: bool = typer.Option(False, "--https-only", help="Allow cleartext HTTP to no host again."),
    workspace: Path | None = _WS,
) -> None:
    """Change the domains / how a secret is applied, without touching its value."""
    plain = [] if https_only else (plain_http or None)
    meta = Vault(workspace).bind(name, domains=domain or None, apply=apply, description=description, plain_http=plain)
    cleartext = f"; plain HTTP allowed to {', '.join(meta.plain_http)}" if meta.plain_http else ""
    typer.echo(f"{meta.name}: bound to {', '.join(meta.domains) or 'no domain'}; applied as {meta.apply.describe()}"
               f"{cleartext}")


@secrets_app.command("list")
def list_cmd(
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    workspace: Path | None = _WS,
) -> None:
    """List secrets (names, domains, how applied, whether the keyring holds a value); never values."""
    vault = Vault(workspace)
    rows = [(m, vault.stored(m.name)) for m in vault.list()]
    if as_json:
        typer.echo(json.dumps({"secrets": [
            {"name": m.name, "domains": m.domains, "apply": str(m.apply), "description": m.description,
             "stored": stored} for m, stored in rows]}, indent=2))
        return
    if not rows:
        typer.echo(f"no secrets in {vault.path}")
        return
    width = max(len(m.name) for m, _ in rows)
    for m, stored in rows:
        state = "" if stored else "  [no value in keyring]"
        typer.echo(f"{m.name:<{width}}  {', '.join(m.domains) or '-'}  ({m.apply.describe()}){state}")


@secrets_app.command("delete")
def delete_cmd(name: str = typer.Argument(...), workspace: Path | None = _WS) -> None:
    """Delete a secret's value from the keyring and its binding."""
    Vault(workspace).delete(name)
    typer.echo(f"deleted {name}")


def register(app: typer.Typer) -> None:
    """Adds the commands of this module to the main app."""
    app.add_typer(secrets_app, name="secrets")
