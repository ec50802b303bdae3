"""Bulk validation (bundle.bulk) gives exactly the verdicts of validating the loaded workspace at once."""

from __future__ import annotations

from pathlib import Path

from skillstudio.bundle.bulk import problem_line, validate_dirs
from skillstudio.bundle.validate import validate_workspace
from skillstudio.bundle.workspace import discover, load_workspace

DUP = "Pulls Salesforce pipeline, opportunities and account history for a quarter. Do not use for tickets."


def _skill(root: Path, folder: str, front: str, body: str = "# Body\n", md: str = "SKILL.md",
           cases: str | None = None) -> None:
    d = root / folder
    d.mkdir(parents=True)
    (d / md).write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    if cases is not None:
        (d / "evals").mkdir()
        (d / "evals" / "triggers.yaml").write_text(cases, encoding="utf-8")


def _workspace(root: Path) -> None:
    _skill(root, "crm-a", f"name: crm-a\ndescription: {DUP}\nmetadata:\n  version: 1.0.0\n",
           cases="cases:\n  - prompt: Draft a reply\n    expect: no_trigger\n    route_to: support\n"
                 "  - prompt: Pull Q3\n    expect: trigger\n    route_to: crm-a\n"
                 "  - prompt: Book a flight\n    expect: no_trigger\n    route_to: travel\n")
    _skill(root, "crm-b", f"name: crm-b\ndescription: {DUP.replace('a quarter', 'the quarter')}\n", md="skill.md",
           body="See [the guide](references/guide.md) and [gone](references/gone.md).\n")
    (root / "crm-b" / "references").mkdir()
    (root / "crm-b" / "references" / "guide.md").write_text("# Guide\n", encoding="utf-8")
    _skill(root, "support", "name: support\ndescription: Drafts replies to tickets <urgent>. Not for sales.\n"
           "compatibility: needs network\ntags: [a, b]\n")
    _skill(root, "Bad_Name", "name: Bad Name\ndescription: x\nversion: 1\n")
    _skill(root, "broken", "name: broken\ndescription: Use when: it breaks\n")
    _skill(root, "long", "name: long\ndescription: " + "word " * 260 + "\n", body="line\n" * 600)
    d = root / "binary"
    d.mkdir()
    (d / "SKILL.md").write_bytes(b"---\nname: binary\n\xff\xfe---\n")


def test_bulk_matches_validating_the_loaded_workspace(tmp_path: Path) -> None:
    _workspace(tmp_path)
    dirs = discover(tmp_path).skills
    for targets in (("openai", "codex", "claude"), ("claude",)):
        expected = validate_workspace(load_workspace(tmp_path).skills, targets=targets)
        reports = validate_dirs(dirs, targets=targets)
        assert [r.path for r in reports] == [str(d) for d in dirs]
        got = [[(f.severity, f.code, f.text, f.fix) for f in r.findings] for r in reports]
        want = [[(p.severity, p.code, problem_line(p), p.fix) for p in ps] for ps in expected]
        assert got == want
    codes = {f.code for r in validate_dirs(dirs) for f in r.findings}
    # the catalog-wide checks ran (they need every skill) and so did the per-skill ones
    assert {"lint.duplicate-description", "triggers.route-self", "triggers.route-unknown", "lint.broken-link",
            "spec.unknown-field", "spec.yaml"} <= codes


def test_bulk_reports_a_skill_that_cannot_be_read_without_catalog_checks(tmp_path: Path) -> None:
    _skill(tmp_path, "a", f"name: a\ndescription: {DUP}\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "SKILL.md").write_bytes(b"---\nname: b\ndescription: " + DUP.encode() + b"\xff\n---\n")
    reports = validate_dirs([tmp_path / "a", tmp_path / "b"])
    assert [f.code for f in reports[1].findings] == ["spec.not-utf8"]
    assert reports[1].has_errors and not reports[0].has_errors
