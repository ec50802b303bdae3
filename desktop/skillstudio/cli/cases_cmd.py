"""CLI: `skillstudio cases import FILE --skill DIR` and `skillstudio cases export DIR --format F`.

Thin shell over bundle.case_formats: skill-creator eval sets (`[{query, should_trigger}]` and the
variants real repositories use) in, our evals/triggers.yaml or skill-creator JSON out. A file that
cannot be read or converted is a one-line error with exit code 2.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from skillstudio.errors import SkillStudioError

cases_app = typer.Typer(help="Trigger cases in other formats: import skill-creator eval sets, export them back.",
                        no_args_is_help=True)


class Format(StrEnum):
    skill_creator = "skill-creator"
    yaml = "yaml"


@cases_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="An eval set: skill-creator JSON ([{query, should_trigger}]), a variant, "
                                          "or our YAML."),
    skill: Path = typer.Option(..., "--skill", help="The skill folder whose evals/triggers.yaml receives the cases."),
    replace: bool = typer.Option(False, "--replace", help="Replace the skill's cases instead of adding to them."),
) -> None:
    """Add (or with --replace, set) a skill's trigger cases from an eval set."""
    from skillstudio.bundle.case_formats import import_into_skill
    from skillstudio.bundle.triggers import TriggersError

    try:
        report = import_into_skill(file, skill, replace=replace)
    except TriggersError as exc:
        raise SkillStudioError(str(exc), "fix the file (or the skill's evals/triggers.yaml) and import again") from None
    parts = [f"{report.added} case{'s' * (report.added != 1)} added"]
    if report.duplicates:
        parts.append(f"{report.duplicates} already there")
    if report.replaced:
        parts.append(f"{report.replaced} replaced")
    typer.echo(f"{report.path}: {', '.join(parts)}")
    for note in report.notes:
        typer.echo(f"  note: {note}")


@cases_app.command("export")
def export_cmd(
    skill: Path = typer.Argument(..., help="A skill folder with evals/triggers.yaml."),
    fmt: Format = typer.Option(Format.skill_creator, "--format", case_sensitive=False,
                               help="skill-creator (JSON eval set) or yaml (our triggers.yaml)."),
    output: Path = typer.Option(None, "-o", "--output", help="Write here instead of standard output."),
) -> None:
    """Print (or write) a skill's trigger cases in another format."""
    from skillstudio.bundle.case_formats import export_skill
    from skillstudio.bundle.fileio import atomic_write
    from skillstudio.bundle.triggers import TriggersError

    try:
        text = export_skill(skill, fmt.value)
    except TriggersError as exc:
        raise SkillStudioError(str(exc), "fix evals/triggers.yaml first (`skillstudio validate` shows where)") from None
    if output is None:
        typer.echo(text, nl=False)
    else:
        atomic_write(output, text)
        typer.echo(f"wrote {output}")


def register(app: typer.Typer) -> None:
    """Adds the `cases` command group to the main app."""
    app.add_typer(cases_app, name="cases")
