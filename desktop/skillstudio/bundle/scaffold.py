"""New skills from templates: render a template folder into `<workspace>/<name>/`.

Qt-free so that the wizard, the CLI and tests share one implementation. A template is a folder under
`resources/templates/<id>/` whose text files may use `{{name}}` and `{{description}}`; the list of
templates (id, title, summary) is `resources/templates/index.yaml`. When the shipped templates are
missing, a built-in minimal template keeps "new skill" working.

The front matter is not filled by blind text substitution: `name`, `description` and
`metadata.version` are set with `skillmd.set_field`/`set_metadata`, which quote values as YAML needs,
so a description containing `: ` or quotes still yields a valid SKILL.md.
"""

from __future__ import annotations

import itertools
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from skillstudio import resources
from skillstudio.bundle import safeyaml, skillmd
from skillstudio.bundle.fileio import atomic_write, read_text_file
from skillstudio.bundle.triggers import TRIGGERS_PATH, TriggerCase, TriggersError, dump_cases, parse_cases
from skillstudio.errors import SkillStudioError

MAX_NAME_LENGTH = 64  # Agent Skills spec
MAX_DESCRIPTION_LENGTH = 1024  # Agent Skills spec
INITIAL_VERSION = "0.1.0"
DEFAULT_TEMPLATE = "basic"
_NAME_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PLACEHOLDER_NAME = "{{name}}"
_PLACEHOLDER_DESCRIPTION = "{{description}}"
_SKIP = {".DS_Store", "Thumbs.db", "__pycache__"}

_BUILTIN_SKILL_MD = """---
name: {{name}}
description: {{description}}
metadata:
  version: "0.1.0"
---

# {{name}}

## When to use this skill
Describe the requests this skill handles, and the near misses it must leave to other skills.

## Instructions
1. Write the steps the agent follows, one per line.
2. Say which files in this bundle it should read or run, and when.

## Output
Describe what a good answer looks like.
"""

TRIGGERS_HEADER = (
    "# Trigger cases: prompts that should load this skill (expect: trigger) and near misses that\n"
    "# must not (expect: no_trigger). Aim for at least 8 of each.\n"
)


class ScaffoldError(SkillStudioError):
    """A new skill cannot be created as asked (bad name, existing folder, broken template)."""


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    summary: str
    path: Path | None  # None: the built-in minimal template


BUILTIN = Template(DEFAULT_TEMPLATE, "Basic skill",
                   "SKILL.md with the usual sections and an empty set of trigger cases.", None)


def templates_dir() -> Path:
    return resources.resource_path("templates")


def list_templates(root: Path | None = None) -> list[Template]:
    """Templates from index.yaml (in its order), then any other template folder; never empty."""
    root = templates_dir() if root is None else root
    found: dict[str, Template] = {}
    for entry in _read_index(root / "index.yaml"):
        folder = root / entry["id"]
        if (folder / "SKILL.md").is_file():
            found[entry["id"]] = Template(entry["id"], entry.get("title") or entry["id"],
                                          entry.get("summary") or "", folder)
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            if folder.name not in found and (folder / "SKILL.md").is_file():
                found[folder.name] = Template(folder.name, folder.name.replace("-", " ").capitalize(), "", folder)
    if DEFAULT_TEMPLATE not in found:
        return [BUILTIN, *found.values()]
    return list(found.values())


def _read_index(path: Path) -> list[dict[str, str]]:
    """Entries of index.yaml: a list, or a mapping with a `templates` list; bad files are ignored."""
    try:
        data = safeyaml.safe_load(read_text_file(path, 1 << 20, root=path.parent))
    except (OSError, ValueError, yaml.YAMLError):  # ValueError: not UTF-8, a link out, a FIFO
        return []
    if isinstance(data, dict):
        data = data.get("templates")
    if not isinstance(data, list):
        return []
    out = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("id"), str) and re.fullmatch(r"[\w.-]+", item["id"]):
            out.append({k: str(v).strip() for k, v in item.items() if v is not None})
    return out


def find_template(template_id: str, root: Path | None = None) -> Template:
    for t in list_templates(root):
        if t.id == template_id:
            return t
    known = ", ".join(t.id for t in list_templates(root))
    raise ScaffoldError(f"unknown template {template_id!r}", f"choose one of: {known}")


# --------------------------------------------------------------------------------------- names

def name_problem(name: str) -> str | None:
    """Why `name` cannot be a new skill's name (None when it can). ASCII only, as runtimes expect."""
    if not name:
        return "Enter a name."
    if len(name) > MAX_NAME_LENGTH:
        return f"The name is {len(name)} characters; the limit is {MAX_NAME_LENGTH}."
    if name != name.lower():
        return "Use lowercase letters only."
    if name.startswith("-") or name.endswith("-"):
        return "The name cannot start or end with a hyphen."
    if "--" in name:
        return "The name cannot contain two hyphens in a row."
    if not _NAME_RE.match(name):
        return "Use only lowercase letters a-z, digits and hyphens."
    return None


