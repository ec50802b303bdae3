"""CLI commands for versions kept in git: release, history, diff."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import typer

from skillstudio.bundle import history, release
from skillstudio.bundle.workspace import is_skill_dir
from skillstudio.errors import SkillStudioError


def _skill_dir(path: Path) -> Path:
    if not is_skill_dir(path):
        raise SkillStudioError(f"{path} is not a skill folder (no SKILL.md)", "give the folder that holds SKILL.md")
    return path.resolve()


def register(app: typer.Typer) -> None:
    @app.command("release")
    def release_cmd(
        skill_dir: Path = typer.Argument(..., help="The skill folder to release."),
        bump: str = typer.Option("patch", "--bump", help="patch, minor, major, or none (release the current version)."),
        notes: str = typer.Option("", "--notes", help="Release notes for CHANGELOG.md (one bullet per line)."),
        as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    ) -> None:
        """Validate, bump metadata.version, add a CHANGELOG entry, commit the skill folder and tag
        <skill>/v<version>."""
        folder = _skill_dir(skill_dir)
        if bump not in (*release.BUMPS, "none"):
            raise SkillStudioError(f"unknown --bump {bump!r}", "use patch, minor, major or none")
        result = release.release_skill(folder, folder, None if bump == "none" else bump, notes)
        if as_json:
            typer.echo(json.dumps(asdict(result), indent=2))
        else:
            typer.echo(f"Released {result.skill} {result.version} "
                       f"(was {result.previous_version or 'unversioned'}): tag {result.tag}, "
                       f"commit {result.commit[:12]}")

    @app.command("history")
    def history_cmd(
        skill_dir: Path = typer.Argument(..., help="The skill folder."),
        as_json: bool = typer.Option(False, "--json", help="Print the commits as JSON."),
        limit: int = typer.Option(0, "--limit", min=0, help="Show at most N commits (0: all)."),
    ) -> None:
        """The skill's commits, newest first, with versions and release tags."""
        folder = _skill_dir(skill_dir)
        commits = history.skill_log(folder, folder, limit=limit or None)
        if as_json:
            typer.echo(json.dumps({"skill": history.skill_name(folder),
                                   "released": history.released_versions(folder, folder),
                                   "commits": [asdict(c) for c in commits]}, indent=2))
            return
        if not commits:
            typer.echo("no commits touch this skill yet")
            return
        for c in commits:
            tags = f" [{', '.join(c.tags)}]" if c.tags else ""
            typer.echo(f"{c.short}  {c.date[:10]}  {c.version or '-':<10} {c.subject}{tags}")

    @app.command("diff")
    def diff_cmd(
        skill_dir: Path = typer.Argument(..., help="The skill folder."),
        rev_a: str = typer.Argument(..., help="A released version (1.0.0), a tag or a commit."),
        rev_b: str = typer.Argument(None, help="Another version or commit (default: the working tree)."),
        stat: bool = typer.Option(False, "--stat", help="Only list changed files with +/- counts."),
    ) -> None:
        """Unified diff of the skill folder between two versions (or a version and the working tree)."""
        folder = _skill_dir(skill_dir)
        text = history.diff(folder, folder, rev_a, rev_b)
        if stat:
            for f in history.split_diff(text):
                typer.echo(f"{f.status:<9} +{f.added:<4} -{f.removed:<4} {f.path}")
            return
        typer.echo(text, nl=False)
