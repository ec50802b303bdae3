"""SandboxConsole: real bubblewrap runs with live output, a kill button, the proxy log and secrets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from skillstudio.secrets.vault import Vault
from skillstudio.ui.sandbox.console import SandboxConsole
from support.leaks import register_sweep_root, register_test_secret

pytestmark = pytest.mark.bwrap
SCRIPT = "python3 /skills/ledger-reconcile/scripts/reconcile.py"
VALUE = register_test_secret("sk-console-EXPOSED-8c7b6a5f4e")


def _console(qtbot, workspace: Path, data: Path) -> SandboxConsole:  # type: ignore[no-untyped-def]
    w = SandboxConsole()
    qtbot.addWidget(w)
    w.resize(1280, 780)
    w.set_workspace(workspace)
    w.set_skill(workspace / "ledger-reconcile")
    w.data_edit.setText(str(data))
    w.show()
    qtbot.waitExposed(w)
    return w


def _run(qtbot, w: SandboxConsole, command: str, timeout: int = 60000) -> object:  # type: ignore[no-untyped-def]
    w.command.setEditText(command)
    with qtbot.waitSignal(w.sig_finished, timeout=timeout) as blocker:
        qtbot.mouseClick(w.run_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_echo_skill_script_kill_and_refused_domain(qtbot, bwrap_available: None, example_workspace: Path,  # type: ignore[no-untyped-def]
                                                   tmp_path: Path, artifacts_dir: Path) -> None:
    data = register_sweep_root(tmp_path / "data")
    data.mkdir()
    for name in ("bank.csv", "ledger.csv"):
        shutil.copy(example_workspace / "ledger-reconcile" / "assets" / "sample-2026-10" / name, data / name)
    w = _console(qtbot, example_workspace, data)
    # The skill's scripts are offered, and the effective policy says what the run may do.
    assert [w.command.itemText(i) for i in range(w.command.count())] == [SCRIPT]
    policy = w.policy_view.toPlainText()
    assert f"data folder (read-write, working directory): {data}" in policy
    assert "/skills/ledger-reconcile" in policy and "network: off" in policy and "secrets: none" in policy

    result = _run(qtbot, w, "echo hi")
    assert result.result.exit_code == 0 and result.result.stdout == "hi\n"
    assert "hi" in w.output.toPlainText() and w.status.text().startswith("exit 0 · ")

    # Output arrives while the command still runs; Kill ends the whole tree.
    w.command.setEditText("echo started; sleep 30; echo never")
    with qtbot.waitSignal(w.sig_finished, timeout=30000) as blocker:
        qtbot.mouseClick(w.run_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.output.toPlainText().endswith("\nstarted\n"), timeout=15000)
        assert w.running and w.kill_button.isEnabled() and not w.run_button.isEnabled()
        qtbot.mouseClick(w.kill_button, Qt.MouseButton.LeftButton)
    killed = blocker.args[0].result
    assert killed.cancelled and killed.exit_code == 137 and killed.stdout == "started\n"
    assert not w.output.toPlainText().endswith("never\n")
    assert w.status.text().startswith("killed (exit 137)") and w.run_button.isEnabled()

    # The skill's own script on its sample data, in the sandbox; then a domain that is not on the
    # allow list is refused, and the proxy log says so live.
    w.allow_edit.setText("api.allowed.test")
    assert "network: allow api.allowed.test" in w.policy_view.toPlainText()
    w.command.setCurrentIndex(0)
    assert w.command.currentText() == SCRIPT
    command = f"{SCRIPT} /data --write && curl -sS --max-time 10 https://blocked.example.com/ || echo curl-failed"
    ran = _run(qtbot, w, command)
    assert ran.result.exit_code == 0, ran.result.stderr
    assert (data / "reconciliation.md").is_file() and (data / "breaks.csv").is_file()
    shown = w.output.toPlainText()
    # stdout and stderr arrive on separate pipes: curl's error line may land before or after "curl-failed"
    assert shown.startswith(f"$ {command}\n# Bank reconciliation") and "\ncurl-failed\n" in shown
    assert shown.rstrip("\n").splitlines()[-1] in ("curl-failed", ran.result.stderr.strip().splitlines()[-1])
    assert "403" in ran.result.stderr
    log = w.proxy_log.toPlainText()
    assert log.endswith("  refused CONNECT blocked.example.com:443 (not on the allow list)")
    assert w.grab().save(str(artifacts_dir / "sandbox-console.png"))

    # The settings can become the skill's saved policy; a new console starts from it.
    w.allow_edit.setText("api.bank.example.com")
    w.timeout.setValue(42)
    qtbot.mouseClick(w.save_button, Qt.MouseButton.LeftButton)
    saved = example_workspace / ".skillstudio" / "policies" / "ledger-reconcile.json"
    assert saved.is_file() and w.status.text() == f"Policy saved: {saved}"
    again = _console(qtbot, example_workspace, data)
    assert again.allow_edit.text() == "api.bank.example.com" and again.timeout.value() == 42


def test_exposed_secret_is_marked_and_redacted(qtbot, bwrap_available: None, real_keyring: None,  # type: ignore[no-untyped-def]
                                              example_workspace: Path, tmp_path: Path, artifacts_dir: Path) -> None:
    Vault(example_workspace).set("API_TOKEN", VALUE, domains=["api.bank.example.com"], apply="bearer")
    data = register_sweep_root(tmp_path / "data")
    w = _console(qtbot, example_workspace, data)
    item = w.secrets_list.item(0)
    assert item.text().startswith("API_TOKEN  →  api.bank.example.com")
    item.setCheckState(Qt.CheckState.Checked)
    policy = w.policy_view.toPlainText()
    assert "secrets: API_TOKEN as placeholders" in policy and "api.bank.example.com" in policy
    placeholder = _run(qtbot, w, 'echo "tok=$API_TOKEN"')
    assert placeholder.result.stdout.startswith("tok=ssph_") and not placeholder.secret_exposed

    assert not w.exposed_warning.isVisibleTo(w)
    w.exposed.setChecked(True)
    assert w.exposed_warning.isVisibleTo(w) and "RAW VALUES" in w.policy_view.toPlainText()
    exposed = _run(qtbot, w, 'echo "tok=$API_TOKEN"; printf %s "$API_TOKEN" | wc -c')
    assert exposed.secret_exposed == ["API_TOKEN"]
    assert exposed.result.stdout.splitlines() == ["tok=[secret:API_TOKEN]", str(len(VALUE))]
    text = w.output.toPlainText()
    assert "[secret exposed: API_TOKEN" in text and "tok=[secret:API_TOKEN]" in text and VALUE not in text
    assert "SECRET EXPOSED" in w.status.text()
    assert w.grab().save(str(artifacts_dir / "sandbox-console-exposed.png"))


def test_closing_cancels_a_running_command(qtbot, bwrap_available: None, example_workspace: Path,  # type: ignore[no-untyped-def]
                                           tmp_path: Path) -> None:
    w = _console(qtbot, example_workspace, tmp_path / "data")
    w.command.setEditText("echo up; sleep 60")
    qtbot.mouseClick(w.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.output.toPlainText().endswith("\nup\n"), timeout=15000)
    w.close()  # cancels and waits for the worker
    assert not w.running or w._pool.active_threads() == 0
    assert w._pool.active_threads() == 0
