"""Trigger cases: `evals/triggers.yaml` (our format, see CONTRACT) and skill-creator JSON imports.

Parsing never raises anything but TriggersError, whose message says where and what is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from skillstudio.bundle import safeyaml
from skillstudio.bundle.fileio import read_text_file

TRIGGERS_PATH = Path("evals") / "triggers.yaml"
Expect = Literal["trigger", "no_trigger"]


class TriggerCase(BaseModel):
    model_config = ConfigDict(extra="allow")

    prompt: str = Field(min_length=1)
    expect: Expect
    why: str | None = None


class TriggersError(ValueError):
    pass


def parse_cases(text: str, source: str = "triggers.yaml") -> list[TriggerCase]:
    try:
        data = safeyaml.load(text)  # libyaml's safe loader: ~20x faster on 1,000-skill workspaces
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
        raise TriggersError(f"{source}: invalid YAML{where}: {problem}") from None
    if data is None:
        return []
    if isinstance(data, list):  # skill-creator eval set saved as YAML, or a bare list of cases
        return import_skill_creator(data, source)
    if not isinstance(data, dict) or not isinstance(data.get("cases", []), list):
        raise TriggersError(f"{source}: expected a mapping with a 'cases' list")
    return [_case(item, i, source) for i, item in enumerate(data.get("cases") or [])]


def _case(item: Any, i: int, source: str) -> TriggerCase:
    if not isinstance(item, dict):
        raise TriggersError(f"{source}: case {i + 1} must be a mapping with 'prompt' and 'expect'")
    if "query" in item and "prompt" not in item:
        return import_skill_creator([item], source)[0]
    prompt, expect = item.get("prompt"), item.get("expect")
    if not isinstance(prompt, str) or not prompt.strip():
        raise TriggersError(f"{source}: case {i + 1} needs a non-empty 'prompt' string")
    if expect not in ("trigger", "no_trigger"):
        raise TriggersError(f"{source}: case {i + 1}: 'expect' must be 'trigger' or 'no_trigger', not {expect!r}")
    why = item.get("why")
    extra = {k: v for k, v in item.items() if k not in ("prompt", "expect", "why")}
    return TriggerCase(prompt=prompt, expect=expect, why=None if why is None else str(why), **extra)


def import_skill_creator(data: Any, source: str = "eval set") -> list[TriggerCase]:
    """Anthropic skill-creator eval sets: `[{"query": "...", "should_trigger": true}]`."""
    if not isinstance(data, list):
        raise TriggersError(f"{source}: expected a JSON list of {{query, should_trigger}} objects")
    cases = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("query"), str) or not item["query"].strip():
            raise TriggersError(f"{source}: item {i + 1} needs a non-empty 'query' string")
        st = item.get("should_trigger")
        if not isinstance(st, bool):
            raise TriggersError(f"{source}: item {i + 1}: 'should_trigger' must be true or false")
        cases.append(TriggerCase(prompt=item["query"], expect="trigger" if st else "no_trigger",
                                 why=item.get("why") or item.get("reason")))
    return cases


def import_skill_creator_file(path: Path) -> list[TriggerCase]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TriggersError(f"{path.name}: not a readable JSON eval set ({exc})") from None
    return import_skill_creator(data, path.name)


def dump_cases(cases: list[TriggerCase]) -> str:
    """Our YAML format, stable and readable (prompt, expect, why in that order)."""
    out: list[dict[str, Any]] = []
    for c in cases:
        d: dict[str, Any] = {"prompt": c.prompt, "expect": c.expect}
        if c.why:
            d["why"] = c.why
        d.update(c.model_extra or {})
        out.append(d)
    return yaml.safe_dump({"cases": out}, sort_keys=False, allow_unicode=True, width=100)


def load_cases(skill_dir: Path) -> list[TriggerCase]:
    path = skill_dir / TRIGGERS_PATH
    if not path.exists():
        return []
    try:
        text = read_text_file(path, root=skill_dir)  # a regular file inside the skill, bounded
    except (OSError, ValueError) as exc:
        raise TriggersError(f"{TRIGGERS_PATH}: cannot read ({exc})") from None
    return parse_cases(text, str(TRIGGERS_PATH))
