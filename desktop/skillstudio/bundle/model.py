"""The skill bundle model: one folder with SKILL.md, trigger cases and files.

Loading never raises for bad content: a skill whose SKILL.md is broken still loads (so the editor
can open it and the problems panel can explain), with `parse_error` set. Validation lives in
`validate.py`; this module only reads. The models are plain dataclasses: they hold what was read and
validate nothing, and importing pydantic for them was a quarter of a one-skill `validate` and of the
app's first paint.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import semver

from skillstudio.bundle import skillmd
from skillstudio.bundle.fileio import UnreadableFile, kind_of_mode, read_text_file, why_unreadable
from skillstudio.bundle.triggers import TriggerCase, TriggersError, load_cases

SKILL_MD_NAMES = ("SKILL.md", "skill.md")
IGNORED_DIRS = {".git", ".skillstudio", "__pycache__", ".mypy_cache", ".pytest_cache", "node_modules", ".venv"}
IGNORED_FILES = {".DS_Store", "Thumbs.db"}
FILE_KINDS = ("templates", "scripts", "references", "assets", "evals")


@dataclass
class FrontMatter:
    """The Agent Skills front matter; unknown top-level keys are kept in `extra` (they are errors)."""

    name: str | None = None
    description: str | None = None
    license: str | None = None
    compatibility: str | None = None
    allowed_tools: str | None = None  # `allowed-tools` in SKILL.md
    metadata: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> FrontMatter:
        known = {"name", "description", "license", "compatibility", "allowed-tools", "metadata"}

        def text(v: Any) -> str | None:
            if v is None:
                return None
            if isinstance(v, list):  # allowed-tools as a YAML list is common in the wild
                return " ".join(str(x) for x in v)
            return str(v)

        meta = data.get("metadata")
        return cls(
            name=text(data.get("name")),
            description=text(data.get("description")),
            license=text(data.get("license")),
            compatibility=text(data.get("compatibility")),
            allowed_tools=text(data.get("allowed-tools")),
            metadata={str(k): "" if v is None else str(v) for k, v in meta.items()} if isinstance(meta, dict) else {},
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass
class SkillFile:
    rel_path: str  # POSIX path relative to the skill folder
    size: int
    kind: str  # templates | scripts | references | assets | evals | other
    file_type: str = "file"  # file | symbolic link | FIFO | socket | device: never followed or read when not a file


@dataclass
class Skill:
    path: Path
    skill_md: Path | None = None
    text: str = ""  # SKILL.md exactly as on disk (BOM, CRLF and all)
    frontmatter: FrontMatter | None = None
    raw_frontmatter: dict[str, Any] | None = None
    body: str = ""
    body_first_line: int = 0  # 0-based line of the body in SKILL.md
    parse_error: str | None = None
    parse_error_line: int | None = None
    cases: list[TriggerCase] = field(default_factory=list)
    cases_error: str | None = None
    files: list[SkillFile] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    def model_copy(self, update: dict[str, Any] | None = None) -> Skill:
        """A shallow copy, with `update` applied (the call its callers made when this was a pydantic model)."""
        return dataclasses.replace(self, **(update or {}))

    @property
    def folder_name(self) -> str:
        return self.path.name

    @property
    def name(self) -> str:
        fm = self.frontmatter
        return fm.name.strip() if fm and fm.name and fm.name.strip() else self.path.name

    @property
    def description(self) -> str:
        fm = self.frontmatter
        return (fm.description or "").strip() if fm else ""

    @property
    def version(self) -> str | None:
        return self.frontmatter.metadata.get("version") if self.frontmatter else None

    @property
    def semver(self) -> semver.Version | None:
        v = self.version
        if v and semver.Version.is_valid(v.strip().removeprefix("v")):
            return semver.Version.parse(v.strip().removeprefix("v"))
        return None


def find_skill_md(folder: Path) -> Path | None:
    """SKILL.md (or skill.md) of `folder` when it is a regular file (or a link to one)."""
    for name in SKILL_MD_NAMES:
        p = folder / name
        if p.is_file():
            return p
    return None


def skill_md_entry(folder: Path) -> Path | None:
    """SKILL.md (or skill.md) of `folder`: any entry of that name but a folder. A dangling link, a FIFO
    or a device is still *the* SKILL.md: the loader refuses to read it and validation says what it is."""
    for name in SKILL_MD_NAMES:
        p = folder / name
        if os.path.lexists(p) and not p.is_dir():
            return p
    return None


def list_files(folder: Path) -> list[SkillFile]:
    """Every bundle file except SKILL.md and editor/VCS droppings, sorted by path. Does not follow symlinks."""
    out: list[SkillFile] = []
    stack = [folder]
    while stack:
        d = stack.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                if e.name not in IGNORED_DIRS:
                    stack.append(Path(e.path))
                continue
            if e.name in IGNORED_FILES or e.name.endswith(("~", ".swp", ".pyc")):
                continue
            rel = Path(e.path).relative_to(folder).as_posix()
            if rel in SKILL_MD_NAMES:
                continue
            top = rel.split("/", 1)[0] if "/" in rel else ""
            try:
                st = e.stat(follow_symlinks=False)
                size, file_type = st.st_size, kind_of_mode(st.st_mode)
            except OSError:
                size, file_type = 0, "file"
            out.append(SkillFile(rel_path=rel, size=size, kind=top if top in FILE_KINDS else "other",
                                 file_type=file_type))
    out.sort(key=lambda f: f.rel_path)
    return out


def parse_skill_text(skill: Skill, text: str) -> Skill:
    """Fill front matter/body/parse_error of `skill` from SKILL.md text (used by the live editor too)."""
    skill.text = text
    skill.frontmatter = None
    skill.raw_frontmatter = None
    skill.parse_error = None
    skill.parse_error_line = None
    try:
        data, sp = skillmd.load_front_matter(text)
    except skillmd.FrontMatterError as exc:
        skill.parse_error, skill.parse_error_line = str(exc), exc.line
        sp = skillmd.split(text)
        skill.body, skill.body_first_line = sp.body, sp.body_first_line
        return skill
    skill.raw_frontmatter = data
    skill.frontmatter = FrontMatter.from_mapping(data)
    skill.body, skill.body_first_line = sp.body, sp.body_first_line
    return skill


def load_skill(folder: Path, *, with_files: bool = True) -> Skill:
    folder = Path(folder)
    skill = Skill(path=folder)
    md = skill_md_entry(folder) if folder.is_dir() else None
    if md is None:
        skill.parse_error = "missing SKILL.md"
    else:
        skill.skill_md = md
        try:  # a link only to a file inside the skill; never a FIFO or device; bounded
            parse_skill_text(skill, read_text_file(md, root=folder))
        except (OSError, UnreadableFile) as exc:
            skill.parse_error = f"cannot read {md.name}: it is {why_unreadable(exc)}"
    if folder.is_dir():
        try:
            skill.cases = load_cases(folder)
        except TriggersError as exc:
            skill.cases_error = str(exc)
        if with_files:
            skill.files = list_files(folder)
    return skill
