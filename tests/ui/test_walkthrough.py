"""A new user's first hour, end to end, offscreen, with a screenshot at every step.

First run (offline, then a local OpenAI-compatible server) → the examples as a git workspace → a new
skill from the wizard → its description and trigger cases → a trigger run that shows a false trigger
→ a negative example and a "Do not use for" clause → a second run, compared: the false trigger fixed
→ release → the skill's script in the subprocess sandbox with a secret as a placeholder.

Everything is the real product; the only test double is the OpenAI-compatible server at the HTTP
boundary (tests/support/fake_openai.py), scripted as a model that reads descriptions: the new skill's
keyword pulls in one of its no_trigger prompts until the description says "Do not use for" it.
Screenshots: artifacts_dir/walkthrough-NN-<step>.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QWidget, QWizard

from skillstudio.bundle import history
from skillstudio.bundle.model import load_skill
from skillstudio.bundle.triggers import load_cases
from skillstudio.release.lockfile import set_route
from skillstudio.secrets.vault import Vault
from skillstudio.ui.common.provider_form import CHAT
from skillstudio.ui.common.settings import AppSettings
from skillstudio.ui.editor.new_skill_wizard import NewSkillWizard
from skillstudio.ui.playground.panel import ROUTE
from skillstudio.ui.publish.registry_browser import VERIFY_TRUST
from skillstudio.ui.shell.first_run import FirstRunWizard, needs_first_run
from skillstudio.ui.triggers.cases_model import COL_EXPECT, COL_PROMPT, COL_WHY
from support.fake_agent_server import FakeAgentServer, message, shell_call
from support.fake_agent_server import Script as AgentScript
from support.fake_agent_server import response as agent_response
from support.fake_openai import FakeOpenAI, Script
from support.gitrepo import git, isolate_git
from support.leaks import register_sweep_root, register_test_secret

SKILL = "travel-expenses"
DESCRIPTION = "Checks travel expense reports against the travel policy: receipts, per-diem limits, approvals."
CLAUSE = " Do not use for vendor invoices or ledger reconciliation."
TRIGGERS = ["Check Ana's March travel expense report against the policy",
            "Is this hotel receipt within the per-diem limit?"]
NO_TRIGGERS = ["Reconcile the vendor invoices and expense accounts in the ledger", "Run payroll for March"]
NEGATIVE = "Book the vendor invoices from this expense batch"
FALSE_TRIGGER = NO_TRIGGERS[0]
# The scripted model: the first keyword found names the skill it reads (unless that skill's
# description excludes the prompt); the new skill's "expense" comes first, so it grabs the ledger prompt.
KEYWORDS = [("expense", SKILL), ("receipt", SKILL), ("reconcil", "ledger-reconcile"), ("ledger", "ledger-reconcile"),
            ("salesforce", "crm-query"), ("pipeline", "crm-query"), ("ticket", "support-reply"),
            ("vlan", "network-config"), ("audit", "compliance-evidence")]
SECRET = register_test_secret("sk-walkthrough-7f3e9a1c5b")


class Shots:
    """walkthrough-NN-<step>.png, numbered in the order taken."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.n = folder, 0
        for old in folder.glob("walkthrough-*.png"):
            old.unlink()

    def __call__(self, widget: QWidget, step: str) -> Path:
        QApplication.processEvents()
        self.n += 1
        path = self.folder / f"walkthrough-{self.n:02d}-{step}.png"
        assert widget.grab().save(str(path)), path
        return path


def _run_suite(qtbot, w, skill: str) -> dict:  # type: ignore[no-untyped-def]
    panel = w.features.test_panel
    with qtbot.waitSignal(panel.sig_run_finished, timeout=60000) as blocker:
        panel.run_skills([skill])
    return blocker.args[0]


def _outcomes(report: dict, prompt: str) -> list[str]:
    return [c["status"] for c in report["cases"] if c["prompt"] == prompt]


