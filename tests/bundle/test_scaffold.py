"""scaffold.create_skill: every template renders into a skill that skills-ref accepts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from skills_ref.validator import validate

from skillstudio.bundle import scaffold
from skillstudio.bundle.model import load_skill
from skillstudio.bundle.triggers import TriggerCase, load_cases

DESCRIPTION = ("Drafts replies to customer tickets: refunds, outages, login problems. "
               "Do not use for sales pipeline questions.")


def _all_template_ids() -> list[str]:
    return [t.id for t in scaffold.list_templates()]


@pytest.mark.parametrize("template_id", _all_template_ids())
def test_every_shipped_template_makes_a_valid_skill(tmp_path: Path, template_id: str) -> None:
    path = scaffold.create_skill(tmp_path, "ticket-helper", DESCRIPTION, template_id)
    assert path == tmp_path / "ticket-helper"
    assert validate(path) == []
    skill = load_skill(path)
    assert skill.parse_error is None
    assert skill.name == "ticket-helper"
    assert skill.description == DESCRIPTION
    assert skill.version == "0.1.0"
    assert (path / "evals" / "triggers.yaml").is_file()
    load_cases(path)  # parses
    for f in path.rglob("*"):
        if f.is_file() and f.suffix in (".md", ".yaml", ".txt", ".py", ".sh", ".j2", ".json"):
            text = f.read_text(encoding="utf-8")
            assert "{{name}}" not in text and "{{description}}" not in text, f
    # nothing left over from the staging folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ticket-helper"]


def test_builtin_template_when_resources_are_missing(tmp_path: Path) -> None:
    empty = tmp_path / "no-templates"
    empty.mkdir()
    ws = tmp_path / "ws"
    ws.mkdir()
    assert [t.id for t in scaffold.list_templates(empty)] == ["basic"]
    path = scaffold.create_skill(ws, "minimal", DESCRIPTION, templates_root=empty)
    assert validate(path) == []
    text = (path / "SKILL.md").read_text(encoding="utf-8")
    assert text.startswith("---\nname: minimal\n")
    assert "# minimal" in text
    assert load_cases(path) == []


def test_description_with_yaml_specials_is_quoted(tmp_path: Path) -> None:
    desc = 'Use for "Q3: pipeline" reviews #1; it\'s a: test. Do not use for support.'
    path = scaffold.create_skill(tmp_path, "tricky", desc)
    assert validate(path) == []
    assert load_skill(path).description == desc


def test_cases_are_written_in_our_format(tmp_path: Path) -> None:
    cases = [TriggerCase(prompt="Refund order 123", expect="trigger"),
             TriggerCase(prompt="Show the Q3 pipeline", expect="no_trigger", why="crm-query's job")]
    path = scaffold.create_skill(tmp_path, "with-cases", DESCRIPTION, cases=cases)
    assert load_cases(path) == cases
    assert (path / "evals" / "triggers.yaml").read_text(encoding="utf-8").startswith("# ")  # the guidance stays
    data = yaml.safe_load((path / "evals" / "triggers.yaml").read_text(encoding="utf-8"))
    assert data["cases"][1] == {"prompt": "Show the Q3 pipeline", "expect": "no_trigger", "why": "crm-query's job"}


def test_custom_template_files_are_rendered_and_modes_kept(tmp_path: Path) -> None:
    root = tmp_path / "templates"
    tpl = root / "scripted"
    (tpl / "scripts").mkdir(parents=True)
    (tpl / "evals").mkdir()
    (tpl / "SKILL.md").write_text('---\nname: {{name}}\ndescription: "{{description}}"\n---\n# {{name}}\n'
                                  "{{description}}\n", encoding="utf-8")
    script = tpl / "scripts" / "run.sh"
    script.write_text("#!/bin/sh\necho {{name}}\n", encoding="utf-8")
    script.chmod(0o755)
    (tpl / "assets").mkdir()
    (tpl / "assets" / "logo.bin").write_bytes(b"\x00\x01{{name}}")
    (tpl / "evals" / "triggers.yaml").write_text(
        "cases:\n  - prompt: run {{name}}\n    expect: trigger\n", encoding="utf-8")
    (root / "index.yaml").write_text(
        "templates:\n  - id: scripted\n    title: With a script\n    summary: Runs a shell script.\n",
        encoding="utf-8")
    ws = tmp_path / "ws"
    ws.mkdir()
    listed = scaffold.list_templates(root)
    assert [(t.id, t.title) for t in listed] == [("basic", "Basic skill"), ("scripted", "With a script")]
    path = scaffold.create_skill(ws, "runner", "Runs things: fast. Do not use for walking.", "scripted",
                                 templates_root=root)
    assert validate(path) == []
    assert (path / "scripts" / "run.sh").read_text() == "#!/bin/sh\necho runner\n"
    assert os.access(path / "scripts" / "run.sh", os.X_OK)
    assert (path / "assets" / "logo.bin").read_bytes() == b"\x00\x01{{name}}"  # binary: unchanged
    assert load_cases(path)[0].prompt == "run runner"
    text = (path / "SKILL.md").read_text(encoding="utf-8")
    assert 'description: "Runs things: fast. Do not use for walking."' in text
    assert text.endswith("# runner\nRuns things: fast. Do not use for walking.\n")
    assert 'version: "0.1.0"' in text


@pytest.mark.parametrize(("name", "fragment"), [
    ("", "Enter a name"), ("My-Skill", "lowercase"), ("-x", "hyphen"), ("a--b", "two hyphens"),
    ("a_b", "only lowercase"), ("x" * 65, "limit is 64"), ("café", "only lowercase"),
])
def test_bad_names_are_refused_with_a_suggestion(tmp_path: Path, name: str, fragment: str) -> None:
    assert fragment in (scaffold.name_problem(name) or "")
    with pytest.raises(scaffold.ScaffoldError):
        scaffold.create_skill(tmp_path, name, DESCRIPTION)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("typed", "suggested"), [
    ("My CRM Query!", "my-crm-query"), ("  café--au_lait ", "cafe-au-lait"), ("ÄÖÜ 2", "aou-2"), ("***", ""),
])
def test_normalize_name(typed: str, suggested: str) -> None:
    assert scaffold.normalize_name(typed) == suggested
    if suggested:
        assert scaffold.name_problem(suggested) is None


def test_existing_folder_and_unknown_template_are_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    with pytest.raises(scaffold.ScaffoldError, match="already exists"):
        scaffold.create_skill(tmp_path, "taken", DESCRIPTION)
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    with pytest.raises(scaffold.ScaffoldError, match="unknown template"):
        scaffold.create_skill(tmp_path, "fresh", DESCRIPTION, template_id="nope")
    with pytest.raises(scaffold.ScaffoldError, match="description"):
        scaffold.create_skill(tmp_path, "fresh", "   ")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_broken_template_front_matter_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "templates"
    (root / "broken").mkdir(parents=True)
    (root / "broken" / "SKILL.md").write_text("no front matter here\n", encoding="utf-8")
    ws = tmp_path / "ws"
    ws.mkdir()
    with pytest.raises(scaffold.ScaffoldError, match="template's SKILL.md is broken"):
        scaffold.create_skill(ws, "x", DESCRIPTION, "broken", templates_root=root)
    assert list(ws.iterdir()) == []
