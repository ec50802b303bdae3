"""Validating many skills at once without holding them: load one, validate it, keep a few strings, drop it.

Why not simply `validate_workspace(load_workspace(...))`: a 3,000-skill catalog then keeps every
SKILL.md text, body, file list and trigger case alive at once (hundreds of MiB), where the reference
validator holds one skill at a time. Here each skill is validated alone and reduced to its findings
(pre-formatted lines) plus a stripped copy for the catalog-wide checks (name, description, the
`route_to` of its cases); the catalog checks run once every skill has been seen. The verdicts are
exactly `validate_skill(..., workspace=WorkspaceContext(all skills))` (tests hold the two equal).

Loading runs in a plain loop: parsing is CPU-bound, so threads only added GIL hand-offs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from skillstudio.bundle.model import Skill, load_skill
from skillstudio.bundle.problems import TARGETS, Problem
from skillstudio.bundle.validate import WorkspaceContext, validate_skill, workspace_problems

_ORDER = {"error": 0, "warning": 1, "info": 2}
# what validate_skill returns alone (no catalog checks) when SKILL.md itself cannot be judged
_UNJUDGED = frozenset({"spec.missing-skill-md", "spec.unreadable", "file.skill-md-link", "file.skill-md-special",
                       "file.skill-md-too-large", "spec.not-utf8"})


def problem_line(p: Problem) -> str:
    """`FILE[:LINE]: [target] message`, the form `validate` prints and `--json` lists."""
    where = f"{p.file}:{p.line}" if p.line else p.file
    tgt = f"[{p.target}] " if p.target else ""
    return f"{where}: {tgt}{p.message}"


@dataclass(slots=True)
class Finding:
    """One problem, reduced to what the CLI prints (a Problem model costs several times more)."""

    severity: str
    code: str
    text: str  # problem_line()
    fix: str | None
    file: str
    line: int

    @classmethod
    def of(cls, p: Problem) -> Finding:
        return cls(p.severity, p.code, problem_line(p), p.fix, p.file, p.line or 0)

    def key(self) -> tuple[int, bool, int]:
        """validate_skill's order: errors first, SKILL.md before evals/, then by line."""
        return _ORDER[self.severity], self.file.startswith("evals/"), self.line


@dataclass(slots=True)
class SkillReport:
    """One skill's verdict: the folder as given, its name and its findings in validate_skill's order."""

    path: str
    name: str
    findings: list[Finding] = field(default_factory=list)

    def lines(self, severity: str) -> list[str]:
        return [f.text for f in self.findings if f.severity == severity]

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


@dataclass(slots=True)
class _CatalogSkill:
    """What the catalog-wide checks read of a skill, and nothing else (no text, body, files or prompts)."""

    path: Path
    skill_md: Path | None
    name: str
    description: str
    cases: list[Any]  # the cases whose route_to names somewhere; None for the others (indices are kept)


class _Routed:
    __slots__ = ("route_to",)

    def __init__(self, route_to: str | None) -> None:
        self.route_to = route_to


_NO_ROUTE = _Routed(None)


def _catalog_copy(skill: Skill) -> Skill:
    """A stand-in for `skill` in WorkspaceContext and workspace_problems, which read only the fields of
    _CatalogSkill (a pydantic copy cost ~1 ms per skill in model_construct alone)."""
    cases = [c if c.route_to not in (None, "none") else _NO_ROUTE for c in skill.cases]
    return cast(Skill, _CatalogSkill(skill.path, skill.skill_md, skill.name, skill.description, cases))


def validate_dirs(dirs: Sequence[Path], *, targets: Sequence[str] = TARGETS) -> list[SkillReport]:
    """Reports for the skill folders `dirs` (one catalog), in order; at most one skill loaded at a time."""
    reports: list[SkillReport] = []
    stripped: list[Skill] = []
    judged: list[bool] = []
    for d in dirs:
        skill = load_skill(d)
        problems = validate_skill(skill, targets=targets)
        reports.append(SkillReport(str(d), skill.name, [Finding.of(p) for p in problems]))
        stripped.append(_catalog_copy(skill))
        judged.append(not (len(problems) == 1 and problems[0].code in _UNJUDGED))
        del skill, problems
    ctx = WorkspaceContext(stripped)
    for report, skill, ok in zip(reports, stripped, judged, strict=True):
        if not ok:
            continue
        extra = workspace_problems(skill, ctx, tuple(t for t in targets if t in TARGETS))
        if not extra:
            continue
        md_name = skill.skill_md.name if skill.skill_md is not None else "SKILL.md"
        for p in extra:
            if p.file == "SKILL.md" and md_name != "SKILL.md":
                p.file = md_name
        report.findings = sorted(report.findings + [Finding.of(p) for p in extra], key=Finding.key)
    return reports


def iter_reports(groups: Sequence[Sequence[Path]], *, targets: Sequence[str] = TARGETS) -> Iterator[SkillReport]:
    """Reports of several catalogs (one per PATH given), catalog by catalog."""
    for dirs in groups:
        yield from validate_dirs(dirs, targets=targets)
