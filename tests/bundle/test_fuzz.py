"""Fuzzing the parsers: never a crash, always a clear one-line error, and the same verdict as skills-ref.

The differential test generates front matter from YAML-ish fragments (quotes, colons, tabs, flow
brackets, anchors, block scalars, unicode) and compares our spec verdict with skills-ref's own
parse + validate_metadata, in memory. skills-ref crashing counts as "invalid".
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from skills_ref.parser import parse_frontmatter
from skills_ref.validator import validate_metadata

from skillstudio.bundle import skillmd
from skillstudio.bundle.model import Skill, parse_skill_text
from skillstudio.bundle.specparse import read_front_matter
from skillstudio.bundle.triggers import TriggersError, parse_cases
from skillstudio.bundle.validate import spec_problems, validate_skill

FOLDER = "demo"
KEYS = ["name", "description", "license", "compatibility", "metadata", "allowed-tools", "version", "'name'",
        "? name", "", "name ", "x y"]
SNIPPETS = ["demo", "Demo", "de--mo", "-demo", "123", "true", "null", "~", "''", '""', "'demo'", '"demo"',
            "a: b", "Use when: x", "[a, b]", "{a: b}", "&x demo", "*x", "!!str demo", "|", ">-", "|2",
            "# c", "demo # c", "x\ty", "\t", "@x", "`x", "%x", "---", "...", "caf\u00e9", "ｄｅｍｏ", "\u00a0",
            "\u2028", "\x85", "\x07", "- a", "-", ":", "?", "'unterminated", '"esc\\/ape"', '"\\x41"',
            "a" * 70, "d" * 1030, "数据", "İ", "ß", "demo-\U0001f680", "<b>", ""]

safe = st.text(alphabet=st.sampled_from(list("abcxyz -.,()\u00e9\u6570")), min_size=1, max_size=30)
value = st.one_of(safe, safe, safe, safe, safe, st.sampled_from(SNIPPETS),
                  st.text(alphabet=st.sampled_from(list("ab-_ :#'\"[]{}&*!|>\t\n.\u00e9ＡZ09")), max_size=20))
line = st.one_of(
    st.builds(lambda k, v: f"{k}: {v}" if k else f": {v}", st.sampled_from(KEYS), value),
    st.builds(lambda ind, v: " " * ind + v, st.integers(0, 6), value),
    st.builds(lambda ind, k, v: " " * ind + f"{k}: {v}", st.integers(1, 4), st.sampled_from(["version", "a", "b"]),
              value),
    st.sampled_from(["name: demo", "description: Does things. Do not use for others.", "metadata:", "  - item",
                     "", "# comment", "..."]),
)
# mostly-valid documents with one or two perturbations, so both verdicts are common
field_line = st.builds(lambda k, v: f"{k}: {v}",
                       st.sampled_from(["description", "license", "compatibility", "allowed-tools"]), value)
plausible = st.builds(
    lambda name, desc, extra, perm: _shuffle([f"name: {name}", f"description: {desc}", *extra], perm),
    st.one_of(st.just("demo"), st.just("demo"), value),
    st.one_of(st.just("Does things. Do not use for others."), value),
    st.lists(st.one_of(field_line, field_line, field_line, line), max_size=2),
    st.randoms(use_true_random=False),
)


def _shuffle(lines: list[str], rnd: object) -> str:
    rnd.shuffle(lines)  # type: ignore[attr-defined]
    return "\n".join(lines)


front_matter = st.one_of(st.lists(line, max_size=8).map(lambda ls: "\n".join(ls)), plausible, plausible)


def reference_verdict(content: str) -> bool:
    try:
        meta, _ = parse_frontmatter(content)
        return not validate_metadata(meta, Path(FOLDER))
    except Exception:  # ParseError, or skills-ref crashing on input it cannot handle
        return False


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(front_matter, st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_same_verdict_as_skills_ref(fm: str, newline: str, closed: bool) -> None:
    text = "---\n" + fm + ("\n---\n# Body\n" if closed else "\n")
    text = text.replace("\n", newline)
    ours = spec_problems(read_front_matter(text), FOLDER)
    ref_valid = reference_verdict(skillmd_read(text))
    assert (not ours) == ref_valid, (text, [str(p) for p in ours])


def skillmd_read(text: str) -> str:
    """What skills-ref reads from disk: universal newlines."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_skill_md_never_crashes(text: str) -> None:
    skill = parse_skill_text(Skill(path=Path("/nonexistent/demo"), skill_md=Path("/nonexistent/demo/SKILL.md")),
                             text)
    problems = validate_skill(skill)
    for p in problems:
        assert p.message and "\n" not in p.message
        assert p.line is None or p.line >= 1
    if skill.parse_error:
        assert "\n" not in skill.parse_error


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), front_matter.map(lambda s: "---\n" + s + "\n---\n")))
def test_skillmd_split_and_load_never_crash(text: str) -> None:
    sp = skillmd.split(text)
    assert sp.body_first_line >= 0
    try:
        data, _ = skillmd.load_front_matter(text)
        assert isinstance(data, dict)
    except skillmd.FrontMatterError as exc:
        assert str(exc) and "\n" not in str(exc)


