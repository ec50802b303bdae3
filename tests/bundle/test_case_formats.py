"""Trigger cases: route_to / files / fixture on a case, and the eval-set formats users have (issue 11 §3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skillstudio.bundle.case_formats import (
    export_cases,
    export_skill,
    import_data,
    import_into_skill,
    read_cases_file,
)
from skillstudio.bundle.model import load_skill
from skillstudio.bundle.triggers import (
    MAX_FILES_BYTES,
    TriggerCase,
    TriggersError,
    dump_cases,
    fixture_dir,
    load_cases,
    parse_cases,
)


def make_skill(root: Path, name: str = "crm-query", triggers: str | None = None) -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "SKILL.md").write_text(f"---\nname: {name}\ndescription: Queries the CRM. Do not use for support.\n---\n"
                                "# CRM\n", encoding="utf-8")
    if triggers is not None:
        (d / "evals").mkdir()
        (d / "evals" / "triggers.yaml").write_text(triggers, encoding="utf-8")
    return d


# ----------------------------------------------------------------------------------- our format

def test_optional_fields_parse() -> None:
    cases = parse_cases(
        "cases:\n"
        "  - prompt: Reconcile the invoices in this folder\n    expect: trigger\n"
        "    files: {\"invoices/oct.csv\": \"id,amount\\n1,20\\n\", \"./notes.txt\": 42}\n"
        "  - prompt: A customer says login is broken\n    expect: no_trigger\n    route_to: support-reply\n"
        "  - prompt: What is the weather\n    expect: no_trigger\n    route_to: none\n"
        "  - prompt: Look at the ledger\n    expect: trigger\n    fixture: evals/fixtures/ledger\n")
    assert cases[0].files == {"invoices/oct.csv": "id,amount\n1,20\n", "notes.txt": "42"}
    assert (cases[1].route_to, cases[2].route_to, cases[3].fixture) == ("support-reply", "none",
                                                                         "evals/fixtures/ledger")
    assert parse_cases(dump_cases(cases)) == cases  # our YAML round-trips every field


@pytest.mark.parametrize(("case", "message"), [
    ("files: {'../../etc/passwd': x}", "must not contain '..'"),
    ("files: {'/etc/passwd': x}", "must be relative"),
    ("files: [a.csv, b.csv]", "mapping of relative path"),
    ("files: {a: {nested: 1}}", "must be text"),
    ("fixture: /tmp", "must be relative"),
    ("fixture: ../other-skill", "must not contain '..'"),
    ("route_to: [a, b]", "skill name or 'none'"),
    ("route_to: 'has space'", "skill name or 'none'"),
])
def test_bad_optional_fields_say_what_is_wrong(case: str, message: str) -> None:
    with pytest.raises(TriggersError, match="case 1") as exc:
        parse_cases(f"cases:\n  - prompt: p\n    expect: trigger\n    {case}\n")
    assert message in str(exc.value)


def test_inline_files_are_bounded() -> None:
    big = "x" * (MAX_FILES_BYTES + 1)
    with pytest.raises(TriggersError, match="256 KB"):
        parse_cases(json.dumps({"cases": [{"prompt": "p", "expect": "trigger", "files": {"a.txt": big}}]}))
    many = {f"f{i}.txt": "x" for i in range(51)}
    with pytest.raises(TriggersError, match="limit is 50"):
        parse_cases(json.dumps({"cases": [{"prompt": "p", "expect": "trigger", "files": many}]}))


def test_yaml_aliases_are_refused_before_they_expand() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)) + "cases: []\n"
    with pytest.raises(TriggersError, match="aliases"):
        parse_cases(bomb)


def test_fixture_must_be_a_real_folder_inside_the_skill(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    d = make_skill(tmp_path, triggers="cases:\n  - prompt: p\n    expect: trigger\n    fixture: evals/data\n")
    with pytest.raises(TriggersError, match="not a folder of the skill"):
        load_cases(d)
    (d / "evals" / "data").symlink_to(outside, target_is_directory=True)
    with pytest.raises(TriggersError, match="symbolic link"):
        load_cases(d)
    skill = load_skill(d)
    assert skill.cases_error and "symbolic link" in skill.cases_error
    (d / "evals" / "data").unlink()
    (d / "evals" / "data").mkdir()
    (case,) = load_cases(d)
    assert fixture_dir(d, case) == d / "evals" / "data"
    assert fixture_dir(d, TriggerCase(prompt="p", expect="trigger")) is None


def test_a_triggers_file_that_is_a_link_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "secret.yaml").write_text("cases:\n  - prompt: token-123\n    expect: trigger\n", encoding="utf-8")
    d = make_skill(tmp_path)
    (d / "evals").mkdir()
    (d / "evals" / "triggers.yaml").symlink_to(tmp_path / "secret.yaml")
    skill = load_skill(d)
    assert skill.cases == [] and skill.cases_error and "symbolic link" in skill.cases_error


# ----------------------------------------------------------------------------- other formats

SKILL_CREATOR = [
    {"query": "Pull the Q3 pipeline for Acme", "should_trigger": True},
    {"query": "Draft a reply to this angry customer", "should_trigger": False},
]


def test_skill_creator_round_trip() -> None:
    cases = import_data(SKILL_CREATOR)
    assert [(c.prompt, c.expect) for c in cases] == [("Pull the Q3 pipeline for Acme", "trigger"),
                                                     ("Draft a reply to this angry customer", "no_trigger")]
    assert json.loads(export_cases(cases, "skill-creator")) == SKILL_CREATOR


def test_variants_seen_in_real_repositories() -> None:
    data = {"skill_name": "crm-query", "evals": [
        {"id": "neg-1", "prompt": "check CI on PR 456", "should_trigger": False, "expected_skill": "pr-check",
         "note": "why this is tricky"},
        {"id": 2, "request": "Show the Acme pipeline", "should_trigger": True, "expected_skill": "crm-query",
         "expected_tools": ["salesforce"]},
        {"query": "Make a git commit", "should_trigger": False, "expected_skill": None, "notes": "no skill"},
    ]}
    a, b, c = import_data(data, "set.json", "crm-query")
    assert (a.prompt, a.expect, a.route_to, a.why, a.model_extra) == (
        "check CI on PR 456", "no_trigger", "pr-check", "why this is tricky", {"id": "neg-1"})
    assert (b.expect, b.route_to, b.model_extra) == ("trigger", None, {"id": 2, "expected_tools": ["salesforce"]})
    assert (c.route_to, c.why) == ("none", "no skill")
    back = import_data(json.loads(export_cases([a, b, c], "skill-creator")), "x", "crm-query")
    assert back == [a, b, c]
    assert json.loads(export_cases([c], "skill-creator")) == [
        {"query": "Make a git commit", "should_trigger": False, "expected_skill": None, "notes": "no skill"}]


@pytest.mark.parametrize(("data", "message"), [
    ({"evals": [{"id": 1, "prompt": "Summarise", "expected_output": "a summary"}]}, "output eval set"),
    ([{"query": "x", "should_trigger": "yes"}], "must be true or false"),
    ([{"should_trigger": True}], "non-empty 'query'"),
    ([{"query": "x", "prompt": "y", "should_trigger": True}], "keep one"),
    ([{"query": "x", "should_trigger": True, "expected_skill": "other"}], "import it into that skill"),
    ([{"query": "x", "should_trigger": True, "files": ["in.csv"]}], "list of paths"),
    ({"name": "x"}, "expected a JSON list of cases"),
])
def test_unusable_eval_sets_say_why(data: object, message: str) -> None:
    with pytest.raises(TriggersError, match=message):
        import_data(data, "set.json", "crm-query")


def test_a_skill_creator_list_in_triggers_yaml_is_read(tmp_path: Path) -> None:
    d = make_skill(tmp_path, triggers="- query: Pull the pipeline\n  should_trigger: true\n")
    assert [c.expect for c in load_cases(d)] == ["trigger"]


def test_import_merges_by_prompt_and_export_round_trips(tmp_path: Path) -> None:
    d = make_skill(tmp_path, triggers="# owned by sales-ops\ncases:\n  # the main one\n"
                   "  - prompt: Pull the Q3 pipeline for Acme\n    expect: trigger\n")
    src = tmp_path / "set.json"
    src.write_text(json.dumps(SKILL_CREATOR), encoding="utf-8")
    report = import_into_skill(src, d)
    assert (report.added, report.duplicates) == (1, 1)
    text = (d / "evals" / "triggers.yaml").read_text(encoding="utf-8")
    assert text.startswith("# owned by sales-ops\ncases:\n  # the main one\n  - prompt: Pull the Q3")  # kept
    assert [c.prompt for c in load_cases(d)] == [s["query"] for s in SKILL_CREATOR]
    assert json.loads(export_skill(d, "skill-creator")) == SKILL_CREATOR
    yaml_text = export_skill(d, "yaml")
    again = tmp_path / "again.yaml"
    again.write_text(yaml_text, encoding="utf-8")
    assert read_cases_file(again) == load_cases(d)
    report = import_into_skill(src, d, replace=True)
    assert (report.added, report.replaced) == (2, 2)


def test_import_never_overwrites_a_broken_file_or_writes_through_a_link(tmp_path: Path) -> None:
    src = tmp_path / "set.json"
    src.write_text(json.dumps(SKILL_CREATOR), encoding="utf-8")
    broken = "cases:\n  - prompt: [unclosed\n"
    d = make_skill(tmp_path, triggers=broken)
    with pytest.raises(TriggersError, match="invalid YAML"):
        import_into_skill(src, d)
    assert (d / "evals" / "triggers.yaml").read_text(encoding="utf-8") == broken
    other = tmp_path / "elsewhere.yaml"
    other.write_text("cases: []\n", encoding="utf-8")
    d2 = make_skill(tmp_path, "linked")
    (d2 / "evals").mkdir()
    (d2 / "evals" / "triggers.yaml").symlink_to(other)
    with pytest.raises(TriggersError, match="symbolic link"):
        import_into_skill(src, d2)
    assert other.read_text(encoding="utf-8") == "cases: []\n"
    with pytest.raises(TriggersError, match="not a skill folder"):
        import_into_skill(src, tmp_path / "nowhere")


def test_route_to_is_checked_against_the_catalog(tmp_path: Path) -> None:
    from skillstudio.bundle.validate import validate_workspace
    from skillstudio.bundle.workspace import load_workspace

    make_skill(tmp_path, "support-reply")
    make_skill(tmp_path, triggers="cases:\n"
               "  - prompt: Reply to the customer\n    expect: no_trigger\n    route_to: support-reply\n"
               "  - prompt: Book a flight\n    expect: no_trigger\n    route_to: travel-desk\n"
               "  - prompt: Hello\n    expect: no_trigger\n    route_to: crm-query\n"
               "  - prompt: Weather\n    expect: no_trigger\n    route_to: none\n")
    ws = load_workspace(tmp_path)
    problems = dict(zip([s.name for s in ws.skills], validate_workspace(ws.skills), strict=True))["crm-query"]
    unknown = [p for p in problems if p.code == "triggers.route-unknown"]
    assert len(unknown) == 1 and "case 2: route_to 'travel-desk'" in unknown[0].message
    assert [p.message[:6] for p in problems if p.code == "triggers.route-self"] == ["case 3"]


def test_parsers_raise_only_triggers_error_on_anything() -> None:
    """Fuzz: any text or JSON-shaped data either parses or gives one clear TriggersError (never a crash)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
    data = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4) |
                        st.dictionaries(st.sampled_from(["query", "prompt", "request", "should_trigger", "expect",
                                                         "expected_skill", "route_to", "files", "fixture", "notes",
                                                         "why", "id", "cases", "evals", "x"]), inner, max_size=5),
                        max_leaves=20)

    @settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data, st.text(max_size=200))
    def check(obj: object, text: str) -> None:
        for call in (lambda: import_data(obj, "f", "crm-query"), lambda: parse_cases(text),
                     lambda: parse_cases(json.dumps(obj))):
            try:
                cases = call()
            except TriggersError as exc:
                assert str(exc) and "\n" not in str(exc)
                continue
            for c in cases:  # whatever parsed round-trips through both formats
                assert parse_cases(dump_cases([c])) == [c]
                assert import_data(json.loads(export_cases([c], "skill-creator")), "f") == [c]

    check()
    # the case hypothesis may not reach: a route_to on a trigger case survives the skill-creator format
    odd = TriggerCase(prompt="p", expect="trigger", route_to="other")
    assert import_data(json.loads(export_cases([odd], "skill-creator")), "f") == [odd]


def test_a_case_may_take_a_fixture_folder_and_files_over_it() -> None:
    from skillstudio.bundle.triggers import parse_cases

    [case] = parse_cases("cases:\n  - prompt: reconcile these\n    expect: trigger\n    fixture: data\n"
                         "    files: {notes.txt: see the october sheet}\n")
    assert case.fixture == "data" and case.files == {"notes.txt": "see the october sheet"}
