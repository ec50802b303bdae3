"""The app around the editor: start-up, settings and keyring, recent workspaces, hosted panels, scale."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from mainwindow_support import open_and_check, shot
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWizard

from skillstudio import userdirs
from skillstudio.bundle.triggers import load_cases
from skillstudio.ui import app as ui_app
from skillstudio.ui.common.settings import AppSettings
from skillstudio.ui.editor.new_skill_wizard import NewSkillWizard
from skillstudio.ui.shell.main_window import MainWindow
from skillstudio.ui.shell.settings_dialog import KEYRING_SERVICE, KEYRING_USER, SettingsDialog
from skillstudio.ui.triggers.cases_editor import TriggerCasesEditor


def test_run_app_opens_the_workspace_and_exits_cleanly(qtbot, example_workspace: Path) -> None:
    seen: list[str] = []

    def close_it() -> None:
        win = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
                   and w.workspace_root == example_workspace.resolve())
        seen.append(win.windowTitle())
        win.close()  # the last window closing ends app.exec(), as for a person

    QTimer.singleShot(300, close_it)
    assert ui_app.run_app(example_workspace) == 0
    assert seen == [f"{example_workspace.name} — Skill Studio"]
    assert AppSettings().last_workspace() == example_workspace.resolve()


def test_run_app_refuses_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ui_app.run_app(tmp_path / "nope") == 2
    assert "is not a folder" in capsys.readouterr().err


def test_default_workspace_order(tmp_path: Path) -> None:
    settings = AppSettings()
    assert settings.path.parent == userdirs.config_dir()  # never the real home in tests
    (tmp_path / "here" / "skills").mkdir(parents=True)
    assert ui_app.default_workspace(settings, tmp_path / "here") == tmp_path / "here" / "skills"
    assert ui_app.default_workspace(settings, tmp_path) is None  # the start page, never the package's examples
    (tmp_path / "last").mkdir()
    settings.add_recent_workspace(tmp_path / "last")
    assert ui_app.default_workspace(settings, tmp_path) == (tmp_path / "last").resolve()


def test_recent_workspaces_are_remembered(qtbot, make_window, example_workspace: Path, tmp_path: Path,
                                          artifacts_dir: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    w = make_window(example_workspace)
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        w.open_workspace(other)
    assert w.windowTitle() == "other — Skill Studio"
    assert AppSettings().recent_workspaces()[:2] == [other.resolve(), example_workspace.resolve()]
    assert "No skills in other yet" in w.tree.empty.text()  # the empty state says what to do next
    shot(w, artifacts_dir, "main-empty-workspace")
    w.recent.fill()
    labels = [a.text() for a in w.recent.menu.actions()]
    assert any(str(example_workspace.resolve()) in t for t in labels)


def test_settings_store_the_api_key_in_the_keyring_only(qtbot, real_keyring: None) -> None:
    import keyring

    settings = AppSettings()
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.model.setText("gpt-5.4-mini")
    dialog.base_url.setText("http://127.0.0.1:11434/v1")
    dialog.theme.setCurrentText("dark")
    dialog.api_key.setText("sk-test-SECRET-123")
    assert dialog.apply()
    assert keyring.get_password(KEYRING_SERVICE, KEYRING_USER) == "sk-test-SECRET-123"
    assert dialog.api_key.text() == ""  # write-only: the field never holds it afterwards
    settings.sync()
    assert (settings.model, settings.base_url, settings.theme) == ("gpt-5.4-mini", "http://127.0.0.1:11434/v1", "dark")
    for folder in (userdirs.config_dir(), userdirs.data_dir()):
        for f in folder.rglob("*"):
            if f.is_file():
                assert b"SECRET-123" not in f.read_bytes(), f
    again = SettingsDialog(AppSettings())
    qtbot.addWidget(again)
    assert again.api_key.text() == "" and "stored" in again.api_key.placeholderText()
    again.forget_key.setChecked(True)
    assert again.apply()
    assert keyring.get_password(KEYRING_SERVICE, KEYRING_USER) is None


def test_trigger_cases_tab_edits_and_saves_with_the_window(qtbot, make_window, example_workspace: Path,
                                                          artifacts_dir: Path) -> None:
    w = make_window(example_workspace)
    item = w.tree.find_skill_item("support-reply")
    cases_item = next(item.child(i) for i in range(item.childCount()) if item.child(i).text(0).startswith("Trigger"))
    with qtbot.waitSignal(w.sig_checked, timeout=20000):
        w.tree.tree.itemActivated.emit(cases_item, 0)
    editor = w.current_doc()
    assert isinstance(editor, TriggerCasesEditor)
    before = len(load_cases(example_workspace / "support-reply"))
    editor.add_case("no_trigger", "Reconcile the March bank statement", "ledger-reconcile owns this")
    assert w.tabs.tabText(w.tabs.currentIndex()).startswith("● ")
    shot(w, artifacts_dir, "main-trigger-cases")
    w.action("save").trigger()
    cases = load_cases(example_workspace / "support-reply")
    assert len(cases) == before + 1
    assert ("Reconcile the March bank statement", "no_trigger") in [(c.prompt, c.expect) for c in cases]
    assert not w.tabs.tabText(w.tabs.currentIndex()).startswith("● ")
    assert w.problems.summary.text().startswith("support-reply:")


def test_new_skill_wizard_creates_and_opens_the_skill(qtbot, make_window, example_workspace: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def drive(self: NewSkillWizard) -> int:  # what a person does in the (modal) wizard
        self.show()
        self.next()
        qtbot.keyClicks(self.name_page.name_edit, "invoice-triage")
        self.name_page.desc_edit.setPlainText("Triage supplier invoices. "
                                              "Do not use for payroll or bank reconciliation.")
        self.button(QWizard.WizardButton.FinishButton).click()
        return int(self.result())

    monkeypatch.setattr(NewSkillWizard, "exec", drive)
    w = make_window(example_workspace)
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=20000):
        created = w.new_skill()
    assert created == example_workspace / "invoice-triage"
    tab = w.current_tab()
    assert tab is not None and tab.path == (created / "SKILL.md").resolve()
    assert w.tree.find_skill_item("invoice-triage") is not None
    data = yaml.safe_load((created / "SKILL.md").read_text().split("---")[1])
    assert data["name"] == "invoice-triage"


def test_a_thousand_skills_load_without_blocking(qtbot, make_window, tmp_path: Path) -> None:
    root = tmp_path / "big"
    for i in range(1000):
        d = root / f"skill-{i:04d}"
        (d / "evals").mkdir(parents=True)
        (d / "SKILL.md").write_text(f"---\nname: skill-{i:04d}\ndescription: Handles case {i}. Do not use for "
                                    f"case {i + 1}.\n---\n\n# Skill {i}\n")
    w = make_window()
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    with qtbot.waitSignal(w.sig_workspace_loaded, timeout=60000):
        assert w.open_workspace(root)
        assert w.workspace is None  # returned at once: the loading happens on a worker
    timer.stop()
    assert ticks  # the event loop kept running while 1,000 skills were read
    qtbot.waitUntil(lambda: not w.tree.filling, timeout=20000)
    assert len(w.tree.skill_items()) == 1000
    w.tree.filter.setText("skill-0999")
    assert [i.isHidden() for i in w.tree.skill_items()].count(False) == 1
    tab = open_and_check(qtbot, w, root / "skill-0500" / "SKILL.md")
    assert w.token_meter.summary is not None and w.token_meter.summary.catalog_chars > 50_000
    assert any(p.code == "target.codex.catalog-budget" for p in w.problems.problems)
    assert tab.form is not None


def test_versions_panel_follows_the_skill_and_release_saves_then_reloads(
        qtbot, make_window, example_workspace: Path, artifacts_dir: Path) -> None:
    w = make_window(example_workspace)
    md = example_workspace / "crm-query" / "SKILL.md"
    tab = open_and_check(qtbot, w, md)
    qtbot.waitUntil(lambda: not w.versions.busy, timeout=20000)
    assert w.versions._skill_dir == (example_workspace / "crm-query").resolve()
    w.versions.init_repository()  # the workspace is not a git repository yet: the panel offers to make one
    qtbot.waitUntil(lambda: not w.versions.busy and w.versions.btn_release.isEnabled(), timeout=30000)

    tab.editor.moveCursor(tab.editor.textCursor().MoveOperation.End)
    tab.editor.insertPlainText("\nClarified the SOQL limits.\n")
    assert tab.dirty
    w.versions_dock.raise_()
    w.versions.open_release_dialog()  # the window saves the buffer before the release reads the files
    assert not tab.dirty and md.read_text().endswith("Clarified the SOQL limits.\n")
    dialog = w.versions.release_dialog
    assert dialog is not None
    dialog.notes.setPlainText("Clarified the SOQL limits")
    with qtbot.waitSignal(w.versions.sig_released, timeout=30000):
        dialog.accept()
    qtbot.waitUntil(lambda: 'version: "1.0.1"' in tab.editor.text(), timeout=10000)  # the tab shows the bump
    assert not tab.dirty
    qtbot.waitUntil(lambda: tab.form.fields["version"].text() == "1.0.1", timeout=10000)
    qtbot.waitUntil(lambda: not w.versions.busy, timeout=20000)
    assert w.versions._skill_dir == (example_workspace / "crm-query").resolve()  # still the skill worked on
    assert "crm-query" in w.versions.title.text()
    shot(w, artifacts_dir, "main-versions")


def test_feature_panels_can_be_hosted_as_docks(qtbot, make_window, example_workspace: Path) -> None:
    from PySide6.QtWidgets import QLabel

    w = make_window(example_workspace)
    dock = w.add_panel("Trigger tests", QLabel("results"))
    assert dock.objectName() == "dock_trigger_tests"
    qtbot.waitUntil(lambda: dock in w.tabifiedDockWidgets(w.problems_dock), timeout=5000)
    assert dock.toggleViewAction() in w.view_menu.actions()
