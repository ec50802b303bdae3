"""A trigger suite: every case of every skill in a workspace, offered against the whole catalog.

PATH may be one skill: if its parent folder is a workspace, only that skill's cases run, but still
against every skill of the workspace (routing is a competition; a skill alone always "wins").

The catalog entry's `path` is the folder the model is *told* about, not the folder on this disk:
`/skills/<name>` (the layout the CONTRACT's `run` example uses). A virtual path keeps the request
— and so the cache key — identical on every machine and never sends the user's home folder to a
provider. When a model explores, the sandbox mounts each skill read-only at exactly that path
(`CatalogEntry.source` is where it is on this disk) and seeds a fresh data folder from the case's
fixture (`files:` inline, or `fixture:` a folder of the skill); the fixture's digest is part of the
cache key and of the run history.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

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
    source: str = ""  # the skill folder on this disk (mounted read-only at `path` when a model explores)

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
    files: tuple[tuple[str, str], ...] = ()  # `files:` fixture, (relative path, text) in order
    fixture: str | None = None  # `fixture:` folder on this disk (absolute), copied into the data folder
    fixture_digest: str = ""  # sha256 over both ("" when the case has no fixture)
    route_to: str | None = None  # where a near-miss belongs: a skill name or "none"

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


def _case_field(case: Any, name: str) -> Any:
    """An optional case field, whether the case model declares it or keeps it as an extra."""
    value = getattr(case, name, None)
    if value is None:
        value = (getattr(case, "model_extra", None) or {}).get(name)
    return value


def _relative(path: str) -> bool:
    p = PurePosixPath(path.replace("\\", "/"))
    return bool(path.strip()) and not p.is_absolute() and ".." not in p.parts and not path.startswith("~")


def case_fixture(case: Any, skill_dir: Path) -> tuple[tuple[tuple[str, str], ...], str | None, str]:
    """(files, fixture folder, digest) of a case; ValueError with what is wrong."""
    files_raw = _case_field(case, "files")
    files: list[tuple[str, str]] = []
    if files_raw is not None:
        if not isinstance(files_raw, dict):
            raise ValueError("'files' must be a mapping of relative path to text")
        for k, v in files_raw.items():
            if not isinstance(k, str) or not isinstance(v, str) or not _relative(k):
                raise ValueError(f"'files' entry {k!r} must be a relative path (no '..') with text")
            files.append((k, v))
    folder_raw = _case_field(case, "fixture")
    folder: Path | None = None
    if folder_raw is not None:
        if not isinstance(folder_raw, str) or not _relative(folder_raw):
            raise ValueError("'fixture' must be a folder relative to the skill (no '..')")
        folder = (skill_dir / folder_raw).resolve()
        if not folder.is_dir() or not folder.is_relative_to(skill_dir.resolve()):
            raise ValueError(f"'fixture' folder {folder_raw} does not exist in the skill")
    if not files and folder is None:
        return (), None, ""
    h = hashlib.sha256(json.dumps(files, ensure_ascii=False).encode("utf-8"))
    if folder is not None:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and not p.is_symlink():
                h.update(b"\0" + p.relative_to(folder).as_posix().encode("utf-8") + b"\0")
                h.update(p.read_bytes())
    return tuple(files), None if folder is None else str(folder), h.hexdigest()


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
                                    skill.version, _digest(skill), str(skill.path.resolve())))
        for n, c in enumerate(skill.cases, 1):
            try:
                files, fixture, fdigest = case_fixture(c, skill.path)
            except (ValueError, OSError) as exc:
                problems.append(f"{skill.path.name}: case {n}: {exc}")
                continue
            route_to = _case_field(c, "route_to")
            cases.append(SuiteCase(len(cases), skill.name, c.prompt, c.expect, c.why, files, fixture, fdigest,
                                   None if route_to is None else str(route_to)))
    if problems:
        raise SkillStudioError("cannot build the trigger suite: " + "; ".join(problems),
                               "fix these files (skillstudio validate shows details)")
    warnings = [f"{e.name}: no trigger cases (add evals/triggers.yaml)"
                for e in catalog if not any(c.skill == e.name for c in cases)]
    names = {e.name for e in catalog}
    warnings += [f"{c.skill}: route_to {c.route_to!r} of {c.prompt[:40]!r} is not a skill here (nor 'none')"
                 for c in cases if c.route_to and c.route_to != "none" and c.route_to not in names]
    if not cases:
        raise SkillStudioError(f"{path}: no trigger cases found",
                               "add evals/triggers.yaml with cases to each skill")
    # A lone skill (not inside a workspace) is its own catalog and keeps its state in its own folder.
    return Suite(ws.root, catalog, cases, warnings)
