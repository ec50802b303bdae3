"""Conformance: our spec verdict and rules agree with the reference validator `skills-ref`.

Each case is a skill folder written byte for byte (BOM, CRLF, bad UTF-8 and all). Both validators
run on the same folder; any difference in the valid/invalid verdict fails, and so does any
difference in *which* spec rules fire (skills-ref's messages mapped to our problem codes).
skills-ref crashes on non-UTF-8 files (and on some control characters); a crash counts as "invalid"
(we report a clean error).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from skills_ref.validator import validate as ref_validate

from skillstudio.bundle.model import load_skill
from skillstudio.bundle.validate import validate_skill

GOOD_DESC = "Queries the CRM pipeline. Do not use for support tickets."


@dataclass
class Case:
    id: str
    skill_md: bytes | None  # None: no SKILL.md at all
    folder: str = "demo"
    md_name: str = "SKILL.md"
    extra: dict[str, bytes] = field(default_factory=dict)


def fm(*lines: str, body: str = "# Demo\n\nDo the thing.\n") -> bytes:
    return ("---\n" + "".join(line + "\n" for line in lines) + "---\n" + body).encode("utf-8")


N = "name: demo"
D = f"description: {GOOD_DESC}"

CASES = [
    Case("valid-minimal", fm(N, D)),
    Case("valid-full", fm(N, D, "license: Apache-2.0", "compatibility: Needs Python 3.11 and network access",
                          "allowed-tools: Bash(git:*) Read", "metadata:", "  version: \"1.2.0\"", "  author: me")),
    Case("bom", b"\xef\xbb\xbf" + fm(N, D)),
    Case("crlf", fm(N, D).replace(b"\n", b"\r\n")),
    Case("cr-only", fm(N, D).replace(b"\n", b"\r")),
    Case("leading-blank-line", b"\n" + fm(N, D)),
    Case("leading-spaces", b"   " + fm(N, D)),
    Case("no-frontmatter", b"# Demo\n\nJust markdown.\n"),
    Case("keys-without-delimiters", f"{N}\n{D}\n\n# Demo\n".encode()),
    Case("unclosed", f"---\n{N}\n{D}\n\n# Demo\n".encode()),
    Case("empty-file", b""),
    Case("only-opening", b"---"),
    Case("empty-frontmatter", b"---\n---\n# Demo\n"),
    Case("comment-only-frontmatter", fm("# just a comment")),
    Case("frontmatter-list", fm("- name", "- description")),
    Case("frontmatter-scalar", fm("hello there")),
    Case("unicode-name", fm("name: données", D), folder="données"),
    Case("unicode-cjk-name", fm("name: 数据分析", D), folder="数据分析"),
    Case("unicode-uppercase-name", fm("name: Données", D), folder="Données"),
    Case("nfkc-fullwidth-name", fm("name: ｄｅｍｏ", D), folder="demo"),
    Case("nfkc-fullwidth-folder", fm(N, D), folder="ｄｅｍｏ"),
    Case("nfd-name-nfc-folder", fm("name: cafe\u0301", D), folder="caf\u00e9"),
    Case("nfkc-roman-numeral", fm("name: \u216b", D), folder="\u216b"),
    Case("turkish-dotted-i", fm("name: \u0130stanbul", D), folder="\u0130stanbul"),
    Case("numeric-name", fm("name: 123", D), folder="123"),
    Case("float-name", fm("name: 1.10", D), folder="1.10"),
    Case("bool-name", fm("name: true", D), folder="true"),
    Case("null-name", fm("name: null", D), folder="null"),
    Case("tilde-name", fm("name: ~", D), folder="~"),
    Case("emoji-name", fm("name: demo-\U0001f680", D), folder="demo-\U0001f680"),
    Case("duplicate-keys", fm(N, D, "description: again")),
    Case("duplicate-keys-quoted", fm(N, D, "'name': demo")),
    Case("yaml-colon-in-value", fm(N, "description: Use when: the user asks about deals")),
    Case("yaml-bad-indent", fm(N, D, "metadata:", "  version: 1", " author: x")),
    Case("yaml-unclosed-quote", fm(N, 'description: "never closed')),
    Case("yaml-at-sign", fm(N, "description: @mention the team")),
    Case("flow-mapping-metadata", fm(N, D, "metadata: {version: 1.0.0}")),
    Case("flow-sequence-tools", fm(N, D, "allowed-tools: [Read, Write]")),
    Case("block-header-run-into-comment", fm(N, "description: |#", "  Queries the CRM.")),  # libyaml accepts it
    # host-runtime fields (Claude Code): the verdict stays skills-ref's; only the explanation and fix differ
    Case("claude-code-disable-model-invocation", fm(N, D, "disable-model-invocation: true")),
    Case("claude-code-several-fields", fm(N, D, "when_to_use: when deploying", "context: fork", "agent: Explore",
                                          "argument-hint: '[env]'", "user-invocable: false")),
    Case("anchor-alias", fm("name: &n demo", D, "license: *n")),
    Case("tag", fm("name: !!str demo", D)),
    Case("missing-skill-md", None),
    Case("lowercase-skill-md", fm(N, D), md_name="skill.md"),
    Case("lowercase-skill-md-invalid", fm(N), md_name="skill.md"),
    Case("name-64", fm("name: " + "a" * 64, D), folder="a" * 64),
    Case("name-65", fm("name: " + "a" * 65, D), folder="a" * 65),
    Case("description-1024", fm(N, "description: " + "d" * 1024)),
    Case("description-1025", fm(N, "description: " + "d" * 1025)),
    Case("description-block-1024-plus-newline", fm(N, "description: |", "  " + "d" * 1024)),
    Case("description-block-strip-1024", fm(N, "description: |-", "  " + "d" * 1024)),
    Case("compatibility-500", fm(N, D, "compatibility: " + "c" * 500)),
    Case("compatibility-501", fm(N, D, "compatibility: " + "c" * 501)),
    Case("compatibility-list", fm(N, D, "compatibility:", "  - python", "  - node")),
    Case("compatibility-empty", fm(N, D, "compatibility:")),
    Case("dir-mismatch", fm("name: other", D)),
    Case("consecutive-hyphens", fm("name: de--mo", D), folder="de--mo"),
    Case("leading-hyphen", fm("name: -demo", D), folder="-demo"),
    Case("trailing-hyphen", fm("name: demo-", D), folder="demo-"),
    Case("uppercase-name", fm("name: Demo", D), folder="Demo"),
    Case("name-with-spaces", fm("name: my demo", D), folder="my demo"),
    Case("name-with-underscore", fm("name: my_demo", D), folder="my_demo"),
    Case("name-quoted-padded", fm("name: '  demo  '", D)),
    Case("empty-name", fm("name:", D)),
    Case("empty-description", fm(N, 'description: ""')),
    Case("blank-description", fm(N, 'description: "   "')),
    Case("missing-name", fm(D)),
    Case("missing-description", fm(N)),
    Case("unknown-fields", fm(N, D, "version: 1.0.0", "author: someone")),
    Case("metadata-non-strings", fm(N, D, "metadata:", "  count: 3", "  nested:", "    a: b", "  list:", "    - x")),
    Case("metadata-list", fm(N, D, "metadata:", "  - a", "  - b")),
    Case("metadata-scalar", fm(N, D, "metadata: plain")),
    Case("name-list", fm("name:", "  - demo", D)),
    Case("description-mapping", fm(N, "description:", "  what: x", "  when: y")),
    Case("license-mapping", fm(N, D, "license:", "  spdx: MIT")),
    Case("allowed-tools-block-list", fm(N, D, "allowed-tools:", "  - Read", "  - Bash")),
    Case("tab-in-value", fm(N, "description: Queries\tthe CRM. Do not use for tickets.")),
    Case("tab-indent", fm(N, D, "metadata:", "\tversion: 1")),
    Case("block-literal-description", fm(N, "description: |", "  Queries the CRM.", "  Do not use for tickets.")),
    Case("folded-description", fm(N, "description: >", "  Queries the CRM.", "  Do not use for tickets.")),
    Case("multiline-plain-description", fm(N, "description: Queries the CRM.", "  Do not use for tickets.")),
    Case("dashes-inside-value", fm(N, "description: Queries --- the CRM")),
    Case("dashes-cut-before-name", fm("description: Queries --- the CRM", N)),
    Case("opening-four-dashes", b"----\n" + fm(N, D)[4:]),
    Case("opening-with-text", b"--- yaml\n" + fm(N, D)[4:]),
    Case("closing-with-trailing-spaces", f"---\n{N}\n{D}\n---   \n# Demo\n".encode()),
    Case("no-newline-at-end", f"---\n{N}\n{D}\n---".encode()),
    Case("document-end-marker", fm(N, D, "...")),
    Case("explicit-key", fm("? name", ": demo", D)),
    Case("quoted-keys", fm('"name": demo', "'description': " + GOOD_DESC)),
    Case("non-utf8", "---\nname: demo\ndescription: caf\u00e9 r\u00e9sum\u00e9\n---\n".encode("latin-1")),
    Case("nul-in-body", fm(N, D, body="# Demo\n\x00binary\n")),
    Case("control-char-in-value", fm(N, "description: Queries\x07 the CRM")),
    Case("nel-in-value", fm(N, "description: Queries\x85the CRM")),
    Case("line-separator-in-value", fm(N, "description: Queries\u2028the CRM")),
    Case("nbsp-in-value", fm(N, "description: Queries\u00a0the CRM")),
    Case("angle-brackets-description", fm(N, "description: Turns <input> into <output>")),
    Case("comment-after-value", fm("name: demo  # the name", D)),
    Case("hash-without-space", fm("name: demo#1", D), folder="demo#1"),
    Case("both-md-names", fm(N, D), extra={"skill.md": b"garbage"}),
    Case("empty-key", fm(N, D, ": orphan")),
    Case("yes-no-values", fm(N, "description: yes", "license: no")),
    Case("date-value", fm(N, D, "license: 2024-01-01")),
    Case("percent-at-line-start", fm(N, D, "license: 100% mine")),
    Case("deeply-indented-metadata", fm(N, D, "metadata:", "      version: '1'", "      owner: x")),
]

# skills-ref message fragment -> our problem code (how we check that the same rules fire)
REF_RULES = [
    ("Missing required file", "spec.missing-skill-md"),
    ("must start with YAML frontmatter", "spec.no-frontmatter"),
    ("not properly closed", "spec.frontmatter-unclosed"),
    ("Invalid YAML", "spec.yaml"),
    ("must be a YAML mapping", "spec.not-mapping"),
    ("Unexpected fields", "spec.unknown-field"),
    ("Missing required field in frontmatter: name", "spec.name-missing"),
    ("Field 'name' must be a non-empty string", "spec.name-empty"),
    ("character limit", None),  # name or description: decided below
    ("must be lowercase", "spec.name-case"),
    ("start or end with a hyphen", "spec.name-hyphen-edge"),
    ("consecutive hyphens", "spec.name-double-hyphen"),
    ("contains invalid characters", "spec.name-chars"),
    ("Directory name", "spec.name-folder"),
    ("Missing required field in frontmatter: description", "spec.description-missing"),
    ("Field 'description' must be a non-empty string", "spec.description-empty"),
    ("Field 'compatibility' must be a string", "spec.compatibility-type"),
]


def ref_codes(messages: list[str]) -> set[str]:
    out = set()
    for msg in messages:
        if msg.startswith("Skill name") and "character limit" in msg:
            out.add("spec.name-too-long")
            continue
        if msg.startswith("Description exceeds"):
            out.add("spec.description-too-long")
            continue
        if msg.startswith("Compatibility exceeds"):
            out.add("spec.compatibility-too-long")
            continue
        code = next((c for frag, c in REF_RULES if frag in msg and c), None)
        assert code, f"unmapped skills-ref message: {msg}"
        out.add(code)
    return out


def write_case(root: Path, case: Case) -> Path:
    d = root / case.folder
    d.mkdir(parents=True)
    if case.skill_md is not None:
        (d / case.md_name).write_bytes(case.skill_md)
    for rel, data in case.extra.items():
        if not (d / rel).exists():
            (d / rel).write_bytes(data)
    return d


def test_corpus_is_big_enough() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_agrees_with_skills_ref(tmp_path: Path, case: Case) -> None:
    d = write_case(tmp_path, case)
    try:
        ref = ref_validate(d)
    except Exception as exc:  # skills-ref crashes on non-UTF-8 files and on some control characters
        ref = [f"<skills-ref crashed: {type(exc).__name__}>"]
    ours = [p for p in validate_skill(load_skill(d)) if p.severity == "error"]
    assert bool(ref) == bool(ours), f"verdict differs: skills-ref={ref} ours={[str(p) for p in ours]}"
    assert all(p.code.startswith("spec.") for p in ours)
    assert all(p.message and "\n" not in p.message for p in ours)
    if ref and not ref[0].startswith("<skills-ref crashed"):
        assert ref_codes(ref) == {p.code for p in ours}, f"rules differ: skills-ref={ref} ours={[str(p) for p in ours]}"


def test_corpus_covers_both_verdicts(tmp_path: Path) -> None:
    """A corpus of only-valid or only-invalid cases would prove nothing."""
    verdicts = set()
    for case in CASES:
        d = write_case(tmp_path / case.id, case)
        try:
            verdicts.add(not ref_validate(d))
        except Exception:
            verdicts.add(False)
    assert verdicts == {True, False}
