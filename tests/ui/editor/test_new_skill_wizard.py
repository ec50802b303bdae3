"""NewSkillWizard: a person picks a template, types a name and a description, and gets a valid skill."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QWizard
from skills_ref.validator import validate

from skillstudio.bundle import scaffold
from skillstudio.bundle.model import load_skill
from skillstudio.bundle.triggers import load_cases
from skillstudio.ui.editor.new_skill_wizard import NewSkillWizard

DESCRIPTION = "Triages supplier invoices from the inbox: match PO, flag duplicates. Do not use for payroll."


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    return ws


def _wizard(qtbot, workspace: Path) -> NewSkillWizard:  # type: ignore[no-untyped-def]
    w = NewSkillWizard(workspace)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _snapshot(widget: QWizard, path: Path) -> None:
    QApplication.processEvents()
    assert widget.grab().save(str(path))


@pytest.mark.parametrize("template_id", [t.id for t in scaffold.list_templates()])
def test_wizard_creates_a_valid_skill_from_each_template(qtbot, workspace: Path, template_id: str,  # type: ignore[no-untyped-def]
                                                         artifacts_dir: Path) -> None:
    w = _wizard(qtbot, workspace)
    ids = [w.template_page.list.item(i).data(0x0100) for i in range(w.template_page.list.count())]
    w.template_page.list.setCurrentRow(ids.index(template_id))
    assert w.template_page.template_id() == template_id
    if template_id == ids[0]:
        _snapshot(w, artifacts_dir / "wizard_1_template.png")
    w.next()
    assert w.currentPage() is w.name_page
    assert not w.button(QWizard.WizardButton.NextButton).isEnabled()
    qtbot.keyClicks(w.name_page.name_edit, "invoice-triage")
    w.name_page.desc_edit.setPlainText(DESCRIPTION)
    assert w.button(QWizard.WizardButton.NextButton).isEnabled()
    assert w.name_page.desc_count.text() == f"{len(DESCRIPTION)} / 1024"
    assert "Says when not to use" in w.name_page.desc_hint.text()
    if template_id == ids[0]:
        _snapshot(w, artifacts_dir / "wizard_2_name.png")
    w.next()
    w.cases_page.pos_edit.setPlainText("Triage the invoices in inbox/\nIs invoice 4471 a duplicate?\n\n")
    w.cases_page.neg_edit.setPlainText("Run payroll for March\nReconcile the March ledger\n"
                                       "Reconcile the March ledger\n")
    assert "2 trigger · 2 no_trigger" in w.cases_page.count.text()
    if template_id == ids[0]:
        _snapshot(w, artifacts_dir / "wizard_3_cases.png")
    w.button(QWizard.WizardButton.FinishButton).click()

    assert w.result() == QWizard.DialogCode.Accepted
    path = w.created_path()
    assert path == workspace / "invoice-triage"
    assert validate(path) == []
    skill = load_skill(path)
    assert (skill.name, skill.description, skill.version) == ("invoice-triage", DESCRIPTION, "0.1.0")
    assert [(c.prompt, c.expect) for c in load_cases(path)] == [
        ("Triage the invoices in inbox/", "trigger"), ("Is invoice 4471 a duplicate?", "trigger"),
        ("Run payroll for March", "no_trigger"), ("Reconcile the March ledger", "no_trigger")]


def test_name_is_validated_live_with_a_suggestion(qtbot, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    (workspace / "crm-query").mkdir()
    w = _wizard(qtbot, workspace)
    w.next()
    page = w.name_page
    page.desc_edit.setPlainText("Queries the CRM.")
    assert "Do not use for" in page.desc_hint.text()  # nudged, but allowed
    qtbot.keyClicks(page.name_edit, "CRM Query")
    assert "lowercase" in page.name_status.text()
    assert not w.button(QWizard.WizardButton.NextButton).isEnabled()
    assert page.suggest_btn.isVisible() and page.suggest_btn.text() == "Use “crm-query-2”"  # crm-query is taken
    page.suggest_btn.click()
    assert page.name_edit.text() == "crm-query-2"
    assert page.name_status.text() == "✓ Valid name"
    assert w.button(QWizard.WizardButton.NextButton).isEnabled()

    page.name_edit.setText("crm-query")
    assert page.name_status.text() == "'crm-query' already exists in this workspace."
    assert not w.button(QWizard.WizardButton.NextButton).isEnabled()
    page.name_edit.setText("ok-name")
    page.desc_edit.setPlainText("x" * 1025)
    assert page.desc_count.text() == "1025 / 1024" and "Too long" in page.desc_hint.text()
    assert not w.button(QWizard.WizardButton.NextButton).isEnabled()


def test_create_can_finish_without_cases(qtbot, workspace: Path) -> None:  # type: ignore[no-untyped-def]
    w = _wizard(qtbot, workspace)
    w.next()
    w.name_page.name_edit.setText("no-cases")
    w.name_page.desc_edit.setPlainText(DESCRIPTION)
    finish = w.button(QWizard.WizardButton.FinishButton)
    assert finish.isVisible() and finish.isEnabled()
    finish.click()
    assert w.created_path() == workspace / "no-cases"
    assert validate(workspace / "no-cases") == []
    template = scaffold.find_template(w.template_page.template_id())
    expected = load_cases(template.path) if template.path else []  # the template's example cases
    assert load_cases(workspace / "no-cases") == expected


def test_failure_is_reported_and_the_wizard_stays_open(qtbot, workspace: Path,  # type: ignore[no-untyped-def]
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    errors: list[str] = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda parent, title, text, *a: errors.append(text)))
    w = _wizard(qtbot, workspace)
    w.next()
    w.name_page.name_edit.setText("raced")
    w.name_page.desc_edit.setPlainText(DESCRIPTION)
    (workspace / "raced").mkdir()  # another tool creates the folder after the page validated the name
    (workspace / "raced" / "mine.txt").write_text("keep")
    w.button(QWizard.WizardButton.FinishButton).click()
    assert len(errors) == 1 and "already exists" in errors[0] and "choose another name" in errors[0]
    assert w.isVisible() and w.created_path() is None
    assert [p.name for p in (workspace / "raced").iterdir()] == ["mine.txt"]
