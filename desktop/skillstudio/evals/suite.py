"""A trigger suite: every case of every skill in a workspace, offered against the whole catalog.

PATH may be one skill: if its parent folder is a workspace, only that skill's cases run, but still
against every skill of the workspace (routing is a competition; a skill alone always "wins").

The catalog entry's `path` is the folder the model is *told* about, not the folder on this disk:
`/skills/<name>` (the layout the CONTRACT's `run` example uses). A virtual path keeps the request
— and so the cache key — identical on every machine and never sends the user's home folder to a
provider. Nothing is executed during a trigger test, so the path never has to exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from skillstudio.bundle.model import Skill
from skillstudio.bundle.triggers import Expect
from skillstudio.bundle.workspace import is_skill_dir, is_workspace, load_workspace
from skillstudio.errors import SkillStudioError

SKILLS_ROOT = "/skills"


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    description: str
    path: str  # what the model is told: SKILLS_ROOT/<name>
    version: str | None = None
    digest: str = ""  # sha256 of SKILL.md as on disk, to tell runs of different content apart

    def as_param(self) -> dict[str, str]:
        """The Responses `LocalSkillParam` shape."""
        return {"name": self.name, "description": self.description, "path": self.path}


@dataclass(frozen=True)
class SuiteCase:
    index: int  # position in the suite: results are ordered by it, never by completion order
    skill: str
    prompt: str
    expect: Expect
    why: str | None = None

    @property
    def key(self) -> str:
        return f"{self.skill}#{self.index}"


@dataclass
class Suite:
    root: Path
    catalog: list[CatalogEntry]
    cases: list[SuiteCase]
    warnings: list[str] = field(default_factory=list)

    @property
    def state_dir(self) -> Path:
        return self.root / ".skillstudio"

    def negatives_of(self, skill: str) -> list[SuiteCase]:
        return [c for c in self.cases if c.skill == skill and c.expect == "no_trigger"]

    def only(self, skills: list[str]) -> Suite:
        """Same catalog, cases of the given skills only (the whole catalog still competes)."""
        keep = [c for c in self.cases if c.skill in skills]
        return Suite(self.root, self.catalog, keep, list(self.warnings))


def _digest(skill: Skill) -> str:
    return hashlib.sha256(skill.text.encode("utf-8")).hexdigest()


def build_suite(path: Path, *, skills_root: str = SKILLS_ROOT) -> Suite:
    """Load a workspace (or one skill) and gather its catalog and cases.

    A skill whose SKILL.md cannot be read or has no description cannot be offered to a model, and
    a broken triggers.yaml cannot be run: both stop the suite with a message saying which file.
    """
    path = Path(path)
    if not path.exists():
        raise SkillStudioError(f"{path}: no such folder", "give a skill folder or a workspace of skills")
    if is_skill_dir(path) and is_workspace(path.resolve().parent):
        # One skill of a workspace: its cases, but against the whole catalog it competes with.
        whole = build_suite(path.resolve().parent, skills_root=skills_root)
        name = next((e.name for e in whole.catalog if (whole.root / e.name).resolve() == path.resolve()), None)
        name = name or load_workspace(path, with_files=False).skills[0].name
        own = [c for c in whole.cases if c.skill == name]
        if not own:
            raise SkillStudioError(f"{path}: no trigger cases found", "add evals/triggers.yaml with cases")
        return Suite(whole.root, whole.catalog, own, [w for w in whole.warnings if w.startswith(f"{name}:")])
    ws = load_workspace(path, with_files=False)
    if not ws.skills:
        raise SkillStudioError(f"{path}: no skills found", "a skill is a folder holding SKILL.md")
    problems: list[str] = []
    catalog: list[CatalogEntry] = []
    cases: list[SuiteCase] = []
    seen: set[str] = set()
    for skill in ws.skills:
        if skill.parse_error:
            problems.append(f"{skill.path.name}: {skill.parse_error}")
            continue
        if skill.cases_error:
            problems.append(f"{skill.path.name}: {skill.cases_error}")
            continue
        if not skill.description:
            problems.append(f"{skill.path.name}: SKILL.md has no description, so no model can pick it")
            continue
        if skill.name in seen:
            problems.append(f"{skill.path.name}: skill name {skill.name!r} is used twice")
            continue
        seen.add(skill.name)
        catalog.append(CatalogEntry(skill.name, skill.description, f"{skills_root.rstrip('/')}/{skill.name}",
                                    skill.version, _digest(skill)))
        for c in skill.cases:
            cases.append(SuiteCase(len(cases), skill.name, c.prompt, c.expect, c.why))
    if problems:
        raise SkillStudioError("cannot build the trigger suite: " + "; ".join(problems),
                               "fix these files (skillstudio validate shows details)")
    warnings = [f"{e.name}: no trigger cases (add evals/triggers.yaml)"
                for e in catalog if not any(c.skill == e.name for c in cases)]
    if not cases:
        raise SkillStudioError(f"{path}: no trigger cases found",
                               "add evals/triggers.yaml with cases to each skill")
    # A lone skill (not inside a workspace) is its own catalog and keeps its state in its own folder.
    return Suite(ws.root, catalog, cases, warnings)
