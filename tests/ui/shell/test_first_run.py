"""The first-run flow on its own: when it shows, what each page refuses, real checks with real answers."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QWizard

from skillstudio.ui.common.provider_form import OFFLINE
from skillstudio.ui.common.settings import AppSettings
from skillstudio.ui.shell.first_run import (
    DONE_KEY,
    FirstRunWizard,
    copy_examples,
    fix_commands,
    needs_first_run,
)
from support.fake_openai import FakeOpenAI, Script


@pytest.fixture()
def wizard(qtbot):  # type: ignore[no-untyped-def]
    w = FirstRunWizard(AppSettings())  # deletes itself on Finish/Cancel, so no qtbot.addWidget
    w.show()
    qtbot.waitExposed(w)
    yield w
    if shiboken6.isValid(w):
        w.close()  # deletes it (later): run that now, on this thread
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_shown_once_for_an_empty_profile_and_cancel_counts_as_done(qtbot, wizard: FirstRunWizard) -> None:  # type: ignore[no-untyped-def]
    assert needs_first_run(AppSettings())
    with qtbot.waitSignal(wizard.sig_done, timeout=5000) as done:
        wizard.reject()
    assert done.args == [None]
    assert AppSettings().value(DONE_KEY) is not None and not needs_first_run(AppSettings())


def test_a_profile_that_already_opened_a_workspace_skips_it(tmp_path: Path) -> None:
    s = AppSettings()
    s.add_recent_workspace(tmp_path)
    assert not needs_first_run(s)


def test_examples_never_overwrite_a_folder_with_files(qtbot, wizard: FirstRunWizard, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    busy = tmp_path / "mine"
    busy.mkdir()
    (busy / "notes.txt").write_text("keep me", encoding="utf-8")
    page = wizard.workspace_page
    page.examples_path.setText(str(busy))
    wizard.next()
    assert wizard.currentPage() is page and "not empty" in page.error.text()
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]
    page.existing_path.setText(str(tmp_path / "missing"))
    assert page.existing.isChecked()
    wizard.next()
    assert wizard.currentPage() is page and "is not a folder" in page.error.text()
    page.existing_path.setText(str(busy))
    wizard.next()
    assert wizard.currentPage() is wizard.provider_page and wizard.workspace == busy
    copied = copy_examples(tmp_path / "fresh")
    assert (copied / "crm-query" / "SKILL.md").is_file() and not (copied / ".skillstudio").exists()


def test_connection_errors_say_what_to_do_and_the_offline_choice_is_saved(  # type: ignore[no-untyped-def]
        qtbot, wizard: FirstRunWizard, tmp_path: Path) -> None:
    wizard.workspace_page.existing_path.setText(str(tmp_path))
    wizard.next()
    page = wizard.provider_page
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    page.local.setChecked(True)
    page.base_url.setText(f"http://127.0.0.1:{port}/v1")
    with qtbot.waitSignal(page.sig_tested, timeout=20000) as tested:
        page.test_button.click()
    assert tested.args[0] is False and "nothing answers" in page.result.text() and "\n" not in page.result.text()
    page.base_url.setText("localhost:11434")
    with qtbot.waitSignal(page.sig_tested, timeout=20000) as tested:
        page.test_button.click()
    assert "is not a URL" in page.result.text()
    with FakeOpenAI(Script(models=[])) as srv:
        page.base_url.setText(srv.base_url)
        page.model.setCurrentText("")
        with qtbot.waitSignal(page.sig_tested, timeout=20000) as tested:
            page.test_button.click()
        assert tested.args[0] is True and "lists no models" in page.result.text()
    wizard.next()  # a local server without a model name is refused
    assert wizard.currentPage() is page and "model name" in page.error.text()
    page.openai.setChecked(True)
    wizard.next()
    assert wizard.currentPage() is page and "API key" in page.error.text()
    page.offline.setChecked(True)
    wizard.next()
    assert wizard.currentPage() is wizard.sandbox_page
    assert AppSettings().value("test/provider") == OFFLINE


def test_openai_key_goes_to_the_keyring_only(qtbot, real_keyring: None, wizard: FirstRunWizard,  # type: ignore[no-untyped-def]
                                            tmp_path: Path) -> None:
    import keyring

    wizard.workspace_page.existing_path.setText(str(tmp_path))
    wizard.next()
    page = wizard.provider_page
    page.openai.setChecked(True)
    page.key.setText("sk-first-run-0001")
    wizard.next()
    assert wizard.currentPage() is wizard.sandbox_page
    assert keyring.get_password("skillstudio", "openai-api-key") == "sk-first-run-0001"
    AppSettings().sync()
    assert "sk-first-run" not in AppSettings().path.read_text(encoding="utf-8")
    keyring.delete_password("skillstudio", "openai-api-key")


def test_a_missing_sandbox_part_shows_its_fix_as_copyable_commands(  # type: ignore[no-untyped-def]
        qtbot, wizard: FirstRunWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, artifacts_dir: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")  # a machine without Docker running
    wizard.workspace_page.existing_path.setText(str(tmp_path))
    wizard.next()
    with qtbot.waitSignal(wizard.sandbox_page.sig_checked, timeout=30000) as checked:
        wizard.next()
    docker = next(c for c in checked.args[0] if c.name == "Docker engine")
    assert not docker.ok
    page = wizard.sandbox_page
    commands = [e.text() for e in page.findChildren(QLineEdit, "fix_command")]
    assert "sudo systemctl start docker" in commands
    button = page.copy_buttons[commands.index("sudo systemctl start docker")]
    button.click()
    assert QApplication.clipboard().text() == "sudo systemctl start docker"
    assert "Optional extras below" in page.status.text()
    QApplication.processEvents()  # let the new rows be laid out before the screenshot
    assert wizard.grab().save(str(artifacts_dir / "first-run-sandbox-missing-docker.png"))
    wizard.next()
    assert wizard.currentPage() is wizard.key_page
    assert wizard.button(QWizard.WizardButton.FinishButton).isVisible()


def test_fix_commands_are_found_in_doctor_hints() -> None:
    assert fix_commands("install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
                        "bubblewrap)") == ["apt-get install bubblewrap", "dnf install bubblewrap"]
    assert fix_commands("on Ubuntu `sudo sysctl -w kernel.x=0` (or a profile)") == ["sudo sysctl -w kernel.x=0"]
    assert fix_commands("skillstudio sandbox build-image --offline") == ["skillstudio sandbox build-image --offline"]
    assert fix_commands("install bubblewrap or Docker (see above)") == []


def test_run_app_starts_with_the_flow_then_opens_the_chosen_workspace(qtbot, example_workspace: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QTimer

    from skillstudio.ui import app as ui_app
    from skillstudio.ui.shell.main_window import MainWindow

    seen: list[str] = []

    def close_main() -> None:
        win = next((w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()), None)
        if win is None or win.workspace is None:
            QTimer.singleShot(50, close_main)
            return
        seen.append(win.windowTitle())
        win.close()

    def drive() -> None:
        wiz = next((w for w in QApplication.topLevelWidgets() if isinstance(w, FirstRunWizard) and w.isVisible()),
                   None)
        if wiz is None:
            QTimer.singleShot(50, drive)
            return
        wiz.workspace_page.existing_path.setText(str(example_workspace))
        wiz.next()
        wiz.next()  # offline
        wiz.next()  # sandbox (checks run in the background)
        wiz.button(QWizard.WizardButton.FinishButton).click()  # no key: optional
        close_main()

    QTimer.singleShot(0, drive)
    assert ui_app.run_app(None) == 0
    assert seen == [f"{example_workspace.name} — Skill Studio"]
    assert not needs_first_run(AppSettings()) and AppSettings().last_workspace() == example_workspace.resolve()


def test_starting_the_app_loads_no_router_or_event_loop_before_the_first_paint() -> None:
    """run_app imports the first-run module on every start; the connection check it offers (routers,
    asyncio, the services' providers) loads only when the user tests a server, and the window's own
    imports (the bundle's models among them) need no pydantic."""
    import subprocess
    import sys

    code = ("import sys, skillstudio.ui.app, skillstudio.ui.shell.first_run, skillstudio.ui.shell.main_window\n"
            "print(sorted(m for m in ('asyncio', 'pydantic', 'skillstudio.evals.routers',"
            " 'skillstudio.services.providers', 'skillstudio.ui.shell.connection_check') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
