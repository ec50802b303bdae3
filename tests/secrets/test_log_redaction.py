"""No log line carries a secret: the CLI installs the redacting filter at start-up, cheaply."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from typer.testing import CliRunner

from skillstudio.secrets import log_redaction
from skillstudio.secrets.vault import Vault
from support.leaks import register_test_secret

USER_VALUE = register_test_secret("user-log-secret-7c6b5a4d3e2f")
WS_VALUE = register_test_secret("ws-log-secret-1a2b3c4d5e6f")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def collected() -> Iterator[_Collect]:
    """A handler on a child logger of its own (records that never pass the root logger's filters)."""
    handler = _Collect()
    logger = logging.getLogger("skillstudio.test_log_redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield handler
    logger.removeHandler(handler)
    log_redaction.uninstall()


def test_cli_start_redacts_user_and_workspace_secrets_in_every_log_line(
        real_keyring: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collected: _Collect) -> None:
    from skillstudio.cli.main import app

    ws = tmp_path / "ws"
    ws.mkdir()
    Vault().set("USER_TOKEN", USER_VALUE, domains=["api.example.com"])
    Vault(ws).set("WS_TOKEN", WS_VALUE, domains=["api.example.com"])
    monkeypatch.chdir(ws)
    result = CliRunner().invoke(app, ["validate", str(ws)])
    assert "Traceback" not in result.output
    logger = logging.getLogger("skillstudio.test_log_redaction")
    logger.info("calling with token %s", USER_VALUE)
    try:
        raise RuntimeError(f"bad header Authorization: Bearer {WS_VALUE}")
    except RuntimeError:
        logger.exception("request failed")
    text = "\n".join(collected.lines)
    assert USER_VALUE not in text and WS_VALUE not in text
    assert "calling with token [secret:USER_TOKEN]" in text
    assert "Bearer [secret:WS_TOKEN]" in text  # the traceback text too


def test_nothing_configured_never_touches_the_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      collected: _Collect) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", fail.Keyring())  # any keyring call would raise
    assert log_redaction.install_log_redaction(tmp_path) == 0
    logging.getLogger("skillstudio.test_log_redaction").info("plain %s", "line")
    assert collected.lines == ["plain line"]


def test_a_vault_that_cannot_be_read_does_not_stop_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           collected: _Collect,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    ws = tmp_path / "ws"
    (ws / ".skillstudio").mkdir(parents=True)
    (ws / ".skillstudio" / "secrets.yaml").write_text("vault_id: abc\nsecrets:\n  TOKEN: {domains: [a.example.com]}\n")
    monkeypatch.setattr(keyring.core, "_keyring_backend", fail.Keyring())
    assert log_redaction.install_log_redaction(ws) == 0
    assert "could not be read for log redaction" in caplog.text


def test_a_second_workspace_adds_its_secrets(real_keyring: None, tmp_path: Path, collected: _Collect) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    Vault(first).set("FIRST", USER_VALUE, domains=["api.example.com"])
    Vault(second).set("SECOND", WS_VALUE, domains=["api.example.com"])
    assert log_redaction.install_log_redaction(first) == 1
    assert log_redaction.install_log_redaction(second) == 2  # e.g. `run OTHER_WS` after the start-up hook
    assert log_redaction.install_log_redaction(first) == 2  # seen: not read again
    logging.getLogger("skillstudio.test_log_redaction").warning("%s and %s", USER_VALUE, WS_VALUE)
    assert collected.lines == ["[secret:FIRST] and [secret:SECOND]"]
