"""CLI commands: workspace trust — review and approve a workspace's secret bindings and sandbox policies.

`skillstudio trust show WORKSPACE` lists what changed since the last approval (with a diff);
`skillstudio trust approve WORKSPACE` approves the current content. The approval lives in the user's
config folder, never in the workspace. `trust host HOST` marks a hosted provider as trusted with
secret values. These commands join the `trust` group that also holds the signing-key trust store
(release_cmd: add / policy / list), since both answer "what does this workspace get to decide".
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from skillstudio.cli.release_cmd import trust_app
from skillstudio.errors import SkillStudioError
from skillstudio.secrets import trust

trust_app.info.help = ("Workspace trust: approve a workspace's secret bindings and sandbox policies (show, approve), "
                       "hosts trusted with secret values (host, hosts), signing keys it accepts (add, policy, list).")


def _workspace(path: Path) -> Path:
    if not path.is_dir():
        raise SkillStudioError(f"workspace {path} is not a folder",
                               "give the workspace folder (the one holding .skillstudio/)")
    return path


@trust_app.command("show")
def show_cmd(
    workspace: Path = typer.Argument(..., help="The workspace folder."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Show what changed in the workspace's secret bindings and sandbox policies since you approved them."""
    st = trust.state(_workspace(workspace))
    if as_json:
        typer.echo(json.dumps({"workspace": str(workspace), "trusted": st.trusted, "approved_at": st.approved_at,
                               "changes": [{"path": c.path, "kind": c.kind, "diff": c.diff} for c in st.changes]},
                              indent=2))
        return
    typer.echo(st.summary())
    for c in st.changes:
        typer.echo("")
        typer.echo(c.diff.rstrip("\n") or f"{c.kind}: {c.path}")
    if not st.trusted:
        typer.echo("")
        typer.echo(f"approve with: skillstudio trust approve {workspace}")


@trust_app.command("approve")
def approve_cmd(workspace: Path = typer.Argument(..., help="The workspace folder.")) -> None:
    """Approve the workspace's current secret bindings and sandbox policies (stored in your user settings)."""
    before = trust.approve(_workspace(workspace))
    if before.trusted:
        typer.echo(f"{workspace}: nothing new to approve")
        return
    changed = ", ".join(c.line() for c in before.changes)
    typer.echo(f"approved {len(before.changes)} file(s) for {workspace}: {changed}")


@trust_app.command("host")
def host_cmd(
    host: str = typer.Argument(..., help="Host of an OpenAI-compatible provider, e.g. llm.example.com."),
    remove: bool = typer.Option(False, "--remove", help="No longer trust it."),
) -> None:
    """Trust (or stop trusting) a hosted provider with secret values for hosted runs."""
    hosts = trust.trust_secret_host(host, trusted=not remove)
    typer.echo(f"{'removed' if remove else 'trusted'} {host}; hosts trusted with secrets: "
               f"{', '.join(hosts) or 'none'} (OpenAI's API always)")


@trust_app.command("hosts")
def hosts_cmd() -> None:
    """List the hosts trusted with secret values for hosted runs (besides OpenAI's API)."""
    hosts = trust.secret_hosts()
    typer.echo("\n".join(hosts) if hosts else "none (OpenAI's API only)")


def register(app: typer.Typer) -> None:
    """The `trust` group: release_cmd's signing-key commands plus the workspace-trust ones above."""
    app.add_typer(trust_app, name="trust")
