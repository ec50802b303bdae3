"""CLI commands: `validate` (spec errors, target warnings, lint, --fix) and `tokens` (o200k_base counts).

Thin shells over bundle.validate / bundle.fixes / bundle.tokens. A PATH is a skill, a workspace, or
reported as a skill with "missing SKILL.md" (CONTRACT). Exit 1 when any skill has an error.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillstudio.bundle.bulk import SkillReport, iter_reports
from skillstudio.bundle.problems import TARGETS
from skillstudio.bundle.workspace import resolve, resolve_skill_dirs
from skillstudio.errors import SkillStudioError

if TYPE_CHECKING:
    import typer


class Target(StrEnum):
    openai = "openai"
    codex = "codex"
    claude = "claude"


_SGR = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36",
        "bold red": "1;31", "bold green": "1;32"}


def _painter(stream: Any) -> Any:
    """ANSI styling when `stream` is a terminal (and NO_COLOR is unset), else plain text.

    Plain escape codes rather than rich: rich costs ~30 ms of start-up on every `validate`, for a
    handful of colours."""
    color = stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"

    def paint(text: str, style: str) -> str:
        return f"\x1b[{_SGR[style]}m{text}\x1b[0m" if color and text else text

    return paint


def _groups(paths: list[Path]) -> tuple[list[list[Path]], list[tuple[Path, str]]]:
    """One group of skill folders per PATH given (a workspace is one catalog), each folder as given.
    Also, per workspace PATH, the one line saying how many skills were found where."""
    groups, found = [], []
    for given in paths:
        disc = resolve(given)
        dirs = disc.skills
        if not (len(dirs) == 1 and dirs[0] == Path(given)):
            found.append((Path(given), disc.summary()))
        groups.append(dirs)
    return groups, found


def _render_human(reports: list[SkillReport], fixes: dict[str, list[str]], found: list[tuple[Path, str]]) -> None:
    paint = _painter(sys.stdout)
    out: list[str] = []
    for given, found_line in found:
        out.append(paint(f"{given}: {found_line}", "bold"))
    n_err = n_warn = n_bad = 0
    for r in reports:
        errors = sum(f.severity == "error" for f in r.findings)
        n_err += errors
        n_warn += sum(f.severity == "warning" for f in r.findings)
        n_bad += bool(errors)
        mark = paint("✖ ", "bold red") if errors else paint("✔ ", "bold green")
        out.append(mark + paint(r.name, "bold") + paint(f"  {r.path}", "dim"))
        for change in fixes.get(r.path, []):
            out.append(paint("    fixed    ", "cyan") + change)
        for f in r.findings:
            style = {"error": "red", "warning": "yellow", "info": "blue"}[f.severity]
            line = paint(f"    {f.severity:<8} ", style) + f.text
            if f.fix:
                line += paint(f"  (fix: {f.fix})", "dim")
            out.append(line)
    total = len(reports)
    out.append(paint(f"{total} skill{'s' if total != 1 else ''}: {total - n_bad} valid, {n_bad} invalid · "
                     f"{n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''}",
                     "bold red" if n_bad else "bold green"))
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()


def _json_entry(r: SkillReport, fixes: dict[str, list[str]] | None) -> dict[str, Any]:
    """CONTRACT fields (errors and warnings as lines), then extras that repeat no problem: the infos,
    and the codes and fix ids found (what `--fix-id` takes), once each."""
    entry: dict[str, Any] = {"path": r.path, "name": r.name, "errors": r.lines("error"),
                             "warnings": r.lines("warning"), "infos": r.lines("info"),
                             "codes": list(dict.fromkeys(f.code for f in r.findings)),
                             "fix_ids": list(dict.fromkeys(f.fix for f in r.findings if f.fix))}
    if fixes is not None:
        entry["fixed"] = fixes.get(r.path, [])
    return entry


def validate_command(paths: list[Path], as_json: bool, target: Target | str | None, fix: bool,
                     fix_ids: list[str] | None = None) -> int:
    targets = (str(getattr(target, "value", target)),) if target else TARGETS
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
    groups, found = _groups(paths)
    reports = list(iter_reports(groups, targets=targets))
    failed = any(r.has_errors for r in reports)
    if as_json:
        out: dict[str, Any] = {"skills": [_json_entry(r, fixes if fix else None) for r in reports]}
        if found:
            out["found"] = [{"path": str(g), "summary": line} for g, line in found]
        del reports
        # compact separators keep json on its C encoder (indent forces the pure-Python one: ~10x slower)
        sys.stdout.write(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
        sys.stdout.flush()
    else:
        _render_human(reports, fixes, found)
    return 1 if failed else 0


def tokens_command(path: Path, as_json: bool) -> int:
    from rich.console import Console
    from rich.text import Text

    from skillstudio.bundle.fileio import describe
    from skillstudio.bundle.tokens import CODEX_BUDGET_CHARS, ENCODING, catalog_tokens
    from skillstudio.bundle.workspace import iter_load

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
        sys.stdout.write(json.dumps({"encoding": ENCODING, "skills": rows, "catalog": catalog}, indent=2,
                                    ensure_ascii=False) + "\n")
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
    import typer

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
