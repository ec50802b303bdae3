"""`skillstudio diagnostics -o FILE.zip`: the redacted diagnostic bundle for a bug report
(see skillstudio.diagnostics)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command("diagnostics")
    def diagnostics(
        output: Path = typer.Option(Path("."), "-o", "--output",
                                    help="The zip to write, or a folder for a dated name (default: here)."),
        workspace: Path = typer.Option(None, "--workspace", "-w",
                                       help="Also redact the secrets of this workspace's vault."),
    ) -> None:
        """Write a redacted diagnostic bundle (versions, platform, doctor, logs, settings) to attach to a bug report."""
        from skillstudio.diagnostics import write_bundle

        path = write_bundle(output, workspace=workspace)
        typer.echo(f"wrote {path} — secrets were redacted; look inside before you share it")