def normalize_name(text: str) -> str:
    """A valid name close to what the user typed: 'My CRM Query!' -> 'my-crm-query'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return name[:MAX_NAME_LENGTH].rstrip("-")


def description_problem(description: str) -> str | None:
    text = description.strip()
    if not text:
        return "Enter a description: it is what the model reads to decide when to use the skill."
    if len(text) > MAX_DESCRIPTION_LENGTH:
        return f"The description is {len(text)} characters; the limit is {MAX_DESCRIPTION_LENGTH}."
    return None


# ------------------------------------------------------------------------------------- rendering

def render_skill_md(template_text: str, name: str, description: str) -> str:
    """The template's SKILL.md with name, description and metadata.version filled in, YAML-safe."""
    text = template_text.replace(_PLACEHOLDER_NAME, name)
    try:
        text = skillmd.set_field(text, "name", name)
        text = skillmd.set_field(text, "description", description)
        text = skillmd.set_metadata(text, "version", INITIAL_VERSION)
        sp = skillmd.split(text)
        if _PLACEHOLDER_DESCRIPTION in sp.fm_text:
            raise ScaffoldError("the template uses {{description}} outside the description field",
                                "put {{description}} only in the description field or the body")
        text = text.replace(_PLACEHOLDER_DESCRIPTION, description)
        skillmd.load_front_matter(text)
    except skillmd.FrontMatterError as exc:
        raise ScaffoldError(f"the template's SKILL.md is broken: {exc}",
                            "fix the template's front matter, or choose another template") from None
    return text


def _render_text(raw: bytes, name: str, description: str) -> bytes:
    """Placeholders in other text files; binary or non-UTF-8 files are copied unchanged."""
    if b"\x00" in raw[:8192]:
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    return text.replace(_PLACEHOLDER_NAME, name).replace(_PLACEHOLDER_DESCRIPTION, description).encode("utf-8")


def _triggers_text(template_dir: Path | None, name: str, description: str,
                   cases: list[TriggerCase]) -> str:
    """The user's cases (under the template's leading comment), else the template's own example cases."""
    src = template_dir / TRIGGERS_PATH if template_dir is not None else None
    text = ""
    if src is not None and src.is_file():
        text = _render_text(src.read_bytes(), name, description).decode("utf-8", "replace")
    if cases:
        header = "".join(itertools.takewhile(lambda line: line.startswith("#"), text.splitlines(keepends=True)))
        return (header or TRIGGERS_HEADER) + dump_cases(cases)
    if text:
        try:
            parse_cases(text)
        except TriggersError as exc:
            raise ScaffoldError(f"the template's trigger cases are broken: {exc}",
                                "fix the template, or choose another template") from None
        return text
    return TRIGGERS_HEADER + "cases: []\n"


def create_skill(workspace: Path, name: str, description: str, template_id: str = DEFAULT_TEMPLATE,
                 cases: Iterable[TriggerCase] = (), templates_root: Path | None = None) -> Path:
    """Create `<workspace>/<name>/` from a template and return its path.

    The skill is built in a temporary folder inside the workspace and renamed into place, so a failure
    never leaves a half-made skill behind; each file is written with fsync (atomic_write).
    """
    workspace = Path(workspace)
    problem = name_problem(name)
    if problem:
        raise ScaffoldError(f"invalid skill name {name!r}: {problem}",
                            f"try {normalize_name(name)!r}" if normalize_name(name) else "")
    problem = description_problem(description)
    if problem:
        raise ScaffoldError(problem, "describe what the skill does and when not to use it")
    description = description.strip()
    if not workspace.is_dir():
        raise ScaffoldError(f"workspace folder not found: {workspace}", "create the folder or pick another one")
    target = workspace / name
    if target.exists():
        raise ScaffoldError(f"{target} already exists", "choose another name")
    template = find_template(template_id, templates_root)
    case_list = list(cases)

    skill_md = render_skill_md(
        template.path.joinpath("SKILL.md").read_text(encoding="utf-8") if template.path else _BUILTIN_SKILL_MD,
        name, description)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".new", dir=workspace))
    try:
        if template.path is not None:
            for src in sorted(template.path.rglob("*")):
                rel = src.relative_to(template.path)
                if src.is_dir() or src.is_symlink() or any(part in _SKIP for part in rel.parts):
                    continue
                if rel.as_posix() in ("SKILL.md", TRIGGERS_PATH.as_posix()):
                    continue
                atomic_write(staging / rel, _render_text(src.read_bytes(), name, description))
                shutil.copymode(src, staging / rel)
        atomic_write(staging / "SKILL.md", skill_md)
        atomic_write(staging / TRIGGERS_PATH, _triggers_text(template.path, name, description, case_list))
        staging.chmod(0o755)
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ScaffoldError(f"cannot create {target}: {exc.strerror or exc}",
                            "check that the workspace is writable") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
