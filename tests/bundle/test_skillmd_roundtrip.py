"""skillmd: an unchanged file round-trips byte for byte; a one-field edit changes only that field's lines."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from skills_ref.parser import parse_frontmatter

from skillstudio.bundle import skillmd
from skillstudio.bundle.fileio import atomic_write, read_text_file
from skillstudio.bundle.specparse import normalise_newlines

SAMPLE = (
    "---\n"
    "# the catalog entry\n"
    "name: crm-query   # must match the folder\n"
    "description: 'Queries the CRM: pipeline, accounts. Do not use for tickets.'\n"
    "license: Apache-2.0\n"
    "metadata:\n"
    "  owner: sales-ops\n"
    '  version: "1.2.0"\n'
    "allowed-tools: Read Bash\n"
    "---\n"
    "# CRM query\n\nSteps.\n"
)


def _unchanged_rebuild(text: str) -> str:
    sp = skillmd.split(text)
    return skillmd._rebuild(text, sp, skillmd.fm_lines(sp)) if sp.has_open and sp.closed else text


def test_unchanged_file_round_trips_byte_for_byte(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for text in (SAMPLE, SAMPLE.replace("\n", "\r\n"), skillmd.BOM + SAMPLE, "\n\n" + SAMPLE,
                 SAMPLE.rstrip("\n"), "---\n---\nbody"):
        p = tmp_path / "SKILL.md"
        atomic_write(p, text)
        assert read_text_file(p) == text
        assert _unchanged_rebuild(read_text_file(p)) == text
        assert p.read_bytes() == text.encode("utf-8")


def test_edit_one_field_keeps_everything_else() -> None:
    new = skillmd.set_field(SAMPLE, "license", "MIT")
    assert new == SAMPLE.replace("license: Apache-2.0", "license: MIT")
    # quoting style and the trailing comment are kept
    new = skillmd.set_field(SAMPLE, "name", "crm-lookup")
    assert new == SAMPLE.replace("name: crm-query   # must", "name: crm-lookup   # must")
    new = skillmd.set_field(SAMPLE, "description", "It's new: really")
    assert "description: 'It''s new: really'\n" in new
    assert yaml.safe_load(skillmd.split(new).fm_text)["description"] == "It's new: really"
    assert new.replace("description: 'It''s new: really'", "") == SAMPLE.replace(
        "description: 'Queries the CRM: pipeline, accounts. Do not use for tickets.'", "")


def test_edit_keeps_crlf_and_bom() -> None:
    text = skillmd.BOM + SAMPLE.replace("\n", "\r\n")
    new = skillmd.set_field(text, "license", "MIT")
    assert new == skillmd.BOM + SAMPLE.replace("license: Apache-2.0", "license: MIT").replace("\n", "\r\n")
    new = skillmd.set_metadata(text, "version", "1.3.0")
    assert new == text.replace('version: "1.2.0"', 'version: "1.3.0"')


def test_metadata_add_and_remove() -> None:
    added = skillmd.set_metadata(SAMPLE, "team", "west")
    assert added == SAMPLE.replace('  version: "1.2.0"\n', '  version: "1.2.0"\n  team: "west"\n')
    assert skillmd.set_metadata(added, "team", None) == SAMPLE
    removed = skillmd.set_field(SAMPLE, "allowed-tools", None)
    assert removed == SAMPLE.replace("allowed-tools: Read Bash\n", "")
    appended = skillmd.set_field(SAMPLE, "compatibility", "Python 3.11")
    assert appended == SAMPLE.replace("allowed-tools: Read Bash\n",
                                      "allowed-tools: Read Bash\ncompatibility: Python 3.11\n")


def test_flow_metadata_edit_keeps_other_lines() -> None:
    text = "---\nname: a\nmetadata: {version: 1.0.0, owner: me}\ndescription: d\n---\nbody\n"
    new = skillmd.set_metadata(text, "version", "1.1.0")
    assert new.startswith("---\nname: a\nmetadata: {") and new.endswith("}\ndescription: d\n---\nbody\n")
    assert yaml.safe_load(skillmd.split(new).fm_text)["metadata"] == {"version": "1.1.0", "owner": "me"}


any_value = st.one_of(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
                      st.sampled_from(["a---b", "x\ty", "\x85", "\u2028", "\ufeff", "it's", "a: b", "#c", "- x"]))


@settings(max_examples=200, deadline=None)
@given(any_value, st.sampled_from(["'", '"', ""]))
def test_set_field_reads_back_any_string(value: str, style: str) -> None:
    """Whatever the editor's form writes reads back the same — for PyYAML and for skills-ref."""
    base = SAMPLE.replace("description: 'Queries", f"description: {style}Queries").replace(
        "tickets.'", f"tickets.{style}")
    new = skillmd.set_field(base, "description", value)
    data, sp = skillmd.load_front_matter(new)
    assert data["description"] == value
    ref, _ = parse_frontmatter(normalise_newlines(new))
    assert ref["description"] == value
    assert sp.body == skillmd.split(SAMPLE).body
    others = {k: v for k, v in data.items() if k != "description"}
    assert others == {k: v for k, v in skillmd.load_front_matter(SAMPLE)[0].items() if k != "description"}


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_any_text_round_trips(body: str, nl: str, bom: bool) -> None:
    text = (skillmd.BOM if bom else "") + ("---\nname: x\n---\n" + body).replace("\n", nl)
    assert _unchanged_rebuild(text) == text
