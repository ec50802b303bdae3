"""CLI commands: `validate` (spec errors, target warnings, lint, --fix) and `tokens` (o200k_base counts).

Thin shells over bundle.validate / bundle.fixes / bundle.tokens. A PATH is a skill, a workspace, or
reported as a skill with "missing SKILL.md" (CONTRACT). Exit 1 when any skill has an error.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from skillstudio.bundle.fileio import describe
from skillstudio.bundle.model import Skill
from skillstudio.bundle.problems import TARGETS, Problem
from skillstudio.bundle.validate import WorkspaceContext, validate_skill
from skillstudio.bundle.workspace import iter_load, resolve, resolve_skill_dirs
from skillstudio.errors import SkillStudioError


class Target(StrEnum):
    openai = "openai"
    codex = "codex"
    claude = "claude"


def _problem_line(p: Problem) -> str:
    where = f"{p.file}:{p.line}" if p.line else p.file
    tgt = f"[{p.target}] " if p.target else ""
    return f"{where}: {tgt}{p.message}"


def _load_groups(paths: list[Path]) -> tuple[list[list[tuple[Path, Skill]]], list[tuple[Path, str]]]:
    """One group per PATH given (a workspace is one catalog); each skill with the folder as given.
    Also, per workspace PATH, the one line saying how many skills were found where."""
    groups, found = [], []
    for given in paths:
        disc = resolve(given)
        dirs = disc.skills
        if not (len(dirs) == 1 and dirs[0] == Path(given)):
            found.append((Path(given), disc.summary()))
        groups.append(list(zip(dirs, iter_load(dirs), strict=True)))
    return groups, found


def _render_human(console: Console, entries: list[dict], fixes: dict[str, list[str]],
                  found: list[tuple[Path, str]]) -> None:
    for given, found_line in found:
        console.print(Text(f"{given}: {found_line}", style="bold"))
    n_err = n_warn = n_bad = 0
    for e in entries:
        errors, warnings = e["_errors"], e["_warnings"]
        n_err += len(errors)
        n_warn += len(warnings)
        n_bad += bool(errors)
        mark = Text("✖ ", style="bold red") if errors else Text("✔ ", style="bold green")
        head = mark + Text(e["name"], style="bold") + Text(f"  {e['path']}", style="dim")
        console.print(head)
        for change in fixes.get(e["path"], []):
            console.print(Text("    fixed    ", style="cyan") + Text(change))
        for p in errors + warnings + e["_infos"]:
            style = {"error": "red", "warning": "yellow", "info": "blue"}[p.severity]
            line = Text(f"    {p.severity:<8} ", style=style) + Text(_problem_line(p))
            if p.fix:
                line += Text(f"  (fix: {p.fix})", style="dim")
            console.print(line)
    total = len(entries)
    summary = Text(f"{total} skill{'s' if total != 1 else ''}: {total - n_bad} valid, {n_bad} invalid · "
                   f"{n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''}",
                   style="bold red" if n_bad else "bold green")
    console.print(summary)


def validate_command(paths: list[Path], as_json: bool, target: Target | None, fix: bool,
                     fix_ids: list[str] | None = None) -> int:
    targets = (target.value,) if target else TARGETS
    console = Console(highlight=False, soft_wrap=True)
    fixes: dict[str, list[str]] = {}
    unknown: list[str] = []
    if fix_ids:  # only --fix/--fix-id pay for the fixes module
        from skillstudio.bundle.fixes import FIX_ORDER, OPT_IN_FIXES

        known = FIX_ORDER + OPT_IN_FIXES
        unknown = [f for f in fix_ids if f not in known]
    if unknown:
        raise SkillStudioError(f"unknown fix id '{unknown[0]}'", f"use one of: {', '.join(known)}")
    only = list(fix_ids) if fix_ids else None
    if fix or only:
        fix = True
        new_paths = []
        from skillstudio.bundle.fixes import apply_fixes  # only --fix pays for it

        for given in paths:
            dirs = resolve_skill_dirs(given)
            workspace = not (len(dirs) == 1 and dirs[0] == Path(given))
            for d in dirs:
                report = apply_fixes(d, only)
                new = report.new_path or d
                fixes[str(new)] = report.changes + [f"not fixed: {s}" for s in report.skipped]
                if not workspace:
                    given = new
            new_paths.append(given)
        paths = new_paths
    entries = []
    groups, found = _load_groups(paths)
    for group in groups:
        ctx = WorkspaceContext([s for _, s in group])
        for folder, skill in group:
            problems = validate_skill(skill, targets=targets, workspace=ctx)
            entries.append({
                "path": str(folder),
                "name": skill.name,
                "errors": [_problem_line(p) for p in problems if p.severity == "error"],
                "warnings": [_problem_line(p) for p in problems if p.severity == "warning"],
                "problems": [p.model_dump() for p in problems],
                **({"fixed": fixes.get(str(folder), [])} if fix else {}),
                "_errors": [p for p in problems if p.severity == "error"],
                "_warnings": [p for p in problems if p.severity == "warning"],
                "_infos": [p for p in problems if p.severity == "info"],
            })
    if as_json:
        out: dict[str, Any] = {"skills": [{k: v for k, v in e.items() if not k.startswith("_")} for e in entries]}
        if found:
            out["found"] = [{"path": str(g), "summary": line} for g, line in found]
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        _render_human(console, entries, fixes, found)
    return 1 if any(e["errors"] for e in entries) else 0


def tokens_command(path: Path, as_json: bool) -> int:
    from skillstudio.bundle.tokens import CODEX_BUDGET_CHARS, ENCODING, catalog_tokens

    disc = resolve(path)
    dirs = disc.skills
    skills = list(iter_load(dirs))
    cat = catalog_tokens(skills)
    missing = [str(d) for d, s in zip(dirs, skills, strict=True) if s.skill_md is None or
               (not s.text and (s.parse_error or "").startswith("cannot read"))]
    rows: list[dict[str, Any]] = []
    for d, s, t in zip(dirs, skills, cat.skills, strict=True):
        row: dict[str, Any] = {"path": str(d), "name": s.name, "always_loaded": t.always_loaded, "body": t.body,
               "files": t.files, "total": t.total, "skipped": t.skipped}
        if s.skill_md is None:
            row["error"] = "missing SKILL.md"
        elif not s.text and (s.parse_error or "").startswith("cannot read"):
            row["error"] = f"{s.skill_md.name} not read: {describe(s.skill_md, root=d) or s.parse_error}"
        row["skipped_why"] = {rel: t.skipped_why.get(rel) or "not counted" for rel in t.skipped}
        rows.append(row)
    catalog = {"skills": len(skills), "always_loaded": cat.always_loaded, "chars": cat.chars,
               "codex_budget_chars": CODEX_BUDGET_CHARS, "within_codex_budget": cat.within_codex_budget}
    if as_json:
        typer.echo(json.dumps({"encoding": ENCODING, "skills": rows, "catalog": catalog}, indent=2,
                              ensure_ascii=False))
        return 1 if missing else 0
    from rich.table import Table

    console = Console(highlight=False)
    if not (len(dirs) == 1 and dirs[0] == Path(path)):
        console.print(Text(f"{path}: {disc.summary()}", style="bold"))
    table = Table(title=f"Tokens ({ENCODING})", title_justify="left")
    for col in ("skill", "always loaded", "body", "files", "total"):
        table.add_column(col, justify="left" if col == "skill" else "right")
    for r in rows:
        table.add_row(Text(str(r["name"])), f"{r['always_loaded']:,}", f"{r['body']:,}", str(len(r["files"])),
                      f"{r['total']:,}")
    console.print(table)
    share = cat.chars / CODEX_BUDGET_CHARS
    style = "bold red" if not cat.within_codex_budget else "bold green"
    console.print(Text(f"catalog: {len(skills)} skills, {cat.always_loaded:,} always-loaded tokens on every "
                       f"request; {cat.chars:,} of Codex's ~{CODEX_BUDGET_CHARS:,}-character skill list "
                       f"({share:.0%})", style=style))
    for r in rows:
        for rel in r["skipped"]:
            console.print(Text(f"  skipped {r['name']}/{rel}: {r['skipped_why'][rel]}", style="dim"))
        if "error" in r:
            console.print(Text(f"  {r['path']}: {r['error']}", style="red"))
    return 1 if missing else 0


def register(app: typer.Typer) -> None:
    """Adds the commands of this module to the main app."""

    @app.command("validate")
    def validate(
        paths: list[Path] = typer.Argument(..., help="Skill folders or workspaces (folders of skills)."),
        as_json: bool = typer.Option(False, "--json", help="Print {\"skills\": [...]} as JSON."),
        target: Target = typer.Option(None, "--target", case_sensitive=False,
                                      help="Only this platform's warnings (default: all)."),
        fix: bool = typer.Option(False, "--fix", help="Rewrite what can be fixed safely and report each change."),
        fix_ids: list[str] = typer.Option(None, "--fix-id", metavar="ID",
                                          help="Apply only this fix (repeatable); also the opt-in fixes such as "
                                               "portable-host-fields, which --fix alone never applies."),
    ) -> None:
        """Validate skills: spec errors (as skills-ref), platform warnings, lint. Exit 1 on any error."""
        raise typer.Exit(validate_command(paths, as_json, target, fix, fix_ids))

    @app.command("tokens")
    def tokens(
        path: Path = typer.Argument(..., help="A skill folder or a workspace."),
        as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    ) -> None:
        """Token counts (o200k_base): always-loaded part, body, every file; the catalog vs Codex's budget."""
        raise typer.Exit(tokens_command(path, as_json))
