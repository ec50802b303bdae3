"""validate.py: target warnings, lint, workspace checks, live validation of editor text, line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillstudio.bundle.model import load_skill
from skillstudio.bundle.specparse import read_front_matter
from skillstudio.bundle.validate import (
    WorkspaceContext,
    is_valid,
    validate_skill,
    validate_text,
    validate_workspace,
)
from skillstudio.bundle.workspace import load_workspace

DESC = "Queries the Salesforce pipeline and accounts. Do not use for support tickets."
TRIGGERS = "cases:\n" + "".join(
    f"  - prompt: \"prompt {i}\"\n    expect: {'trigger' if i < 3 else 'no_trigger'}\n" for i in range(6))


def make(root: Path, name: str = "demo", *, fm: str | None = None, body: str = "# Demo\n\nSteps.\n",
         triggers: str | None = TRIGGERS, files: dict[str, str] | None = None) -> Path:
    d = root / name
    d.mkdir(parents=True)
    front = fm if fm is not None else f"name: {name}\ndescription: {DESC}\nmetadata:\n  version: \"1.0.0\"\n"
    (d / "SKILL.md").write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    if triggers is not None:
        (d / "evals").mkdir()
        (d / "evals" / "triggers.yaml").write_text(triggers, encoding="utf-8")
    for rel, text in (files or {}).items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(text, encoding="utf-8")
    return d


def codes(problems: list) -> set[str]:
    return {p.code for p in problems}


def test_clean_skill_has_no_problems(tmp_path: Path) -> None:
    assert validate_skill(load_skill(make(tmp_path))) == []


def test_example_workspace_is_valid_without_warnings(example_workspace: Path) -> None:
    ws = load_workspace(example_workspace)
    assert len(ws.skills) >= 5
    for skill, problems in zip(ws.skills, validate_workspace(ws.skills), strict=True):
        assert [p for p in problems if p.severity != "info"] == [], (skill.name, [str(p) for p in problems])


def test_unknown_field_error_has_line_and_fix(tmp_path: Path) -> None:
    d = make(tmp_path, fm=f"name: demo\ndescription: {DESC}\nversion: 1.0.0\n")
    (p,) = [p for p in validate_skill(load_skill(d)) if p.severity == "error"]
    assert (p.code, p.line, p.fix) == ("spec.unknown-field", 4, "move-to-metadata")
    assert "version" in p.message and "metadata" in p.message


def test_yaml_error_line_points_at_the_bad_line(tmp_path: Path) -> None:
    d = make(tmp_path, fm="name: demo\nlicense: MIT\ndescription: Use when: the user asks\n")
    (p,) = [p for p in validate_skill(load_skill(d)) if p.severity == "error"]
    assert p.code == "spec.yaml" and p.line == 4 and p.fix == "quote-values"


def test_target_warnings_and_filter(tmp_path: Path) -> None:
    long_desc = "Turns <input> into <output>. Do not use for billing. " + "x " * 120
    d = make(tmp_path, fm=f"name: claude-helper\ndescription: {long_desc}\ncompatibility: needs git\n"
                          "metadata:\n  version: 1.0.0\n")
    problems = validate_skill(load_skill(d).model_copy(update={"path": tmp_path / "claude-helper"}))
    by_target = {(p.code, p.target) for p in problems if p.target}
    assert ("target.codex.compatibility", "codex") in by_target
    assert ("target.claude.angle-brackets", "claude") in by_target
    assert ("target.claude.description-truncated", "claude") in by_target
    assert ("target.claude.reserved-name", "claude") in by_target
    assert all(p.severity == "warning" for p in problems if p.target)
    only_codex = validate_skill(load_skill(d), targets=("codex",))
    assert {p.target for p in only_codex if p.target} == {"codex"}


def test_lint_negative_clause(tmp_path: Path) -> None:
    d = make(tmp_path, fm="name: demo\ndescription: Queries the pipeline for any account.\n"
                          "metadata:\n  version: 1.0.0\n")
    assert "lint.no-negative-clause" in codes(validate_skill(load_skill(d)))
    for ok in ("Not for support tickets.", "Don't use it for refunds.", "Never use for HR data.",
               "Use support-reply instead for tickets."):
        d2 = make(tmp_path / ok[:5].replace(" ", "_").replace("'", ""),
                  fm=f"name: demo\ndescription: Queries the pipeline. {ok}\nmetadata:\n  version: 1.0.0\n")
        assert "lint.no-negative-clause" not in codes(validate_skill(load_skill(d2))), ok


def test_trigger_case_lints(tmp_path: Path) -> None:
    assert "lint.no-trigger-cases" in codes(validate_skill(load_skill(make(tmp_path / "a", triggers=None))))
    few = "cases:\n  - prompt: a\n    expect: trigger\n  - prompt: b\n    expect: no_trigger\n"
    p = [p for p in validate_skill(load_skill(make(tmp_path / "b", triggers=few))) if p.code ==
         "lint.few-negative-cases"]
    assert p and "only 1" in p[0].message and p[0].file == "evals/triggers.yaml"


def test_broken_triggers_file_is_an_error(tmp_path: Path) -> None:
    """Issue 11: a triggers.yaml that `test` refuses makes `validate` fail too (exit 1)."""
    d = make(tmp_path, triggers="cases:\n  - prompt: Use when: x\n    expect: trigger\n")
    problems = validate_skill(load_skill(d))
    (p,) = [p for p in problems if p.code == "triggers.invalid"]
    assert p.severity == "error" and p.file == "evals/triggers.yaml" and p.line == 2
    assert p.message.startswith("invalid YAML")
    assert not is_valid(problems)
    assert [q for q in problems if q.severity == "error"] == [p]  # SKILL.md itself is fine


def test_body_limits(tmp_path: Path) -> None:
    long_body = "\n".join(f"Line {i}." for i in range(600))
    assert "lint.body-long" in codes(validate_skill(load_skill(make(tmp_path / "a", body=long_body))))
    wordy = "supercalifragilistic antidisestablishmentarianism " * 1500  # one line, > 5,000 tokens
    got = codes(validate_skill(load_skill(make(tmp_path / "b", body=wordy))))
    assert "lint.body-tokens" in got and "lint.body-long" not in got


def test_links(tmp_path: Path) -> None:
    body = ("# Demo\n\nSee [ok](references/guide.md), [dir](templates/), [anchor](#steps), [web](https://x.io),\n"
            "[missing](references/nope.md) and ![img](assets/missing.png).\n"
            "[up](../other/SKILL.md) [abs](/etc/passwd) [spaced](<references/my guide.md>)\n"
            "`[code](not/a/link.md)`\n```\n[fenced](also/not.md)\n```\n[ref]: scripts/gone.py\n")
    d = make(tmp_path, body=body, files={"references/guide.md": "g", "templates/t.txt": "t",
                                         "references/my guide.md": "s"})
    problems = validate_skill(load_skill(d))
    broken = sorted((p.line, p.message.split("'")[1]) for p in problems if p.code == "lint.broken-link")
    outside = sorted(p.message.split("'")[1] for p in problems if p.code == "lint.link-outside")
    # the body starts on line 7 (after the two delimiters and 4 front-matter lines)
    assert broken == [(10, "assets/missing.png"), (10, "references/nope.md"), (16, "scripts/gone.py")]
    assert outside == ["../other/SKILL.md", "/etc/passwd"]


def test_semver_lint(tmp_path: Path) -> None:
    bad = make(tmp_path / "a", fm=f"name: demo\ndescription: {DESC}\nmetadata:\n  version: one\n")
    assert "lint.version-semver" in codes(validate_skill(load_skill(bad)))
    none = make(tmp_path / "b", fm=f"name: demo\ndescription: {DESC}\n")
    (p,) = [p for p in validate_skill(load_skill(none)) if p.code == "lint.no-version"]
    assert p.severity == "info"


def test_near_duplicate_descriptions_in_workspace(tmp_path: Path) -> None:
    a = "Pulls Salesforce pipeline, opportunities and account history for a quarter. Do not use for tickets."
    b = "Pulls Salesforce pipeline, opportunities and account history for the quarter. Do not use for tickets!"
    c = "Drafts replies to customer support tickets about refunds and outages. Not for sales questions."
    for name, desc in (("crm-a", a), ("crm-b", b), ("support", c)):
        make(tmp_path, name, fm=f"name: {name}\ndescription: {desc}\nmetadata:\n  version: 1.0.0\n")
    ws = load_workspace(tmp_path)
    results = dict(zip([s.name for s in ws.skills], validate_workspace(ws.skills), strict=True))
    assert any("crm-b" in p.message for p in results["crm-a"] if p.code == "lint.duplicate-description")
    assert any("crm-a" in p.message for p in results["crm-b"] if p.code == "lint.duplicate-description")
    assert not [p for p in results["support"] if p.code == "lint.duplicate-description"]
    # an edited copy (live editor) is compared against the others, not against itself
    ctx = WorkspaceContext(ws.skills)
    support = ws.skill("support")
    assert support is not None
    edited = validate_text(support, f"---\nname: support\ndescription: {a}\n---\nbody\n", workspace=ctx)
    dups = [p for p in edited if p.code == "lint.duplicate-description"]
    assert {d.message.split("'")[1] for d in dups} == {"crm-a", "crm-b"}


def test_codex_catalog_budget(tmp_path: Path) -> None:
    for i in range(10):
        desc = f"Skill number {i} handles topic {i} thoroughly. Do not use for topic {i + 1}. " + "w" * 900
        make(tmp_path, f"s{i}", fm=f"name: s{i}\ndescription: {desc}\n")
    ws = load_workspace(tmp_path)
    for problems in validate_workspace(ws.skills, targets=("codex",)):
        (p,) = [p for p in problems if p.code == "target.codex.catalog-budget"]
        assert p.target == "codex" and "8,000" in p.message
    assert not any(p.code == "target.codex.catalog-budget" for ps in validate_workspace(ws.skills, targets=("claude",))
                   for p in ps)


def test_validate_text_live_editing(tmp_path: Path) -> None:
    d = make(tmp_path)
    text = (d / "SKILL.md").read_text()
    assert validate_text(d, text) == []
    broken = text.replace("name: demo", "name: Demo Skill")
    got = codes(validate_text(d, broken))
    assert {"spec.name-case", "spec.name-chars", "spec.name-folder"} <= got
    assert (d / "SKILL.md").read_text() == text  # nothing saved


def test_missing_and_unreadable_skill_md(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (p,) = validate_skill(load_skill(tmp_path / "empty"))
    assert (p.code, p.message) == ("spec.missing-skill-md", "missing SKILL.md")
    d = tmp_path / "latin"
    d.mkdir()
    (d / "SKILL.md").write_bytes("---\nname: latin\ndescription: caf\u00e9\n---\n".encode("latin-1"))
    (p,) = validate_skill(load_skill(d))
    assert p.code == "spec.not-utf8" and p.line == 3 and "UTF-8" in p.message


def test_fast_path_and_reference_path_read_the_same(tmp_path: Path) -> None:
    ordinary = "---\nname: demo\ndescription: |\n  Two\n  lines\nmetadata:\n  a: '1'\n---\n"
    r = read_front_matter(ordinary)
    assert not r.delegated and r.data == {"name": "demo", "description": "Two\nlines\n", "metadata": {"a": "1"}}
    assert r.key_lines == {"name": 2, "description": 3, "metadata": 6}
    odd = "---\nname: demo\ndescription: x\nmetadata: {a: 1}\n---\n"
    r2 = read_front_matter(odd)
    assert r2.delegated and r2.data is None and r2.fix == "block-style" and r2.error_line == 4


@pytest.mark.parametrize("value", ["123", "true", "null", "1.10", "0x1F", "~", "2024-01-01"])
def test_scalars_stay_strings_like_strictyaml(value: str) -> None:
    r = read_front_matter(f"---\nname: {value}\n---\n")
    assert r.data == {"name": value}
