"""Fix-its: typical broken real-world skills pass skills-ref after --fix; no text is lost; edits are local."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from skills_ref.validator import validate as ref_validate

from skillstudio.bundle.fixes import FIX_ORDER, OPT_IN_FIXES, apply_fixes, fix_text, normalize_name
from skillstudio.bundle.model import load_skill
from skillstudio.bundle.validate import validate_skill

# shapes seen in the wild: Claude Code skills, copied READMEs, hand-written YAML
REAL_WORLD = {
    "claude-code-style": ("PDF_Tools", "---\nname: PDF Tools\ndescription: Extract text and tables from PDF files. "
                          "Use when working with PDFs.\nallowed-tools: [Read, Bash, Write]\nversion: 1.0.0\n"
                          "user-invocable: true\n---\n\n# PDF Tools\n\nRun `scripts/extract.py`.\n"),
    "colon-in-description": ("deal-desk", "---\nname: deal-desk\ndescription: Use when: the user asks for a "
                             "discount # approval\n---\nBody.\n"),
    "readme-without-front-matter": ("release-notes", "# Release notes\n\nWrites release notes from merged pull "
                                    "requests, grouped by label.\n\n## Steps\n1. Read the log\n"),
    "keys-but-no-delimiters": ("triage", "name: triage\ndescription: Triage incoming bugs.\n\n# Triage\n"),
    "missing-opening-delimiter": ("triage", "name: triage\ndescription: Triage incoming bugs.\n---\n# Triage\n"),
    "unclosed": ("triage", "---\nname: triage\ndescription: Triage incoming bugs.\n# Triage\nSteps.\n"),
    "bom-crlf-blank-lines": ("crm", "\ufeff\r\n---\r\nname: crm\r\ndescription: CRM queries.\r\n---\r\nBody\r\n"),
    "flow-metadata-and-tags": ("Report_Builder", "---\nname: report_builder\ndescription: Builds reports\n"
                               "metadata: {version: 2.1, owner: data-team}\ntags: [reports, bi]\n---\n# R\n"),
    "tabs-and-control": ("ops", "---\nname: ops\ndescription: Ops\tduties\nmetadata:\n\tversion: '1'\n---\n"),
    "duplicate-keys": ("ops", "---\nname: ops\ndescription: Ops runbooks\ndescription: second thought\n---\n"),
    "dashes-cut-front-matter": ("ops", "---\ndescription: Ops --- runbooks\nname: ops\n---\n"),
    "empty-name-and-description": ("My Skill", "---\nname:\ndescription: ''\n---\nHelps with things.\n"),
}


def words(text: str) -> set[str]:
    text = text.replace("\\t", " ")  # a tab is written as the YAML escape \t once quoted
    return {w.lower() for w in re.findall(r"[A-Za-z0-9]{3,}", text)}


@pytest.mark.parametrize("case", sorted(REAL_WORLD), ids=sorted(REAL_WORLD))
def test_real_world_skill_passes_skills_ref_after_fix(tmp_path: Path, case: str) -> None:
    folder, text = REAL_WORLD[case]
    d = tmp_path / folder
    d.mkdir()
    (d / "SKILL.md").write_bytes(text.encode("utf-8"))
    assert ref_validate(d), "the case must start out invalid"
    report = apply_fixes(d, [*FIX_ORDER, *OPT_IN_FIXES])  # everything, the opt-in portable fix included
    assert report.changes and report.new_path is not None
    assert ref_validate(report.new_path) == [], report.changes
    fixed_skill = load_skill(report.new_path)
    assert not [p for p in validate_skill(fixed_skill) if p.severity == "error"]
    # never lose text: every word of the original is still in the file (quoting/moving keeps them)
    assert words(text) - {"tags"} <= words(fixed_skill.text) | {"tags"}
    assert all("\n" not in c for c in report.changes)


def test_fix_reports_each_change_and_renames_folder(tmp_path: Path) -> None:
    folder, text = REAL_WORLD["claude-code-style"]
    d = tmp_path / folder
    d.mkdir()
    (d / "SKILL.md").write_text(text, encoding="utf-8")
    report = apply_fixes(d)
    assert report.new_path == tmp_path / "pdf-tools" and not d.exists()
    joined = "\n".join(report.changes)
    for expected in ("allowed-tools", "metadata.version", "'pdf-tools'",
                     "renamed folder 'PDF_Tools' to 'pdf-tools'"):
        assert expected in joined
    # Claude Code reads user-invocable at the top level: plain --fix leaves it there and says why
    assert "user-invocable" not in joined
    assert any("'user-invocable' stays at the top level" in s and "portable-host-fields" in s
               for s in report.skipped)
    new = (report.new_path / "SKILL.md").read_text()
    assert "allowed-tools: Read Bash Write\n" in new
    assert 'version: "1.0.0"' in new and "\nuser-invocable: true\n" in new
    # the portable alternative is a separate fix, applied only when asked for by id
    report = apply_fixes(report.new_path, ["portable-host-fields"])
    assert report.changes == ["moved Claude Code's 'user-invocable' to metadata.user-invocable: the skill shows in "
                              "Claude Code's / menu again"]
    new = (report.new_path / "SKILL.md").read_text()
    assert 'user-invocable: "true"' in new and "\nuser-invocable" not in new
    assert new.endswith("\n# PDF Tools\n\nRun `scripts/extract.py`.\n")  # body untouched


def test_crlf_kept_and_bom_removed(tmp_path: Path) -> None:
    folder, text = REAL_WORLD["bom-crlf-blank-lines"]
    d = tmp_path / folder
    d.mkdir()
    (d / "SKILL.md").write_bytes(text.encode("utf-8"))
    apply_fixes(d)
    raw = (d / "SKILL.md").read_bytes()
    assert raw == b"---\r\nname: crm\r\ndescription: CRM queries.\r\n---\r\nBody\r\n"


def test_rename_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    d = tmp_path / "Taken"
    d.mkdir()
    (d / "SKILL.md").write_text("---\nname: taken\ndescription: x\n---\n", encoding="utf-8")
    report = apply_fixes(d)
    assert report.new_path == d and d.exists()
    assert any("already exists" in s for s in report.skipped)


def test_unfixable_problems_are_left_alone(tmp_path: Path) -> None:
    d = tmp_path / "demo"
    d.mkdir()
    original = "---\nname: demo\ndescription: " + "d" * 1100 + "\n---\n"
    (d / "SKILL.md").write_text(original, encoding="utf-8")
    report = apply_fixes(d)
    assert report.changes == [] and (d / "SKILL.md").read_text() == original  # never truncates text
    (d / "SKILL.md").write_bytes(b"---\nname: demo\ndescription: caf\xe9\n---\n")
    report = apply_fixes(d)
    assert report.changes == [] and "UTF-8" in report.skipped[0]


def test_only_restricts_fixes(tmp_path: Path) -> None:
    d = tmp_path / "demo"
    d.mkdir()
    (d / "SKILL.md").write_text("---\nname: Demo\ndescription: x\nversion: 1\n---\n", encoding="utf-8")
    report = apply_fixes(d, only=["move-to-metadata"])
    assert report.changes == ["moved unknown field 'version' to metadata.version"]
    assert "name: Demo" in (d / "SKILL.md").read_text()


def test_fix_text_for_the_editor() -> None:
    text = "---\n# keep this comment\nname: demo\ndescription: d\nauthor: me  # who\n---\nbody\n"
    new, changes = fix_text(text, "move-to-metadata", "demo")
    assert changes == ["moved unknown field 'author' to metadata.author"]
    assert new == ("---\n# keep this comment\nname: demo\ndescription: d\n# who\nmetadata:\n  author: \"me\"\n"
                   "---\nbody\n")
    assert fix_text(text, "rename-folder", "demo") == (text, [])
    assert fix_text("---\nname: demo\ndescription: d\n---\n", "quote-values", "demo")[1] == []
    with pytest.raises(ValueError, match="unknown fix-it"):
        fix_text(text, "make-it-good", "demo")
    assert set(FIX_ORDER) >= {"frontmatter", "quote-values", "move-to-metadata", "normalize-name"}


def test_existing_metadata_value_is_not_overwritten() -> None:
    text = "---\nname: demo\ndescription: d\nversion: 2.0.0\nmetadata:\n  version: \"1.0.0\"\n---\n"
    new, changes = fix_text(text, "move-to-metadata", "demo")
    assert changes == ["moved unknown field 'version' to metadata.version-2"]
    assert 'version: "1.0.0"' in new and 'version-2: "2.0.0"' in new


@pytest.mark.parametrize(("raw", "expected"), [
    ("PDF Tools", "pdf-tools"), ("my_skill.v2", "my-skill-v2"), ("--a--b--", "a-b"), ("Données", "données"),
    ("ｆｕｌｌ", "full"), ("demo-\U0001f680", "demo"), ("x" * 80, "x" * 64), ("a" * 63 + "-b", "a" * 63),
    ("!!!", ""),
])
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_duplicate_key_whose_block_yaml_reads_as_other_keys_keeps_every_word() -> None:
    """Found by hypothesis: a second `metadata:` followed by a column-0 line that is not a key."""
    from skillstudio.bundle.fixes import fix_all_text

    new, changes = fix_all_text("---\nmetadata: a\nmetadata:\nx y: a\n---\n# Body words here\n", "Demo Folder")
    assert "x y: a" in new and any("metadata-duplicate" in c for c in changes)


def test_a_description_swallowed_by_an_unclosed_quote_is_not_replaced() -> None:
    """Found by hypothesis: `license: "` opens a quote that YAML closes lines later, so the parsed data has no
    description although the text has one; adding a placeholder would overwrite the user's words."""
    from skillstudio.bundle.fixes import fix_all_text

    text = 'name: demo\nlicense: "\ndescription: Does things. Do not use for others.\ndescription: "\n'
    new, _changes = fix_all_text(text, "demo")
    assert "Does things. Do not use for others." in new


def test_a_name_swallowed_by_an_unclosed_quote_is_not_replaced() -> None:
    from skillstudio.bundle.fixes import fix_text

    text = '---\ndescription: "Does things.\nname: My Demo\nlicense: x"\n---\nbody\n'
    new, changes = fix_text(text, "normalize-name", "demo")
    assert new == text and changes == []  # the user's `name: My Demo` line is not overwritten
