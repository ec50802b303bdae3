"""CLI commands: doctor, sandbox doctor, sandbox build-image."""

from __future__ import annotations

import json

import typer


def _doctor(as_json: bool) -> None:
    from skillstudio.sandbox.doctor import checks

    found = checks()
    if as_json:
        typer.echo(json.dumps({"checks": [c.__dict__ for c in found]}, indent=2))
    else:
        for c in found:
            mark = "ok     " if c.ok else "MISSING"
            typer.echo(f"{mark} {c.name}: {c.detail}" + (f"\n        fix: {c.fix}" if c.fix and not c.ok else ""))
    if any(c.required and not c.ok for c in found):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Adds `doctor` and the `sandbox` group (doctor, build-image) to the main app."""

    @app.command("doctor")
    def doctor(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """Report what this machine has for sandboxing (bubblewrap, Docker, the image) and how to fix gaps."""
        _doctor(as_json)

    sandbox = typer.Typer(help="The sandbox: check the machine, build the Docker image.", no_args_is_help=True)

    @sandbox.command("doctor")
    def sandbox_doctor(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """Same as `skillstudio doctor`."""
        _doctor(as_json)

    @sandbox.command("build-image")
    def build_image(
        offline: bool = typer.Option(True, "--offline/--no-offline",
                                     help="Build from this machine's apt sources (mmdebstrap + docker import)."),
        force: bool = typer.Option(False, "--force", help="Rebuild even if the image exists."),
    ) -> None:
        """Build the Docker sandbox image (skipped when it already exists)."""
        from skillstudio.errors import SkillStudioError
        from skillstudio.resources import resource_path
        from skillstudio.sandbox.docker_backend import connect
        from skillstudio.sandbox.image import build_offline, image_exists, image_tag

        if not offline:
            raise SkillStudioError("only the offline build is built in",
                                   f"or run: docker build -t {image_tag()} {resource_path('sandbox')}")
        client = connect(timeout=600)
        if image_exists(client) and not force:
            typer.echo(f"sandbox image {image_tag()} already exists")
            return
        tag = build_offline(client, lambda m: typer.echo(m, err=True))
        typer.echo(tag)

    app.add_typer(sandbox, name="sandbox")
