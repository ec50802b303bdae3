"""Settings users expect for runs: the default provider and model of new runs, and an HTTP(S) proxy for
model requests — a run really goes through it (a tiny loopback CONNECT/forward proxy below)."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from skillstudio.ui.common import dialogs
from skillstudio.ui.common.provider_form import OFFLINE, RESPONSES
from skillstudio.ui.common.proxy import apply_proxy
from skillstudio.ui.shell.settings_dialog import SettingsDialog
from support.fake_openai import FakeOpenAI, Script

KEYWORDS = [("salesforce", "crm-query"), ("pipeline", "crm-query"), ("reconcil", "ledger-reconcile"),
            ("ticket", "support-reply"), ("vlan", "network-config"), ("audit", "compliance-evidence")]
_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class LoopbackProxy:
    """CONNECT tunnels and plain forwarding (one request per connection); records each request line."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.seen: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def __enter__(self) -> LoopbackProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()
        self.thread.join(5)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, rest = data.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _version = lines[0].split(" ", 2)
            self.seen.append(f"{method} {target}")
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                up = socket.create_connection((host, int(port)))
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                up.sendall(rest)
            else:
                parts = urlsplit(target)
                up = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
                headers = [h for h in lines[1:] if h.split(":", 1)[0].lower() not in ("connection", "proxy-connection")]
                path = parts.path + (f"?{parts.query}" if parts.query else "")
                up.sendall("\r\n".join([f"{method} {path} HTTP/1.1", *headers, "Connection: close", "", ""])
                           .encode("latin-1") + rest)
            with up:
                upstream = threading.Thread(target=_pipe, args=(conn, up), daemon=True)
                upstream.start()
                _pipe(up, conn)
                upstream.join(5)


@pytest.fixture()
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for var in _VARS:
        monkeypatch.delenv(var, raising=False)
    yield
    apply_proxy("")  # what the environment had (monkeypatch then restores the rest)


def _settings(qtbot, w) -> SettingsDialog:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(w.settings, w)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _ok(qtbot, dialog: SettingsDialog) -> None:  # type: ignore[no-untyped-def]
    box = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(box.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)


def _retype(qtbot, field, text: str) -> None:  # type: ignore[no-untyped-def]
    field.setFocus()
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_Delete)
    if text:
        qtbot.keyClicks(field, text)


def test_a_run_goes_through_the_configured_proxy_and_new_runs_use_the_default_provider(
        qtbot, make_window, example_workspace: Path, clean_proxy_env, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    with FakeOpenAI(Script(keywords=KEYWORDS)) as srv, LoopbackProxy() as proxy:
        w = make_window(example_workspace)
        w.action("tests").trigger()  # the panel exists before the settings change: it must follow them
        panel = w.features.test_panel
        panel.provider.set_kind(OFFLINE)
        dialog = _settings(qtbot, w)
        dialog.provider.setCurrentIndex(dialog.provider.findData(RESPONSES))
        _retype(qtbot, dialog.model, "gpt-5")
        _retype(qtbot, dialog.base_url, srv.base_url)
        _retype(qtbot, dialog.proxy, proxy.url)
        _retype(qtbot, dialog.no_proxy, "")  # the fake model server is on loopback, which is bypassed by default
        _ok(qtbot, dialog)
        assert not dialog.isVisible() and dialog.result() == SettingsDialog.DialogCode.Accepted
        w.settings_applied(dialog)
        assert w.settings.proxy == proxy.url and os.environ["HTTPS_PROXY"] == proxy.url
        choice = panel.provider.choice()  # the next run starts from the new defaults
        assert (choice.kind, choice.model, choice.base_url) == (RESPONSES, "gpt-5", srv.base_url)
        panel.provider.runs.setValue(1)
        with qtbot.waitSignal(panel.sig_run_finished, timeout=60000) as blocker:
            qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        report = blocker.args[0]
        assert report.summary.requests > 0 and report.summary.errors == 0
        through = [s for s in proxy.seen if s.startswith("POST ") and "/v1/responses" in s]
        assert len(through) == srv.calls("responses") == report.summary.requests  # every model request

        # Cleared: the app's runs go direct again (the environment had no proxy).
        dialog = _settings(qtbot, w)
        _retype(qtbot, dialog.proxy, "")
        _ok(qtbot, dialog)
        w.settings_applied(dialog)
        assert "HTTPS_PROXY" not in os.environ
        before = len(proxy.seen)
        panel.provider.no_cache.setChecked(True)
        with qtbot.waitSignal(panel.sig_run_finished, timeout=60000):
            qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert len(proxy.seen) == before and srv.calls("responses") == 2 * report.summary.requests


def test_a_proxy_that_is_not_an_address_is_one_clear_line(
        qtbot, make_window, clean_proxy_env, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    monkeypatch.setattr(dialogs, "show_error", lambda parent, title, message: errors.append(message))
    w = make_window()
    dialog = _settings(qtbot, w)
    _retype(qtbot, dialog.proxy, "proxy.corp:abc")
    _ok(qtbot, dialog)
    assert dialog.isVisible() and w.settings.proxy == ""  # not stored, the dialog stays open
    assert len(errors) == 1 and "http://host:port" in errors[0] and "\n" not in errors[0]
    assert "HTTPS_PROXY" not in os.environ
