"""A trigger suite: every case of every skill in a workspace, offered against the whole catalog.

PATH may be one skill: its cases run, but against the catalog of the workspace it belongs to
(routing is a competition; a skill alone always "wins"). That workspace is found as the app finds
it (`bundle.workspace`, skills at any depth): the nearest folder above the skill that holds
`.skillstudio/` or `.git` (the workspace the user opened, or the repository), else the skill's parent
— in both cases only when the skill is one of the skills found there. Otherwise the skill is alone:
its own catalog, its state in its own folder. The home folder and the file-system root are never
taken as a workspace (a dotfiles repository in $HOME must not make every skill below it compete).

Explicit-only skills (`bundle.invocation`) are never offered: the catalog holds only skills that
allow implicit invocation. Their `trigger` cases are kept aside (`Suite.explicit_only`) and reported
as explicit-only without a request; their `no_trigger` cases run as usual against the catalog.

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

from skillstudio.bundle.invocation import explicit_only_reasons
from skillstudio.bundle.model import Skill
from skillstudio.bundle.triggers import Expect
from skillstudio.bundle.workspace import discover, is_skill_dir, load_workspace
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
    # `trigger` cases of explicit-only skills: reported as explicit-only, never sent to a model
    explicit_only: list[SuiteCase] = field(default_factory=list)
    # explicit-only skill name -> why (its author's declarations, bundle.invocation)
    explicit_only_skills: dict[str, list[str]] = field(default_factory=dict)
    found: str = ""  # "PATH: N skills in M folders: …" (bundle.workspace.Discovery.summary), for the shells
    sources: dict[str, str] = field(default_factory=dict)  # skill name -> its folder on this disk

    @property
    def state_dir(self) -> Path:
        return self.root / ".skillstudio"

    def negatives_of(self, skill: str) -> list[SuiteCase]:
        return [c for c in self.cases if c.skill == skill and c.expect == "no_trigger"]

    def only(self, skills: list[str]) -> Suite:
        """Same catalog, cases of the given skills only (the whole catalog still competes)."""
        keep = [c for c in self.cases if c.skill in skills]
        held = [c for c in self.explicit_only if c.skill in skills]
        return Suite(self.root, self.catalog, keep, list(self.warnings), held, dict(self.explicit_only_skills),
                     self.found, dict(self.sources))

    @property
    def skill_names(self) -> list[str]:
        """Every skill of the suite: the catalog, then the explicit-only skills (not offered)."""
        return [*(e.name for e in self.catalog), *self.explicit_only_skills]

    def all_cases(self) -> list[SuiteCase]:
        """Run and explicit-only cases together, in suite order."""
        return sorted([*self.cases, *self.explicit_only], key=lambda c: c.index)


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


def _is_home_or_top(folder: Path) -> bool:
    try:
        home = Path.home().resolve()
    except (RuntimeError, OSError):
        home = None
    return folder.parent == folder or folder == home


def workspace_of(skill_dir: Path) -> Path | None:
    """The workspace a skill given alone belongs to (rule in the module docstring), or None."""
    skill_dir = skill_dir.resolve()
    candidate: Path | None = None
    for folder in skill_dir.parents:
        if _is_home_or_top(folder):
            break
        if (folder / ".skillstudio").is_dir() or (folder / ".git").exists():
            candidate = folder
            break
    for root in ([candidate] if candidate is not None else []) + [skill_dir.parent]:
        if _is_home_or_top(root):
            continue
        if skill_dir in {d.resolve() for d in discover(root).skills} and root != skill_dir:
            return root
    return None


def build_suite(path: Path, *, skills_root: str = SKILLS_ROOT) -> Suite:
    """Load a workspace (or one skill) and gather its catalog and cases.

    A skill whose SKILL.md cannot be read or has no description cannot be offered to a model, and
    a broken triggers.yaml cannot be run: both stop the suite with a message saying which file.
    For one skill of a workspace only that skill must be sound: another skill that cannot be offered
    is left out of the catalog with a warning (its cases do not run anyway), as Try a prompt does,
    so a repository's template or scratch skills never block testing a real one.
    """
    path = Path(path)
    if not path.exists():
        raise SkillStudioError(f"{path}: no such folder", "give a skill folder or a workspace of skills")
    root = workspace_of(path) if is_skill_dir(path) else None
    if root is not None:
        # One skill of a workspace: its cases, but against the whole catalog it competes with.
        whole = _gather(root, skills_root, focus=path.resolve())
        mine = str(path.resolve())
        name = next((n for n, src in whole.sources.items() if src == mine), None)
        name = name or load_workspace(path, with_files=False).skills[0].name
        own = [c for c in whole.cases if c.skill == name]
        own_held = [c for c in whole.explicit_only if c.skill == name]
        if not own and not own_held:
            raise SkillStudioError(f"{path}: no trigger cases found", "add evals/triggers.yaml with cases")
        _check_catalog(path, own, whole.catalog)
        return Suite(whole.root, whole.catalog, own,
                     [w for w in whole.warnings if w.startswith((f"{name}:", "catalog:"))],
                     own_held, whole.explicit_only_skills, whole.found, whole.sources)
    suite = _gather(path, skills_root, focus=None)
    if not suite.cases and not suite.explicit_only:
        raise SkillStudioError(f"{path}: no trigger cases found",
                               "add evals/triggers.yaml with cases to each skill")
    _check_catalog(path, suite.cases, suite.catalog)
    return suite


def _check_catalog(path: Path, cases: list[SuiteCase], catalog: list[CatalogEntry]) -> None:
    if cases and not catalog:
        raise SkillStudioError(f"{path}: every skill here is explicit-only, so no model may pick one by itself",
                               "explicit-only skills are used when the user names them; there is nothing "
                               "to route (drop disable-model-invocation or allow_implicit_invocation: false "
                               "to test implicit triggering)")


def _gather(path: Path, skills_root: str, *, focus: Path | None) -> Suite:
    """Catalog and cases of a workspace. With `focus` (one skill's folder), only that skill's
    problems stop the suite; another skill that cannot be offered is left out, with a warning."""
    ws = load_workspace(path, with_files=False)
    if not ws.skills:
        raise SkillStudioError(f"{path}: no skills found", "a skill is a folder holding SKILL.md")
    problems: list[str] = []
    left_out: list[str] = []
    catalog: list[CatalogEntry] = []
    cases: list[SuiteCase] = []
    held: list[SuiteCase] = []
    explicit: dict[str, list[str]] = {}
    sources: dict[str, str] = {}
    seen: set[str] = set()
    index = 0
    for skill in ws.skills:
        other = focus is not None and skill.path.resolve() != focus
        why = (skill.parse_error or (skill.cases_error if not other else None)
               or (None if skill.description else "SKILL.md has no description, so no model can pick it")
               or (f"skill name {skill.name!r} is used twice" if skill.name in seen else None))
        if why:
            (left_out if other else problems).append(f"{skill.path.name}: {why}")
            continue
        seen.add(skill.name)
        sources[skill.name] = str(skill.path.resolve())
        reasons = explicit_only_reasons(skill)
        if reasons:
            explicit[skill.name] = reasons  # never offered for implicit selection (CONTRACT)
        else:
            catalog.append(CatalogEntry(skill.name, skill.description, f"{skills_root.rstrip('/')}/{skill.name}",
                                        skill.version, _digest(skill), sources[skill.name]))
        if other:
            continue  # it competes; its cases are not run
        for n, c in enumerate(skill.cases, 1):
            try:
                files, fixture, fdigest = case_fixture(c, skill.path)
            except (ValueError, OSError) as exc:
                problems.append(f"{skill.path.name}: case {n}: {exc}")
                continue
            route_to = _case_field(c, "route_to")
            case = SuiteCase(index, skill.name, c.prompt, c.expect, c.why, files, fixture, fdigest,
                             None if route_to is None else str(route_to))
            index += 1
            (held if reasons and c.expect == "trigger" else cases).append(case)
    if problems:
        raise SkillStudioError("cannot build the trigger suite: " + "; ".join(problems),
                               "fix these files (skillstudio validate shows details)")
    warnings = [f"catalog: left out {w}" for w in left_out]
    warnings += [f"{name}: no trigger cases (add evals/triggers.yaml)" for name in sources
                 if focus is None and not any(c.skill == name for c in [*cases, *held])]
    names = set(sources)
    warnings += [f"{c.skill}: route_to {c.route_to!r} of {c.prompt[:40]!r} is not a skill here (nor 'none')"
                 for c in cases if c.route_to and c.route_to != "none" and c.route_to not in names]
    found = f"{path}: {ws.found}"
    if explicit:
        found += (f"; {len(explicit)} explicit-only, not offered to the model: "
                  + ", ".join(sorted(explicit)[:5]) + (" …" if len(explicit) > 5 else ""))
    # A lone skill (not inside a workspace) is its own catalog and keeps its state in its own folder.
    return Suite(ws.root, catalog, cases, warnings, held, explicit, found, sources)