triggers_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.fixed_dictionaries({"prompt": st.one_of(st.text(max_size=20), st.integers(), st.none()),
                                    "expect": st.sampled_from(["trigger", "no_trigger", "maybe", 1, None])}),
             max_size=4).map(lambda cs: "cases:\n" + "".join(
                 f"  - prompt: {c['prompt']!r}\n    expect: {c['expect']}\n" for c in cs)),
    st.sampled_from(["cases: 3", "- query: x\n  should_trigger: true", "- 1", "cases:\n  - 1", "[", "{a: b}"]),
)


@settings(max_examples=300, deadline=None)
@given(triggers_text)
def test_trigger_cases_parse_or_fail_clearly(text: str) -> None:
    try:
        cases = parse_cases(text)
    except TriggersError as exc:
        msg = str(exc)
        assert msg.startswith("triggers.yaml") and "\n" not in msg.strip()
        return
    for c in cases:
        assert c.prompt.strip() and c.expect in ("trigger", "no_trigger")


# YAML fragments where libyaml and strictyaml could plausibly part ways: block scalars with chomping and
# indentation indicators, multi-line plain scalars, comments, nested blocks
_piece = st.sampled_from(["x", "y z", "", " ", "  a", "# c", "b: c", "- i", "'q'", '"d"', "e #f", "g#h", "é", "...",
                          "- ", "?", "k:", "  - j", "|", ">", "|+", "|-", ">+", ">2", "|1", "x: |", "x: >-",
                          "y: |+", "z:", "  w: v"])
_block_doc = st.one_of(
    st.lists(st.builds(lambda ind, p: " " * ind + p, st.integers(0, 4), _piece), min_size=1, max_size=8)
    .map(lambda ls: "\n".join(ls) + "\n"),
    st.builds(lambda k, head, body: f"{k}: {head}\n" + "".join(" " * i + b + "\n" for i, b in body),
              st.sampled_from(["description", "name"]),
              st.sampled_from(["|", "|-", "|+", ">", ">-", ">+", "|2", "x", "'a", '"a', ""]),
              st.lists(st.tuples(st.integers(0, 4), _piece), max_size=5)),
)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(_block_doc)
def test_fast_path_reads_exactly_what_strictyaml_reads(fm: str) -> None:
    """Whenever the fast path accepts a front matter, its data equals strictyaml's, value for value."""
    import strictyaml

    from skillstudio.bundle.specparse import _fast, _Odd

    try:
        data, _ = _fast(fm)
    except _Odd:
        return
    assert strictyaml.load(fm).data == data


def _words(text: str) -> set[str]:
    import re
    import unicodedata

    text = unicodedata.normalize("NFKC", text)  # a name is normalised by design: ｄｅｍｏ is written as demo
    text = re.sub(r"\\(?:[tnr]|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2})", " ", text)  # YAML escapes of quoted values
    return {w.lower() for w in re.findall(r"[^\W_]+", text)}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(front_matter, st.sampled_from(["", "---\n", "\ufeff---\n", "\n---\n"]), st.booleans())
def test_fixes_never_crash_and_never_lose_words(fm: str, opening: str, closed: bool) -> None:
    import re

    from skillstudio.bundle.fixes import fix_all_text

    text = opening + fm + ("\n---\n# Body words here\n" if closed else "\n")
    new, changes = fix_all_text(text, "Demo Folder")
    assert all(c and "\n" not in c for c in changes)
    # the name is normalised by design (and reported); every other word must survive
    kept_lines, in_name = [], False
    for ln in text.split("\n"):
        # a plain scalar continues on following lines, indented or not, until the next `key:` or `---`
        in_name = bool(re.match(r"^(\? )?['\"]?name['\"]?\s*:", ln.lstrip("\ufeff"))) or \
            (in_name and (ln[:1] in (" ", "\t") or not (re.match(r"^[^\s#][^:]*:(\s|$)", ln) or ln.startswith("---"))))
        if not in_name:
            kept_lines.append(ln)
    # block-scalar headers (`|2`, `>-`) are YAML syntax, not the user's words
    kept = "\n".join(re.sub(r":\s*[|>][-+0-9]*\s*$", ":", ln) for ln in kept_lines)
    assert _words(kept) <= _words(new) | {"demo", "folder"}
    if new == text:
        assert changes == []
