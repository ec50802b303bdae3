"""What host runtimes read beyond the spec (issue 15): Claude Code's fields, Codex's agents/openai.yaml,
explicit-only skills (issue 11 §3), and messages that say what a file is (issue 12)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from skills_ref.validator import validate as ref_validate

from skillstudio.bundle import openai_yaml
from skillstudio.bundle.fixes import apply_fixes, fix_all_text
from skillstudio.bundle.invocation import allows_implicit, explicit_only_reasons, is_explicit_only_case
from skillstudio.bundle.model import load_skill
from skillstudio.bundle.validate import is_valid, validate_skill

DESC = "Deploys the web app to production. Do not use for staging."
TRIGGERS = "cases:\n" + "".join(
    f"  - prompt: \"prompt {i}\"\n    expect: {'trigger' if i < 2 else 'no_trigger'}\n" for i in range(5))


def make(root: Path, fm_extra: str = "", *, name: str = "deploy", desc: str = DESC,
         openai: str | None = None, triggers: str | None = TRIGGERS) -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {desc}\n{fm_extra}metadata:\n  version: \"1.0.0\"\n"
                                "---\n# Deploy\n", encoding="utf-8")
    if openai is not None:
        (d / "agents").mkdir()
        (d / "agents" / "openai.yaml").write_text(openai, encoding="utf-8")
    if triggers is not None:
        (d / "evals").mkdir()
        (d / "evals" / "triggers.yaml").write_text(triggers, encoding="utf-8")
    return d


def by_code(problems: list, code: str) -> list:
    return [p for p in problems if p.code == code]


# --------------------------------------------------------------------------- explicit-only skills

def test_claude_code_disable_model_invocation_makes_a_skill_explicit_only(tmp_path: Path) -> None:
    skill = load_skill(make(tmp_path, "disable-model-invocation: true\n"))
    assert not allows_implicit(skill)
    assert explicit_only_reasons(skill) == ["disable-model-invocation: true in SKILL.md (Claude Code)"]
    pos, neg = skill.cases[0], skill.cases[-1]
    assert is_explicit_only_case(skill, pos) and not is_explicit_only_case(skill, neg)
    (w,) = by_code(validate_skill(skill), "lint.explicit-only-trigger-cases")
    assert "2 trigger case(s)" in w.message and w.file == "evals/triggers.yaml" and w.severity == "warning"


def test_codex_policy_makes_a_skill_explicit_only(tmp_path: Path) -> None:
    skill = load_skill(make(tmp_path, openai="policy:\n  allow_implicit_invocation: false\n"))
    assert not allows_implicit(skill)
    assert "agents/openai.yaml (Codex)" in explicit_only_reasons(skill)[0]
    assert by_code(validate_skill(skill), "lint.explicit-only-trigger-cases")
    plain = load_skill(make(tmp_path, name="plain", openai="policy:\n  allow_implicit_invocation: true\n"))
    assert allows_implicit(plain) and not by_code(validate_skill(plain), "lint.explicit-only-trigger-cases")
    # no trigger cases: nothing to warn about
    quiet = load_skill(make(tmp_path, "disable-model-invocation: true\n", name="quiet", triggers=None))
    assert not by_code(validate_skill(quiet), "lint.explicit-only-trigger-cases")


def test_a_quoted_policy_is_ignored_by_codex_so_the_skill_stays_implicit(tmp_path: Path) -> None:
    skill = load_skill(make(tmp_path, openai="policy:\n  allow_implicit_invocation: \"false\"\n"))
    assert allows_implicit(skill)  # as Codex: the whole file is dropped
    (w,) = by_code(validate_skill(skill, targets=("codex",)), "target.codex.openai-yaml")
    assert "true or false (unquoted)" in w.message and "ignores the whole file" in w.message and w.line == 2


# ------------------------------------------------------------------------------ agents/openai.yaml

GOOD_OPENAI = ('interface:\n  display_name: "Deploy"\n  short_description: "Ship the app to production safely"\n'
               '  icon_small: "./assets/small.png"\n  brand_color: "#3B82F6"\n  default_prompt: "Deploy main"\n'
               'policy:\n  allow_implicit_invocation: true\n'
               'dependencies:\n  tools:\n    - type: "mcp"\n      value: "github"\n      url: "https://x.io/mcp"\n')


def test_a_good_openai_yaml_is_read_and_clean(tmp_path: Path) -> None:
    d = make(tmp_path, openai=GOOD_OPENAI)
    (d / "assets").mkdir()
    (d / "assets" / "small.png").write_bytes(b"\x89PNG")
    meta = openai_yaml.read(d)
    assert meta is not None and meta.usable and meta.findings == []
    assert (meta.display_name, meta.brand_color, meta.icon_small) == ("Deploy", "#3B82F6", "assets/small.png")
    assert meta.tools == [{"type": "mcp", "value": "github", "url": "https://x.io/mcp"}]
    assert validate_skill(load_skill(d), targets=("codex",)) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("interface:\n  brand_color: blue\n", "not a #RRGGBB colour"),
    ("interface:\n  icon_small: ./assets/missing.png\n", "does not exist in the skill"),
    ("interface:\n  icon_large: ./icons/big.svg\n", "not under assets/"),
    ("interface:\n  icon_large: ../other/assets/x.png\n", "contains '..'"),
    ("interface:\n  icon_large: /etc/passwd\n", "absolute path"),
    (f"interface:\n  display_name: {'x' * 65}\n", "65 characters"),
    ("interface:\n  display_name: 42\n", "must be a string"),
    ("interface:\n  dispaly_name: Deploy\n", "unknown key interface.dispaly_name"),
    ("polcy:\n  allow_implicit_invocation: false\n", "unknown key 'polcy'"),
    ("dependencies:\n  tools:\n    - type: mcp\n", "has no value"),
    ("dependencies:\n  tools:\n    - type: npm\n      value: left-pad\n", "only 'mcp'"),
    ("interface: [a, b\n", "invalid YAML"),
    ("- just\n- a list\n", "must be a YAML mapping"),
    ("a: &a [1, *a]\n", "a cycle"),  # aliases within the budget are ordinary YAML (as Codex reads it)
])
def test_openai_yaml_problems_are_reported_for_codex_and_openai(tmp_path: Path, text: str, expected: str) -> None:
    skill = load_skill(make(tmp_path, openai=text))
    codex = by_code(validate_skill(skill, targets=("codex",)), "target.codex.openai-yaml")
    assert codex and any(expected in p.message for p in codex), [p.message for p in codex]
    assert all(p.file == "agents/openai.yaml" and p.severity == "warning" for p in codex)
    openai = by_code(validate_skill(skill, targets=("openai",)), "target.openai.openai-yaml")
    assert [p.message for p in openai] == [p.message for p in codex]  # --target openai checks it too
    assert not [p for p in validate_skill(skill, targets=("claude",)) if "openai" in p.code]
    assert is_valid(validate_skill(skill))  # Codex metadata never changes validity (skills-ref's verdict)


def test_an_icon_that_is_a_link_out_of_the_skill_is_reported(tmp_path: Path) -> None:
    d = make(tmp_path, openai="interface:\n  icon_small: ./assets/small.png\n")
    (d / "assets").mkdir()
    (d / "assets" / "small.png").symlink_to("/etc/hostname")
    (w,) = by_code(validate_skill(load_skill(d), targets=("codex",)), "target.codex.openai-yaml")
    assert "symbolic link" in w.message


def test_codex_validator_rules(tmp_path: Path) -> None:
    d = make(tmp_path, "compatibility: Needs git\n", desc="Turns <html> into text. Do not use for PDFs.")
    got = validate_skill(load_skill(d), targets=("codex",))
    assert by_code(got, "target.codex.compatibility")[0].message.startswith("Codex's skill validator")
    assert by_code(got, "target.codex.angle-brackets")
    assert is_valid(got)
    uni = make(tmp_path, name="données")
    assert by_code(validate_skill(load_skill(uni), targets=("codex",)), "target.codex.name-ascii")


# --------------------------------------------------------------------------- Claude Code's fields

def test_host_fields_keep_the_skills_ref_verdict_and_explain_it(tmp_path: Path) -> None:
    d = make(tmp_path, "disable-model-invocation: true\nargument-hint: \"[env]\"\n")
    problems = validate_skill(load_skill(d))
    assert ref_validate(d) and not is_valid(problems)  # both call it invalid
    errs = [p for p in problems if p.severity == "error"]
    assert {p.code for p in errs} == {"spec.unknown-field"} and all(p.fix == "portable-host-fields" for p in errs)
    assert "Claude Code reads it here (only the user can invoke the skill" in errs[0].message
    assert errs[0].message.endswith("the portable fix (--fix-id portable-host-fields) moves it under metadata: "
                                    "Claude Code then lets the model invoke the skill")
    both = by_code(validate_skill(load_skill(d)), "target.codex.host-field")
    assert len(both) == 2 and not by_code(validate_skill(load_skill(d)), "target.openai.host-field")  # said once
    only_openai = by_code(validate_skill(load_skill(d), targets=("openai",)), "target.openai.host-field")
    assert [p.message for p in only_openai] == [p.message for p in both]
    codex = by_code(validate_skill(load_skill(d), targets=("codex",)), "target.codex.host-field")
    assert any("policy.allow_implicit_invocation: false" in p.message for p in codex)
    claude = by_code(validate_skill(load_skill(d), targets=("claude",)), "target.claude.host-field")
    assert {p.severity for p in claude} == {"info"} and len(claude) == 2


def test_fix_never_moves_a_field_the_host_reads(tmp_path: Path) -> None:
    """The guarded production deploy stays guarded: --fix leaves the field and says why."""
    d = make(tmp_path, "disable-model-invocation: true\nowner: ops-team\n")
    before = (d / "SKILL.md").read_text(encoding="utf-8")
    report = apply_fixes(d)
    after = (d / "SKILL.md").read_text(encoding="utf-8")
    assert "\ndisable-model-invocation: true\n" in after and before != after  # owner was moved
    assert report.changes == ["moved unknown field 'owner' to metadata.owner"]
    assert any("'disable-model-invocation' stays at the top level" in s for s in report.skipped)
    assert not allows_implicit(load_skill(d))


def test_the_portable_fix_is_explicit_and_says_what_changes() -> None:
    text = (f"---\nname: deploy\ndescription: {DESC}\ndisable-model-invocation: true\n"
            "when_to_use: When the user says ship it.\n---\n# Deploy\n")
    assert fix_all_text(text, "deploy") == (text, [])
    new, changes = fix_all_text(text, "deploy", ["portable-host-fields"])
    assert changes == [
        "moved Claude Code's 'disable-model-invocation' to metadata.disable-model-invocation: Claude Code then lets "
        "the model invoke the skill",
        "appended Claude Code's 'when_to_use' to the description (every runtime now sees it)"]
    assert f"description: {DESC} When the user says ship it.\n" in new and 'disable-model-invocation: "true"' in new


# ------------------------------------------------------------------------------- wording (issue 15)

def test_flow_style_says_what_skills_ref_objects_to_and_what_to_write(tmp_path: Path) -> None:
    d = make(tmp_path, "allowed-tools: [Read, Grep]\n")
    (p,) = [p for p in validate_skill(load_skill(d)) if p.severity == "error"]
    assert p.code == "spec.yaml" and p.fix == "block-style" and p.line == 4
    assert "JSONesque" not in p.message and "ugly" not in p.message
    assert "'allowed-tools: [Read, Grep]' is YAML flow style" in p.message
    assert "skills-ref" in p.message and "'allowed-tools: Read Grep'" in p.message
    d2 = make(tmp_path, "license: MIT\n", name="meta")
    text = (d2 / "SKILL.md").read_text(encoding="utf-8").replace('metadata:\n  version: "1.0.0"\n',
                                                                  "metadata: {version: 1.0.0}\n")
    (d2 / "SKILL.md").write_text(text, encoding="utf-8")
    (p,) = [p for p in validate_skill(load_skill(d2)) if p.severity == "error"]
    assert "'metadata:' then one indented 'key: value' line per entry" in p.message


# ------------------------------------------------------------ what a file is (issue 12, messages)

def test_a_symlinked_skill_md_is_reported_and_never_rewritten(tmp_path: Path) -> None:
    creds = tmp_path / "credentials"
    creds.write_text("name: Leak\ndescription: aws_secret_access_key=AKIA-SECRET\n", encoding="utf-8")
    d = tmp_path / "ws" / "leaky"
    d.mkdir(parents=True)
    (d / "SKILL.md").symlink_to(creds)
    report = apply_fixes(d)
    assert report.changes == [] and "symbolic link" in report.skipped[0] and "never rewritten" in report.skipped[0]
    assert (d / "SKILL.md").is_symlink()
    assert creds.read_text(encoding="utf-8").startswith("name: Leak\n")  # untouched
    problems = validate_skill(load_skill(d))
    assert any(p.code.startswith("file.skill-md-link") for p in problems)


def test_a_huge_skill_md_is_an_error_that_says_why(tmp_path: Path) -> None:
    d = make(tmp_path, triggers=None)
    with open(d / "SKILL.md", "r+b") as fh:
        fh.truncate(54 * 1000 * 1000)  # sparse: the front matter stays, the file is 54 MB
    (p,) = validate_skill(load_skill(d))
    assert p.code == "file.skill-md-too-large" and p.severity == "error"
    assert "54.0 MB" in p.message and "not checked" in p.message


def test_a_skill_md_that_is_a_device_is_not_read(tmp_path: Path) -> None:
    d = tmp_path / "dev"
    d.mkdir()
    os.symlink("/dev/zero", d / "SKILL.md")
    problems = validate_skill(load_skill(d))
    assert problems and problems[0].severity == "error"
    assert "symbolic link to /dev/zero" in problems[0].message


def test_a_fifo_skill_md_does_not_hang_and_says_what_it_is(tmp_path: Path) -> None:
    d = tmp_path / "fifo"
    d.mkdir()
    os.mkfifo(d / "SKILL.md")
    (p,) = validate_skill(load_skill(d))
    assert p.code == "file.skill-md-special" and "FIFO" in p.message
    assert "symbolic" not in p.message


def test_describe_says_what_a_skipped_file_is(tmp_path: Path) -> None:
    from skillstudio.bundle.fileio import describe

    (tmp_path / "link.md").symlink_to("/etc/hostname")
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "bin.png").write_bytes(b"\x89PNG\x00\x00")
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9 au lait, " * 10)
    (tmp_path / "ok.md").write_text("fine", encoding="utf-8")
    big = tmp_path / "big.md"
    with open(big, "wb") as fh:
        fh.truncate(6_000_000)
    assert describe(tmp_path / "link.md") == "a symbolic link to /etc/hostname: links are not followed"
    assert describe(tmp_path / "link.md", root=tmp_path) == \
        "a symbolic link to /etc/hostname: links out of the skill are not followed"
    (tmp_path / "inside.md").symlink_to(tmp_path / "ok.md")
    assert describe(tmp_path / "inside.md", root=tmp_path) == ""  # read, as read_text_file would
    assert describe(tmp_path / "pipe") == "a FIFO (named pipe), not a regular file: not read"
    assert describe(tmp_path / "bin.png") == "a binary file (it holds NUL bytes)"
    assert describe(tmp_path / "latin1.txt") == "not UTF-8 text (byte 3)"
    assert describe(big) == "a 6.0 MB file, over the 5 MB limit: not read"
    assert describe(tmp_path / "ok.md") == ""


def test_fix_on_a_fifo_skill_md_does_not_hang(tmp_path: Path) -> None:
    d = tmp_path / "fifo"
    d.mkdir()
    os.mkfifo(d / "SKILL.md")
    report = apply_fixes(d)
    assert report.changes == [] and "FIFO" in report.skipped[0] and "not rewritten" in report.skipped[0]


def test_fix_never_flattens_a_structure_the_host_reads() -> None:
    """Claude Code's hooks are nested: writing them as strings (what block-style does to metadata) breaks them."""
    text = (f"---\nname: deploy\ndescription: {DESC}\n"
            "hooks: {PreToolUse: [{matcher: Bash, hooks: [{type: command, command: ./check.sh}]}]}\n"
            "paths: [src/**, lib/**]\n---\n# Deploy\n")
    new, changes = fix_all_text(text, "deploy")
    assert "hooks: {PreToolUse: [{matcher: Bash" in new  # left exactly as written
    assert "paths:\n  - \"src/**\"\n  - \"lib/**\"\n" in new  # a flat list keeps its meaning in block style
    assert changes == ["wrote 'paths' (line 5) as a block list"]
    nested = f"---\nname: deploy\ndescription: {DESC}\nhooks:\n  PreToolUse: [{{matcher: Bash}}]\n---\n"
    assert fix_all_text(nested, "deploy") == (nested, [])
