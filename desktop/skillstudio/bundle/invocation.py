"""Who may invoke a skill: explicit-only skills, as their authors declare them.

Two declarations make a skill explicit-only (the user must name it; the model never picks it by
itself): Claude Code's front-matter field `disable-model-invocation: true`, and Codex's
`agents/openai.yaml` `policy.allow_implicit_invocation: false`. Trigger testing honours both
(CONTRACT): such a skill is not offered for implicit selection, and its `trigger` cases are
reported as explicit-only, not as misses. Qt-free; the evals layer calls `allows_implicit` when it
builds the offered catalog and `is_explicit_only_case` when it labels outcomes.
"""

from __future__ import annotations

from typing import Any

from skillstudio.bundle import openai_yaml
from skillstudio.bundle.model import Skill
from skillstudio.bundle.triggers import TriggerCase

CLAUDE_FIELD = "disable-model-invocation"
EXPLICIT_ONLY = "explicit_only"  # the outcome label of a trigger case of an explicit-only skill


def _true(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.strip().lower() == "true")


def explicit_only_reasons(skill: Skill) -> list[str]:
    """Why `skill` is explicit-only, one short phrase per declaration (empty: it is not)."""
    out = []
    raw = skill.raw_frontmatter or {}
    if _true(raw.get(CLAUDE_FIELD)):
        out.append(f"{CLAUDE_FIELD}: true in {skill.skill_md.name if skill.skill_md else 'SKILL.md'} (Claude Code)")
    meta = openai_yaml.read(skill.path) if skill.path.is_dir() else None
    if meta is not None and meta.usable and meta.allow_implicit_invocation is False:
        out.append(f"policy.allow_implicit_invocation: false in {openai_yaml.OPENAI_YAML} (Codex)")
    return out


def allows_implicit(skill: Skill) -> bool:
    """True when a model may pick `skill` by itself, so it belongs in the catalog offered to it."""
    return not explicit_only_reasons(skill)


def is_explicit_only_case(skill: Skill, case: TriggerCase) -> bool:
    """A `trigger` case of an explicit-only skill: reported as explicit-only, never as a miss."""
    return case.expect == "trigger" and not allows_implicit(skill)
