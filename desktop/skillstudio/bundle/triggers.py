"""Trigger cases: `evals/triggers.yaml` (our format, see CONTRACT) and skill-creator eval sets.

A case is a prompt and what should happen (`expect: trigger | no_trigger`), with optional fields:
`why` (shown in reports), `route_to` (where a near miss belongs: a skill name, or `none`), and a
fixture seeded into the run's data folder — `files` (a small inline map path → text) or `fixture`
(a folder of the skill). Fixtures are data from the workspace, so they are bounded and must stay
inside the skill: no absolute paths, no `..`, no symbolic link on the way.

Parsing never raises anything but TriggersError, whose message says where and what is wrong.
Other formats (skill-creator JSON and its variants) live in case_formats.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import Any, Literal, cast

import yaml

from skillstudio.bundle import safeyaml
from skillstudio.bundle.fileio import UnreadableFile, read_text_file, why_unreadable

TRIGGERS_PATH = Path("evals") / "triggers.yaml"
Expect = Literal["trigger", "no_trigger"]
ROUTE_NONE = "none"
MAX_TRIGGERS_BYTES = 2 * 1024 * 1024  # a triggers.yaml of 2 MB holds ~10,000 cases
MAX_FILES_PER_CASE = 50
MAX_FILES_BYTES = 256 * 1024  # inline fixture text per case; larger data belongs in a `fixture:` folder
_ROUTE = re.compile(r"^[^\s/\\]{1,64}$")
KNOWN_FIELDS = ("prompt", "expect", "why", "route_to", "files", "fixture")


class TriggerCase:
    """One case. A plain class, not a pydantic model (pydantic was a quarter of a one-skill `validate`);
    unknown fields are kept in `model_extra` (the name pydantic gives them) and written back as they were."""

    __slots__ = ("prompt", "expect", "why", "route_to", "files", "fixture", "model_extra")
    _FIELDS = ("prompt", "expect", "why", "route_to", "files", "fixture")

    def __init__(self, prompt: str, expect: Expect | str, why: str | None = None, route_to: str | None = None,
                 files: dict[str, str] | None = None, fixture: str | None = None, **extra: Any) -> None:
        if not isinstance(prompt, str) or not prompt:
            raise ValueError("a case needs a non-empty 'prompt' string")
        if expect not in ("trigger", "no_trigger"):
            raise ValueError(f"'expect' must be 'trigger' or 'no_trigger', not {expect!r}")
        self.prompt = prompt
        self.expect: Expect = cast(Expect, expect)  # checked just above
        self.why = why
        self.route_to = route_to
        self.files = files
        self.fixture = fixture
        self.model_extra: dict[str, Any] = extra

    def _values(self) -> tuple[Any, ...]:
        return (*(getattr(self, f) for f in self._FIELDS), self.model_extra)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable, like the model it replaces

    def __repr__(self) -> str:
        shown = [f"{f}={getattr(self, f)!r}" for f in self._FIELDS if getattr(self, f) is not None]
        shown += [f"{k}={v!r}" for k, v in self.model_extra.items()]
        return f"TriggerCase({', '.join(shown)})"

    def model_dump(self, mode: str = "python", exclude_defaults: bool = False) -> dict[str, Any]:
        """The fields (and unknown ones) as a dict; `exclude_defaults` leaves out the ones still None;
        mode "json" makes values JSON-safe (a YAML date becomes its ISO text)."""
        out = {f: getattr(self, f) for f in self._FIELDS}
        if exclude_defaults:
            out = {k: v for k, v in out.items() if k in ("prompt", "expect") or v is not None}
        out.update(self.model_extra)
        if mode == "json":
            out = {k: _json_safe(v) for k, v in out.items()}
        return out


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else str(value)


class TriggersError(ValueError):
    pass


def check_relative(path: Any, what: str) -> str:
    """A relative POSIX path that stays where it is put (no absolute path, no '..'); else ValueError."""
    if not isinstance(path, str) or not path.strip():
        raise ValueError(f"{what} must be a non-empty relative path")
    if "\\" in path or "\x00" in path:
        raise ValueError(f"{what} {path!r}: write it with '/' and no special characters")
    p = PurePosixPath(path)
    if p.is_absolute() or re.match(r"^[A-Za-z]:", path):
        raise ValueError(f"{what} {path!r} must be relative")
    if any(part == ".." for part in p.parts):
        raise ValueError(f"{what} {path!r} must not contain '..'")
    parts = [part for part in p.parts if part != "."]
    if not parts:
        raise ValueError(f"{what} {path!r} names no file")
    return "/".join(parts)


def _route(value: Any) -> str:
    if value is None:
        return ROUTE_NONE
    if not isinstance(value, str) or not _ROUTE.match(value.strip()):
        raise ValueError(f"'route_to' must be a skill name or 'none', not {value!r}")
    return value.strip()


def _files(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValueError("'files' must be a mapping of relative path -> text (use 'fixture:' for a folder)")
    if len(value) > MAX_FILES_PER_CASE:
        raise ValueError(f"'files' has {len(value)} entries; the limit is {MAX_FILES_PER_CASE} "
                         "(put larger fixtures in a folder and use 'fixture:')")
    out: dict[str, str] = {}
    total = 0
    for k, v in value.items():
        rel = check_relative(k, "a 'files' path")
        if v is None:
            v = ""
        if not isinstance(v, (str, int, float, bool)):
            raise ValueError(f"'files' entry {rel!r} must be text")
        text = v if isinstance(v, str) else str(v)
        total += len(text.encode("utf-8"))
        if total > MAX_FILES_BYTES:
            raise ValueError(f"'files' holds over {MAX_FILES_BYTES // 1024} KB of text; put it in a folder and "
                             "use 'fixture:'")
        if rel in out:
            raise ValueError(f"'files' names {rel!r} twice")
        out[rel] = text
    return out


def make_case(item: dict[str, Any], where: str) -> TriggerCase:
    """One case from a mapping in our format (`where` prefixes every message)."""
    prompt, expect = item.get("prompt"), item.get("expect")
    if not isinstance(prompt, str) or not prompt.strip():
        raise TriggersError(f"{where} needs a non-empty 'prompt' string")
    if expect not in ("trigger", "no_trigger"):
        raise TriggersError(f"{where}: 'expect' must be 'trigger' or 'no_trigger', not {expect!r}")
    why = item.get("why")
    extra = {k: v for k, v in item.items() if k not in KNOWN_FIELDS}
    try:
        route = _route(item["route_to"]) if "route_to" in item else None
        files = _files(item["files"]) if item.get("files") is not None else None
        fixture = check_relative(item["fixture"], "'fixture'") if item.get("fixture") is not None else None
    except ValueError as exc:
        raise TriggersError(f"{where}: {exc}") from None
    return TriggerCase(prompt=prompt, expect=expect, why=None if why is None else str(why), route_to=route,
                       files=files, fixture=fixture, **extra)


def load_yaml(text: str, source: str) -> Any:
    """`text` as bounded YAML (see safeyaml), or TriggersError "<source>: invalid YAML: ... (line N)"."""
    try:
        return safeyaml.safe_load(text)
    except yaml.YAMLError as exc:
        what, line = safeyaml.problem(exc)
        where = f" (line {line})" if line else ""
        raise TriggersError(f"{source}: invalid YAML: {what}{where}") from None


def parse_cases(text: str, source: str = "triggers.yaml") -> list[TriggerCase]:
    data = load_yaml(text, source)
    if data is None:
        return []
    if isinstance(data, list) or (isinstance(data, dict) and "cases" not in data and
                                  isinstance(data.get("evals"), list)):
        from skillstudio.bundle.case_formats import import_data

        return import_data(data, source)  # a skill-creator eval set saved as YAML, or a bare list
    if not isinstance(data, dict) or not isinstance(data.get("cases", []), list):
        raise TriggersError(f"{source}: expected a mapping with a 'cases' list")
    return [_case(item, i, source) for i, item in enumerate(data.get("cases") or [])]


def _case(item: Any, i: int, source: str) -> TriggerCase:
    if not isinstance(item, dict):
        raise TriggersError(f"{source}: case {i + 1} must be a mapping with 'prompt' and 'expect'")
    if "expect" not in item and ("should_trigger" in item or "query" in item):
        from skillstudio.bundle.case_formats import import_data

        return import_data([item], f"{source}: case {i + 1}")[0]
    return make_case(item, f"{source}: case {i + 1}")


def import_skill_creator(data: Any, source: str = "eval set") -> list[TriggerCase]:
    """Anthropic skill-creator eval sets: `[{"query": "...", "should_trigger": true}]` (and variants)."""
    from skillstudio.bundle.case_formats import import_data

    return import_data(data, source)


def import_skill_creator_file(path: Path) -> list[TriggerCase]:
    from skillstudio.bundle.case_formats import read_cases_file

    return read_cases_file(path)


def case_dict(c: TriggerCase) -> dict[str, Any]:
    """A case as our YAML writes it: prompt, expect, why, route_to, files/fixture, then anything else."""
    d: dict[str, Any] = {"prompt": c.prompt, "expect": c.expect}
    if c.why:
        d["why"] = c.why
    if c.route_to is not None:
        d["route_to"] = c.route_to
    if c.files is not None:
        d["files"] = dict(c.files)
    if c.fixture is not None:
        d["fixture"] = c.fixture
    d.update(c.model_extra or {})
    return d


def extra_fields(c: TriggerCase) -> dict[str, Any]:
    """Everything on a case but prompt/expect/why (route_to, files, fixture, unknown fields), for editors
    that show those three and must write the rest back unchanged."""
    return {k: v for k, v in case_dict(c).items() if k not in ("prompt", "expect", "why")}


def dump_cases(cases: list[TriggerCase]) -> str:
    """Our YAML format, stable and readable (prompt, expect, why, … in that order)."""
    return yaml.safe_dump({"cases": [case_dict(c) for c in cases]}, sort_keys=False, allow_unicode=True,
                          width=100)


def fixture_dir(skill_dir: Path, case: TriggerCase) -> Path | None:
    """The folder a case's `fixture:` names, checked to be a real folder inside the skill (no
    symbolic link anywhere on the way); None when the case has none. Raises TriggersError."""
    if case.fixture is None:
        return None
    skill_dir = Path(skill_dir)
    try:
        rel = check_relative(case.fixture, "'fixture'")
    except ValueError as exc:
        raise TriggersError(str(exc)) from None
    cur = skill_dir
    for part in rel.split("/"):
        cur = cur / part
        if cur.is_symlink():
            raise TriggersError(f"fixture {case.fixture!r}: {cur.relative_to(skill_dir).as_posix()} is a symbolic "
                                "link; a fixture must be a folder inside the skill")
    if not cur.is_dir():
        raise TriggersError(f"fixture {case.fixture!r} is not a folder of the skill")
    real_skill, real = os.path.realpath(skill_dir), os.path.realpath(cur)
    if os.path.commonpath([real_skill, real]) != real_skill:
        raise TriggersError(f"fixture {case.fixture!r} leaves the skill folder")
    return cur


def read_cases_text(skill_dir: Path) -> str | None:
    """The text of the skill's evals/triggers.yaml (None when it has none), read as every reader of it
    does (the CLI, validation, the cases editor): a regular file inside the skill, bounded; else TriggersError."""
    path = Path(skill_dir) / TRIGGERS_PATH
    if not os.path.lexists(path):
        return None
    try:
        return read_text_file(path, MAX_TRIGGERS_BYTES, root=Path(skill_dir))
    except (UnreadableFile, OSError) as exc:
        raise TriggersError(f"{TRIGGERS_PATH.as_posix()} is {why_unreadable(exc)}") from None


def load_cases(skill_dir: Path) -> list[TriggerCase]:
    text = read_cases_text(skill_dir)
    if text is None:
        return []
    cases = parse_cases(text, TRIGGERS_PATH.as_posix())
    for i, c in enumerate(cases):
        if c.fixture is not None:
            try:
                fixture_dir(skill_dir, c)
            except TriggersError as exc:
                raise TriggersError(f"{TRIGGERS_PATH.as_posix()}: case {i + 1}: {exc}") from None
    return cases
