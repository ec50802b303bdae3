"""Trigger cases in the formats users already have, both ways (`skillstudio cases import/export`).

Anthropic's skill-creator writes trigger eval sets as `[{"query": ..., "should_trigger": true}]`.
Real repositories vary it, and every variant below is read:
- `prompt` or `request` instead of `query`; our own `expect: trigger|no_trigger` in place of
  `should_trigger`;
- `expected_skill`: where a near miss belongs (`null` = no skill) → our `route_to`;
- `id` kept as is; `notes`/`note`/`reason`/`rationale` kept as `why`;
- an object around the list: `{"cases": [...]}`, `{"evals": [...]}`, `{"skill_name": ..., "evals": [...]}`;
- any other field (e.g. `expected_tools`) is kept on the case and written back on export.
A skill-creator *output* eval set (`evals.json`: prompt + expected_output, no should_trigger) is
not a trigger set; importing one says so.

Qt-free and I/O-light so the services layer, the CLI and the app share it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from skillstudio.bundle.fileio import UnreadableFile, atomic_write, read_text_file, why_unreadable
from skillstudio.bundle.triggers import (
    MAX_TRIGGERS_BYTES,
    ROUTE_NONE,
    TRIGGERS_PATH,
    TriggerCase,
    TriggersError,
    case_dict,
    dump_cases,
    load_cases,
    load_yaml,
    make_case,
    read_cases_text,
)
from skillstudio.bundle.triggers_edit import edit_cases

ExportFormat = Literal["skill-creator", "yaml"]
EXPORT_FORMATS: tuple[str, ...] = ("skill-creator", "yaml")
_PROMPT_KEYS = ("query", "prompt", "request")
_WHY_KEYS = ("why", "notes", "note", "reason", "rationale")
_WRAPPERS = ("cases", "evals", "queries", "trigger_evals")


def _unwrap(data: Any, source: str) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in _WRAPPERS:
            if isinstance(data.get(key), list):
                return list(data[key])
    raise TriggersError(f"{source}: expected a JSON list of cases ([{{query, should_trigger}}, ...]) or an object "
                        "with a 'cases' or 'evals' list")


def _item(item: Any, i: int, source: str, skill_name: str | None) -> TriggerCase:
    where = f"{source}: item {i + 1}"
    if not isinstance(item, dict):
        raise TriggersError(f"{where} must be an object with 'query' and 'should_trigger'")
    keys = [k for k in _PROMPT_KEYS if k in item]
    if len(keys) > 1:
        raise TriggersError(f"{where} has both {keys[0]!r} and {keys[1]!r}; keep one")
    prompt = item.get(keys[0]) if keys else None
    if not isinstance(prompt, str) or not prompt.strip():
        raise TriggersError(f"{where} needs a non-empty 'query' (or 'prompt') string")
    if "expect" in item and "should_trigger" not in item:
        expect = item["expect"]
    else:
        st = item.get("should_trigger")
        if "should_trigger" not in item and "expected_output" in item:
            raise TriggersError(f"{where} has 'expected_output' but no 'should_trigger': this is a skill-creator "
                                "output eval set (evals.json), not a trigger eval set")
        if not isinstance(st, bool):
            raise TriggersError(f"{where}: 'should_trigger' must be true or false, not {st!r}")
        expect = "trigger" if st else "no_trigger"
    why_keys = [k for k in _WHY_KEYS if item.get(k) not in (None, "")]
    out: dict[str, Any] = {"prompt": prompt, "expect": expect}
    if why_keys:
        out["why"] = str(item[why_keys[0]])
    if "expected_skill" in item:
        target = item["expected_skill"]
        if expect == "no_trigger":
            out["route_to"] = ROUTE_NONE if target in (None, "") else target
        elif target not in (None, "") and skill_name is not None and target != skill_name:
            raise TriggersError(f"{where}: should_trigger is true but expected_skill is {target!r}, not "
                                f"{skill_name!r}; import it into that skill instead")
        elif target not in (None, "") and skill_name is None:
            out["route_to"] = target  # without the skill's name it cannot be judged: kept as written
    if "route_to" in item:
        out["route_to"] = item["route_to"]
    for k, v in item.items():
        if k in (*_PROMPT_KEYS, "should_trigger", "expect", "expected_skill", "route_to", *why_keys[:1]):
            continue
        if k in _WHY_KEYS and v in (None, ""):
            continue
        out[k] = v
    if isinstance(out.get("files"), list):
        raise TriggersError(f"{where}: 'files' is a list of paths; trigger cases take a map of path -> text, or "
                            "'fixture: <folder of the skill>'")
    return make_case(out, where)


def import_data(data: Any, source: str = "eval set", skill_name: str | None = None) -> list[TriggerCase]:
    """Cases from parsed JSON/YAML in any of the formats above; TriggersError on anything else."""
    return [_item(item, i, source, skill_name) for i, item in enumerate(_unwrap(data, source))]


def read_cases_file(path: Path, skill_name: str | None = None) -> list[TriggerCase]:
    """Cases from a JSON or YAML file in any supported format (size-bounded)."""
    path = Path(path)
    if not path.exists():
        raise TriggersError(f"{path}: no such file")
    try:
        text = read_text_file(path.resolve(), MAX_TRIGGERS_BYTES)  # the file the user named, links resolved
    except (UnreadableFile, OSError) as exc:
        raise TriggersError(f"{path.name} is {why_unreadable(exc)}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if path.suffix.lower() == ".json":
            raise TriggersError(f"{path.name}: invalid JSON (line {exc.lineno}): {exc.msg}") from None
        data = load_yaml(text, path.name)
    if isinstance(data, dict) and isinstance(data.get("cases"), list) and not isinstance(data.get("evals"), list):
        items = data["cases"]
        if all(isinstance(x, dict) and "expect" in x for x in items):  # our own YAML format
            return [make_case(x, f"{path.name}: case {i + 1}") for i, x in enumerate(items)]
    return import_data(data, path.name, skill_name)


def export_cases(cases: list[TriggerCase], fmt: str) -> str:
    """Cases as text: `yaml` is our triggers.yaml; `skill-creator` is its JSON eval set."""
    if fmt == "yaml":
        return dump_cases(cases)
    if fmt != "skill-creator":
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(EXPORT_FORMATS)}")
    out = []
    for c in cases:
        d = case_dict(c)
        item: dict[str, Any] = {"query": d.pop("prompt"), "should_trigger": d.pop("expect") == "trigger"}
        if "route_to" in d:
            route = d.pop("route_to")
            item["expected_skill"] = None if route == ROUTE_NONE else route
        if "why" in d:
            item["notes"] = d.pop("why")
        item.update(d)
        out.append(item)
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"


@dataclass
class ImportReport:
    path: Path  # the triggers.yaml written
    added: int = 0
    duplicates: int = 0  # prompts already in the skill, left as they were
    replaced: int = 0  # cases removed by replace=True
    notes: list[str] = field(default_factory=list)


def _skill_name(skill_dir: Path) -> str:
    from skillstudio.bundle.model import load_skill

    return load_skill(skill_dir, with_files=False).name


def import_into_skill(source: Path, skill_dir: Path, *, replace: bool = False) -> ImportReport:
    """Read an eval set and write its cases into the skill's evals/triggers.yaml (merged by prompt
    unless `replace`). Refuses to write through a symbolic link or over a broken file."""
    skill_dir = Path(skill_dir)
    from skillstudio.bundle.model import find_skill_md

    if not skill_dir.is_dir() or find_skill_md(skill_dir) is None:
        raise TriggersError(f"{skill_dir}: not a skill folder (no SKILL.md)")
    incoming = read_cases_file(source, _skill_name(skill_dir))
    target = skill_dir / TRIGGERS_PATH
    for p in (skill_dir / TRIGGERS_PATH.parent, target):
        if p.is_symlink():
            raise TriggersError(f"{p.relative_to(skill_dir).as_posix()} is a symbolic link: not written through")
    report = ImportReport(path=target)
    existing: list[TriggerCase] = []
    old_text: str | None = None
    if target.exists():
        if replace:
            try:
                report.replaced = len(load_cases(skill_dir))
            except TriggersError:
                report.replaced = 0
        else:
            old_text = read_cases_text(skill_dir)
            existing = load_cases(skill_dir)  # a broken file stops here: never overwrite what we cannot read
    seen = {c.prompt.strip() for c in existing}
    merged = list(existing)
    for c in incoming:
        key = c.prompt.strip()
        if key in seen:
            report.duplicates += 1
            continue
        seen.add(key)
        merged.append(c)
        report.added += 1
    # in place: the existing cases keep their bytes and comments, new ones follow in the file's own style
    atomic_write(target, edit_cases(old_text, merged) if old_text is not None else dump_cases(merged))
    return report


def export_skill(skill_dir: Path, fmt: str) -> str:
    """The skill's trigger cases in `fmt` (TriggersError when its triggers.yaml is broken or missing)."""
    skill_dir = Path(skill_dir)
    if not (skill_dir / TRIGGERS_PATH).exists():
        raise TriggersError(f"{skill_dir}: no {TRIGGERS_PATH.as_posix()} to export")
    return export_cases(load_cases(skill_dir), fmt)
