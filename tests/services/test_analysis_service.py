"""services.analysis: the live check behind the editor's problems panel and token meter (Qt-free)."""

from __future__ import annotations

from pathlib import Path

from skillstudio.bundle import skillmd, tokens
from skillstudio.bundle.workspace import load_workspace
from skillstudio.services.analysis import build_context, check_text


def test_check_text_validates_and_counts_the_buffer_not_the_file(example_workspace: Path) -> None:
    ws = load_workspace(example_workspace)
    skill_dir = example_workspace / "crm-query"
    ctx = build_context(skill_dir, ws)
    disk = (skill_dir / "SKILL.md").read_text(encoding="utf-8")
    clean = check_text(ctx, disk)
    assert not [p for p in clean.problems if p.severity == "error"] and clean.error is None
    t = clean.tokens
    me = ws.skill("crm-query")
    assert t.always_loaded == tokens.count(me.name) + tokens.count(me.description)
    assert t.body == tokens.count(me.body) and t.total > t.body > t.always_loaded > 0
    assert t.catalog_chars == sum(len(s.name) + len(s.description) for s in ws.skills)

    longer = skillmd.set_field(disk, "description", me.description + " Also for forecasts.")
    edited = check_text(ctx, longer)
    assert edited.tokens.catalog_chars == t.catalog_chars + len(" Also for forecasts.")
    assert edited.frontmatter is not None and edited.frontmatter.description.endswith("forecasts.")

    broken = check_text(ctx, disk.replace("name: crm-query", "name: CRM Query", 1))
    errors = [p for p in broken.problems if p.severity == "error"]
    assert errors and all(p.line == 2 for p in errors if p.code.startswith("spec.name"))
    assert (skill_dir / "SKILL.md").read_text(encoding="utf-8") == disk  # nothing written


def test_unreadable_front_matter_is_reported_with_its_line(example_workspace: Path) -> None:
    ctx = build_context(example_workspace / "crm-query", None)
    result = check_text(ctx, "---\nname: crm-query\ndescription: use: when\n---\nbody\n")
    assert result.frontmatter is None and result.parse_error and result.parse_error_line == 3
    assert any(p.severity == "error" for p in result.problems)
