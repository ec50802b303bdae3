"""Saving from the cases editor edits triggers.yaml in place: comments and untouched cases stay as written."""

from __future__ import annotations

from pathlib import Path

from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor
from skillstudio.ui.triggers.cases_model import COL_EXPECT

ORIGINAL = """\
# Cases for crm-query, reviewed by the sales team.
suite: crm
cases:
  # the happy path
  - prompt: Pull the Q3 pipeline for Acme from Salesforce   # from Dana
    expect: trigger
    tags: [pipeline]
  - prompt: 'A customer says their login is broken, draft a reply'
    expect: no_trigger
    route_to: support-reply
    why: support tickets belong to support-reply
  - prompt: "List open opportunities over 50k"
    expect: trigger
owner: sales-ops
"""


def test_one_edit_changes_one_line(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    skill = tmp_path / "crm-query"
    (skill / "evals").mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: crm-query\ndescription: CRM.\n---\n", encoding="utf-8")
    path = skill / "evals" / "triggers.yaml"
    path.write_text(ORIGINAL, encoding="utf-8")
    editor = TriggerCasesEditor()
    qtbot.addWidget(editor)
    editor.load(skill)
    editor.model.set_cell(2, COL_EXPECT, "no_trigger")
    assert editor.save()
    want = ORIGINAL.replace('over 50k"\n    expect: trigger', 'over 50k"\n    expect: no_trigger')
    assert path.read_text(encoding="utf-8") == want
    editor.undo_stack.undo()
    assert editor.save()
    assert path.read_text(encoding="utf-8") == ORIGINAL
