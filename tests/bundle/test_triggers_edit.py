"""Saving trigger cases edits triggers.yaml in place: unchanged cases byte for byte, comments kept."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillstudio.bundle.skillmd import render_scalar
from skillstudio.bundle.triggers import TriggerCase, parse_cases
from skillstudio.bundle.triggers_edit import _flow, case_fields, edit_cases

SAMPLE = """\
# Trigger cases for crm-query. Keep the near misses at the end.
version: 2   # a key another tool wrote
cases:
  # the happy path
  - prompt: 'Pull the Q3 pipeline for Acme'   # from the sales team
    expect: trigger
  - prompt: "How many open deals?"
    expect: trigger
    route_to: crm-query
    files: {"a.csv": "id\\n1\\n"}

  # near misses
  - prompt: Draft a reply to this ticket
    expect: no_trigger
    why: >
      support tickets belong
      to support-reply
# end of cases
owner: sales-ops
"""


def test_unchanged_file_is_written_back_byte_for_byte() -> None:
    assert edit_cases(SAMPLE, parse_cases(SAMPLE)) == SAMPLE
    crlf = SAMPLE.replace("\n", "\r\n")
    assert edit_cases(crlf, parse_cases(crlf)) == crlf


def test_editing_one_field_changes_only_that_value() -> None:
    cases = parse_cases(SAMPLE)
    cases[0] = TriggerCase(prompt="Pull the Q4 pipeline for Acme", expect="trigger")
    out = edit_cases(SAMPLE, cases)
    assert out == SAMPLE.replace("'Pull the Q3 pipeline for Acme'", "'Pull the Q4 pipeline for Acme'")


def test_unknown_fields_survive_an_edit_of_their_case() -> None:
    cases = parse_cases(SAMPLE)
    fields = case_fields(cases[1]) | {"expect": "no_trigger", "why": "counts belong elsewhere"}
    cases[1] = TriggerCase(**fields)
    out = edit_cases(SAMPLE, cases)
    assert '    route_to: crm-query\n    files: {"a.csv": "id\\n1\\n"}\n    why: counts belong elsewhere\n' in out
    assert "expect: no_trigger\n    route_to" in out
    assert [case_fields(c) for c in parse_cases(out)] == [case_fields(c) for c in cases]


def test_removing_moving_and_adding_keep_the_rest() -> None:
    a, b, c = parse_cases(SAMPLE)
    new = TriggerCase(prompt="Export: the whole #pipeline", expect="trigger", files={"x.txt": "multi\nline"})
    out = edit_cases(SAMPLE, [c, a, new])
    assert out.startswith("# Trigger cases for crm-query. Keep the near misses at the end.\nversion: 2   # a key")
    assert out.endswith("# end of cases\nowner: sales-ops\n")
    assert "\n  # near misses\n  - prompt: Draft a reply to this ticket\n    expect: no_trigger\n    why: >\n" in out
    assert "  # the happy path\n  - prompt: 'Pull the Q3 pipeline for Acme'   # from the sales team\n" in out
    assert "How many open deals" not in out
    assert [case_fields(x) for x in parse_cases(out)] == [case_fields(x) for x in (c, a, new)]


def test_clearing_all_cases_leaves_an_empty_list() -> None:
    out = edit_cases(SAMPLE, [])
    assert parse_cases(out) == []
    assert "cases: []" in out and out.endswith("owner: sales-ops\n")


def test_a_new_file_uses_the_plain_format() -> None:
    out = edit_cases(None, [TriggerCase(prompt="hello", expect="trigger", why="w")])
    assert out == 'cases:\n  - prompt: "hello"\n    expect: trigger\n    why: w\n'


# ------------------------------------------------------------------------------- properties

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=30).filter(
    lambda s: bool(s.strip()))
EXTRA = st.fixed_dictionaries({}, optional={  # values the parser accepts (it checks route_to and files paths)
    "route_to": st.one_of(st.just("none"), st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True)),
    "files": st.dictionaries(st.from_regex(r"[a-c_]{1,4}(/[a-c_]{1,4})?\.(csv|txt)", fullmatch=True),
                             st.text(max_size=12), max_size=2),
})


@st.composite
def case_st(draw: Any) -> TriggerCase:
    why = draw(st.one_of(st.none(), TEXT))
    return TriggerCase(prompt=draw(TEXT), expect=draw(st.sampled_from(["trigger", "no_trigger"])), why=why,
                       **draw(EXTRA))


@st.composite
def styled_file(draw: Any) -> tuple[str, list[str]]:
    """A triggers.yaml in some user's style, and the exact text chunk of each case."""
    dash = draw(st.sampled_from([0, 2, 4]))
    gap = draw(st.sampled_from([1, 2, 3]))
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    cases = draw(st.lists(case_st(), min_size=1, max_size=6, unique_by=lambda c: c.prompt))
    chunks = []
    for i, c in enumerate(cases):
        lines = []
        if draw(st.booleans()):
            lines.append(" " * dash + f"# case {i}")
        quote = draw(st.sampled_from(["", "'", '"']))
        for j, (k, v) in enumerate(case_fields(c).items()):
            lead = " " * dash + "-" + " " * gap if j == 0 else " " * (dash + 1 + gap)
            val = render_scalar(v, quote) if isinstance(v, str) else _flow(v)
            lines.append(f"{lead}{k}: {val}")
        chunks.append("".join(line + nl for line in lines))
    text = f"# header{nl}meta: 1{nl}cases:{nl}" + "".join(chunks) + f"# trailer{nl}other: [1, 2]{nl}"
    return text, chunks


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(styled_file(), st.data())
def test_any_edit_reads_back_and_keeps_untouched_cases(doc: tuple[str, list[str]], data: Any) -> None:
    text, chunks = doc
    old = parse_cases(text)
    assert edit_cases(text, old) == text
    order = data.draw(st.permutations(range(len(old))))
    keep = data.draw(st.lists(st.sampled_from(order), unique=True, max_size=len(old))) if old else []
    kept = [i for i in order if i in keep]
    new: list[TriggerCase] = [old[i] for i in kept]
    added = data.draw(st.lists(case_st(), max_size=2))
    for c in added:
        new.insert(data.draw(st.integers(0, len(new))), c)
    edited = -1
    if new and data.draw(st.booleans()):
        edited = data.draw(st.integers(0, len(new) - 1))
        new[edited] = TriggerCase(**(case_fields(new[edited]) | {"expect": "no_trigger", "why": "edited"}))
    out = edit_cases(text, new)
    assert [case_fields(c) for c in parse_cases(out)] == [case_fields(c) for c in new]
    assert out.startswith("# header") and "# trailer" in out  # the in-place path, not a rewrite
    for i in kept:
        if any(x is old[i] for x in new):
            assert chunks[i] in out