def test_a_new_users_first_hour(qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 real_keyring: None, bwrap_available: None, oci_registry: str,
                                 artifacts_dir: Path) -> None:
    shot = Shots(artifacts_dir)
    server = FakeOpenAI(Script(keywords=KEYWORDS, heeds_exclusions=True, models=["llama3.1", "qwen3"]))
    with server as srv:
        # ---------------------------------------------------------------- 1. first run
        settings = AppSettings()
        assert needs_first_run(settings)
        wiz = FirstRunWizard(settings)  # deletes itself on Finish
        wiz.show()
        qtbot.waitExposed(wiz)
        target = tmp_path / "SkillStudio" / "skills"
        wiz.workspace_page.examples_path.setText(str(target))
        shot(wiz, "first-run-workspace")
        wiz.next()
        assert wiz.currentPage() is wiz.provider_page and (target / "crm-query" / "SKILL.md").is_file()
        page = wiz.provider_page
        assert page.offline.isChecked() and not page.test_button.isEnabled()
        shot(wiz, "first-run-offline")
        page.local.setChecked(True)
        page.local_api.setCurrentIndex(page.local_api.findData(CHAT))  # this server is used through chat
        page.base_url.setText(srv.base_url.replace("127.0.0.1", "localhost").replace("/v1", ""))
        with qtbot.waitSignal(page.sig_tested, timeout=20000) as tested:
            page.test_button.click()
        assert tested.args[0] is False and "HTTP 404" in page.result.text() and "/v1" in page.result.text()
        page.base_url.setText(srv.base_url)
        with qtbot.waitSignal(page.sig_tested, timeout=20000) as tested:
            page.test_button.click()
        assert tested.args[0] is True and "2 model(s): llama3.1, qwen3" in page.result.text()
        assert page.model.currentText() == "llama3.1"
        shot(wiz, "first-run-local-server")
        with qtbot.waitSignal(wiz.sandbox_page.sig_checked, timeout=30000) as checked:
            wiz.next()
        backend = next(c for c in checked.args[0] if c.required)
        assert backend.ok and "subprocess" in backend.detail
        assert "Scripts can run sandboxed here" in wiz.sandbox_page.status.text()
        shot(wiz, "first-run-sandbox")
        wiz.next()
        with qtbot.waitSignal(wiz.key_page.sig_key_created, timeout=20000) as created:
            wiz.key_page.create_button.click()
        assert created.args[0].name == "default" and created.args[0].keyid in wiz.key_page.result.text()
        assert "trusted in this workspace" in wiz.key_page.result.text()
        shot(wiz, "first-run-signing-key")
        with qtbot.waitSignal(wiz.sig_done, timeout=5000) as done:
            wiz.button(QWizard.WizardButton.FinishButton).click()
        ws = done.args[0]
        assert ws == target and not needs_first_run(AppSettings())
        assert AppSettings().value("test/provider") == CHAT and AppSettings().value("test/base_url") == srv.base_url

        # ---------------------------------------------------------------- 2. the examples, under git
        isolate_git(tmp_path, monkeypatch)
        history.init_repo(ws)
        w = make_window(ws)
        w.resize(1440, 1000)  # room for an editor and a panel in every screenshot
        assert len(w.workspace.skills) == 5
        shot(w, "examples-open")

        # ---------------------------------------------------------------- 3. a new skill from the wizard
        def drive_wizard() -> None:
            wizard = QApplication.activeModalWidget()
            if not isinstance(wizard, NewSkillWizard):
                QTimer.singleShot(20, drive_wizard)
                return
            ids = [wizard.template_page.list.item(i).data(0x0100) for i in range(wizard.template_page.list.count())]
            wizard.template_page.list.setCurrentRow(ids.index("with-script"))
            shot(wizard, "new-skill-template")
            wizard.next()
            wizard.name_page.name_edit.setText(SKILL)
            wizard.name_page.desc_edit.setPlainText(DESCRIPTION)
            shot(wizard, "new-skill-name")
            wizard.next()
            wizard.cases_page.pos_edit.setPlainText("\n".join(TRIGGERS))
            wizard.cases_page.neg_edit.setPlainText("\n".join(NO_TRIGGERS))
            shot(wizard, "new-skill-cases")
            wizard.button(QWizard.WizardButton.FinishButton).click()

        QTimer.singleShot(0, drive_wizard)
        created_path = w.new_skill()
        skill = ws / SKILL
        assert created_path == skill and load_skill(skill).description == DESCRIPTION
        qtbot.waitUntil(lambda: w.workspace is not None and w.workspace.skill(SKILL) is not None, timeout=20000)

        # ---------------------------------------------------------------- 4. its trigger cases
        with qtbot.waitSignal(w.sig_checked, timeout=20000):
            editor = w.open_cases(skill)
        assert editor is not None
        assert [(c.prompt, c.expect) for c in editor.cases()] == (
            [(p, "trigger") for p in TRIGGERS] + [(p, "no_trigger") for p in NO_TRIGGERS])
        shot(w, "cases-editor")

        # ---------------------------------------------------------------- 5. the first run: a false trigger
        w.features.show_tests()
        panel = w.features.test_panel
        assert panel.provider.choice().kind == CHAT and panel.provider.choice().base_url == srv.base_url
        panel.provider.runs.setValue(2)
        first = _run_suite(qtbot, w, SKILL)
        assert first["estimate"] is False
        assert set(_outcomes(first, FALSE_TRIGGER)) == {"fail"}
        assert all(set(_outcomes(first, p)) == {"pass"} for p in [*TRIGGERS, NO_TRIGGERS[1]])
        shot(w, "first-run-false-trigger")

        # ---------------------------------------------------------------- 6. a negative example and the clause
        row = editor.add_case("no_trigger", NEGATIVE, "vendor invoices belong to ledger-reconcile")
        assert editor.model.index(row, COL_PROMPT).data() == NEGATIVE
        assert editor.model.index(row, COL_EXPECT).data() == "no_trigger"
        assert editor.model.index(row, COL_WHY).data().startswith("vendor invoices")
        assert editor.save()
        md = w.open_file(skill / "SKILL.md")
        assert md is not None
        form = md.form
        form.description.setPlainText(DESCRIPTION + CLAUSE)
        qtbot.waitUntil(lambda: "Do not use for" in md.buffer_text(), timeout=5000)
        shot(w, "description-clause")
        assert w.save_all()
        assert load_skill(skill).description == DESCRIPTION + CLAUSE
        assert [c.prompt for c in load_cases(skill)][-1] == NEGATIVE

        # ---------------------------------------------------------------- 7. re-run and compare
        w.features.show_tests()
        second = _run_suite(qtbot, w, SKILL)
        assert set(_outcomes(second, FALSE_TRIGGER)) == {"pass"} and set(_outcomes(second, NEGATIVE)) == {"pass"}
        assert second["summary"]["accuracy"] > first["summary"]["accuracy"]
        cmp_widget = panel.compare
        panel.tabs.setCurrentWidget(cmp_widget)
        qtbot.waitUntil(lambda: cmp_widget.comparison is not None and len(cmp_widget.run_ids()) == 2, timeout=10000)
        assert FALSE_TRIGGER in {c["prompt"] for c in cmp_widget.comparison["fixed"]}
        assert cmp_widget.flipped_rows().get(FALSE_TRIGGER) == "fixed"
        shot(w, "compare-runs")

        # ---------------------------------------------------------------- 8. release
        git(ws, "add", "-A")
        git(ws, "commit", "-q", "-m", f"Add {SKILL}")
        w.tree.select_skill(skill)
        versions = w.versions
        w.versions_dock.show()
        w.versions_dock.raise_()
        qtbot.waitUntil(lambda: versions.btn_release.isVisible() and versions.btn_release.isEnabled(), timeout=20000)
        versions.btn_release.click()
        dlg = versions.release_dialog
        assert dlg is not None
        dlg.radios["minor"].setChecked(True)
        dlg.notes.setPlainText("Says when not to use it: vendor invoices go to ledger-reconcile")
        shot(dlg, "release-dialog")
        with qtbot.waitSignal(versions.sig_released, timeout=30000) as released:
            dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        assert released.args == ["0.2.0"]
        assert f"{SKILL}/v0.2.0" in git(ws, "tag", "--list").split()
        qtbot.waitUntil(lambda: not versions.busy and not w.tree.filling and versions.btn_release.isEnabled(),
                        timeout=20000)
        assert "0.2.0" in versions.subtitle.text()
        shot(w, "released")

        # ---------------------------------------------------------------- 9. its script in the sandbox, with a secret
        f = w.features
        f.show_secrets()
        sm = f.secrets
        qtbot.waitUntil(sm.save_btn.isEnabled, timeout=10000)  # the vault's list is read when first shown
        assert sm.empty.isVisible()
        sm.new_btn.click()
        qtbot.keyClicks(sm.name_edit, "EXPENSES_TOKEN")
        qtbot.keyClicks(sm.desc_edit, "Expenses API (read-only)")
        qtbot.keyClicks(sm.domains_edit, "api.expenses.example.com")
        qtbot.keyClicks(sm.value_edit, SECRET)
        with qtbot.waitSignal(sm.sig_saved, timeout=10000):
            sm.save_btn.click()
        qtbot.waitUntil(lambda: sm.table.rowCount() == 1 and sm.save_btn.isEnabled(), timeout=10000)
        assert Vault(ws).value("EXPENSES_TOKEN") == SECRET
        shot(w, "secret-stored")
        data = register_sweep_root(tmp_path / "data")
        data.mkdir()
        (data / "report.txt").write_text("Hotel 2 nights 240 EUR\nTaxi 35 EUR\n", encoding="utf-8")
        f.show_sandbox()
        console = f.sandbox
        console.set_skill(skill)
        console.data_edit.setText(str(data))
        qtbot.waitUntil(lambda: console.secrets_list.count() == 1, timeout=10000)
        console.secrets_list.item(0).setCheckState(Qt.CheckState.Checked)
        assert "secrets: EXPENSES_TOKEN as placeholders" in console.policy_view.toPlainText()
        script = f"python3 /skills/{SKILL}/scripts/run.py"
        assert [console.command.itemText(i) for i in range(console.command.count())] == [script]
        console.command.setEditText(f'{script} /data/report.txt --json && echo "token=$EXPENSES_TOKEN"')
        with qtbot.waitSignal(console.sig_finished, timeout=60000) as ran:
            console.run_button.click()
        res = ran.args[0].result
        assert res.exit_code == 0, res.stderr
        assert '"lines": 2' in res.stdout and "token=ssph_" in res.stdout and SECRET not in res.stdout
        shot(w, "sandbox-script-with-secret")

        # ---------------------------------------------------------------- 10. sign and push to a registry
        dialog = f.export_skill()
        assert dialog is not None
        qtbot.waitExposed(dialog)
        dialog._refresh_keys(select="default")  # the key made in the first-run flow
        assert dialog.key_combo.currentData() == "default"
        dialog.target_combo.setCurrentIndex(1)
        dialog.ref_edit.setText(f"oci://{oci_registry}/skills/{SKILL}:0.2.0")
        dialog.plain_http.setChecked(True)
        dialog.lock_check.setChecked(True)
        dialog.review_btn.click()
        qtbot.waitUntil(lambda: dialog.stack.currentIndex() == 1 and dialog._job is None, timeout=20000)
        assert "org.opencontainers.image.version = 0.2.0" in dialog.pushed_text.toPlainText()
        shot(dialog, "export-review")
        dialog.export_btn.click()
        qtbot.waitUntil(lambda: dialog._job is None and (dialog.result_info is not None
                                                         or "failed" in dialog.status.text()), timeout=30000)
        assert dialog.result_info is not None, dialog.status.text()
        assert f"recorded {SKILL}@0.2.0 in skills.lock" in dialog.status.text()
        shot(dialog, "export-pushed")
        digest = dialog.result_info.manifest_digest
        dialog.close()

        # ---------------------------------------------------------------- 11. pull and verify
        f.show_registry()
        b = f.registry
        b.location_edit.setText(f"oci://{oci_registry}")
        b.plain_http.setChecked(True)
        b.connect_btn.click()
        repo = f"skills/{SKILL}"
        qtbot.waitUntil(lambda: bool(b.repos.findItems(repo, Qt.MatchFlag.MatchExactly)), timeout=20000)
        b.repos.setCurrentItem(b.repos.findItems(repo, Qt.MatchFlag.MatchExactly)[0])
        qtbot.waitUntil(lambda: bool(b.tags.findItems("0.2.0", Qt.MatchFlag.MatchExactly)), timeout=20000)
        b.tags.setCurrentItem(b.tags.findItems("0.2.0", Qt.MatchFlag.MatchExactly)[0])
        qtbot.waitUntil(lambda: b.current is not None and getattr(b.current.ref, "tag", None) == "0.2.0",
                        timeout=20000)
        assert b.current.manifest_digest == digest and [s.signer for s in b.current.signatures] == ["default"]
        assert b.verify_combo.currentIndex() == VERIFY_TRUST  # the workspace trusts the first-run key
        pulled = tmp_path / "pulled" / SKILL
        b.dest_edit.setText(str(pulled))
        b.pull_btn.click()
        qtbot.waitUntil(lambda: b._pull_job is None, timeout=20000)
        assert b.last_pull is not None, b.status.text()
        assert (pulled / "SKILL.md").read_bytes() == (skill / "SKILL.md").read_bytes()
        shot(w, "registry-pulled-verified")

        # ---------------------------------------------------------------- 12. pin a route and run it
        set_route(ws, "travel-claims", SKILL, "0.2.0")  # what a user writes into routes.yaml
        f.lock.reload()
        f.publish_tabs.setCurrentWidget(f.lock)
        table = f.lock.routes_table
        routes = {table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
                  for r in range(table.rowCount())}
        assert routes == {"travel-claims": (f"{SKILL}@0.2.0", "approved")}
        assert f.lock.lock_table.rowCount() == 1 and f.lock.lock_table.item(0, 0).text() == SKILL
        shot(w, "route-pinned")
        f.show_playground()
        play = f.playground
        play.set_skill(skill)
        play.data_dir.setText(str(data))
        play.routing.setCurrentIndex(play.routing.findData(ROUTE))
        assert play.target.currentText() == f"travel-claims → {SKILL}@0.2.0"
        agent = AgentScript(responses=[
            agent_response([shell_call(f"python3 /skills/{SKILL}/scripts/run.py /data/report.txt")]),
            agent_response([message("The report has 2 lines and 8 words; both items are within policy.")])])
        with FakeAgentServer(agent) as asrv:
            play.base_url.setText(asrv.base_url)
            play.model.setText("gpt-test")
            play.prompt.setPlainText("Check the travel claim in report.txt")
            with qtbot.waitSignal(play.sig_run_finished, timeout=60000):
                play.run_button.click()
            assert f"Use the {SKILL} skill" in asrv.bodies()[0]["instructions"]
            assert [x["name"] for x in asrv.bodies()[0]["tools"][0]["environment"]["skills"]] == [SKILL]
        t = play.transcripts[0]
        assert t.outcome == "completed" and t.routing["pin"] == f"{SKILL}@0.2.0"
        assert play.local_view.banner.isHidden()
        assert "lines: 2" in play.local_view.plain_text() and "2 lines and 8 words" in play.local_view.plain_text()
        play.settings_toggle.click()  # the transcript gets the room
        shot(w, "playground-pinned-run")
