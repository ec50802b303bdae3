"""The diagnostic bundle: everything a bug report needs, and never a secret value (in any encoding)."""

from __future__ import annotations

import base64
import json
import logging
import zipfile
from pathlib import Path

import typer
from typer.testing import CliRunner

from skillstudio import diagnostics, userdirs
from skillstudio.cli import diagnostics_cmd
from skillstudio.errors import SkillStudioError
from skillstudio.secrets.vault import Vault
from support.leaks import register_test_secret

VAULT_VALUE = register_test_secret("diag-vault-secret-5f4e3d2c1b0a")
ENV_VALUE = register_test_secret("sk-diag-env-key-0a1b2c3d4e5f6a7b")


def _plant(tmp_path: Path) -> list[Path]:
    """A log, settings and an error that all carry secrets, the way real accidents do."""
    logs = diagnostics.log_dir()
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / "app.log"
    log.write_text(f"INFO start\nERROR request failed: Authorization: Bearer {VAULT_VALUE}\n"
                   f"DEBUG b64 {base64.b64encode(VAULT_VALUE.encode()).decode()}\n", encoding="utf-8")
    settings = userdirs.config_dir() / "settings.ini"
    settings.write_text("[General]\ntheme=dark\nmodel=gpt-5-mini\n"
                        f"base_url=http://me:{ENV_VALUE}@localhost:8000/v1\n"
                        f"provider_api_key={ENV_VALUE}\n"
                        f"ui\\geometry=@ByteArray({VAULT_VALUE})\n", encoding="utf-8")
    return [log, settings]


def _read(zip_path: Path) -> dict[str, str]:
    with zipfile.ZipFile(zip_path) as zf:
        return {n.split("/", 1)[1]: zf.read(n).decode("utf-8") for n in zf.namelist()}


def test_bundle_has_the_facts_and_no_secret(tmp_path, real_keyring, monkeypatch, artifacts_dir) -> None:
    Vault().set("DIAG_TOKEN", VAULT_VALUE, domains=["api.example.com"])
    monkeypatch.setenv("OPENAI_API_KEY", ENV_VALUE)
    planted = _plant(tmp_path)
    diagnostics.install_error_recorder()
    logging.getLogger("skillstudio.test_diagnostics").error("push failed for token %s", VAULT_VALUE)
    try:
        out = diagnostics.write_bundle(tmp_path / "bundle.zip", workspace=tmp_path)
        files = _read(out)
        keep = artifacts_dir / "diagnostics-bundle"  # extracted, so the end-of-suite leak sweep reads it too
        keep.mkdir(exist_ok=True)
        for name, text in files.items():
            (keep / name.replace("/", "__")).write_text(text, encoding="utf-8")
    finally:
        for p in planted:
            p.unlink()  # the planted raw values must not be left for the leak sweep to find
        Vault().delete("DIAG_TOKEN")

    assert {"versions.json", "doctor.json", "settings.ini", "logs/app.log", "errors.txt", "README.txt"} <= set(files)
    facts = json.loads(files["versions.json"])
    assert facts["skillstudio"] and facts["python"] and facts["platform"]
    assert "PySide6-Essentials" in facts["packages"] or "PySide6" in facts["packages"]
    doctor = json.loads(files["doctor.json"])
    assert any(c["name"] == "a sandbox backend" for c in doctor)
    everything = "\n".join(files.values())
    assert VAULT_VALUE not in everything and ENV_VALUE not in everything
    assert base64.b64encode(VAULT_VALUE.encode()).decode() not in everything
    assert "[secret:DIAG_TOKEN]" in files["logs/app.log"]
    assert "[secret:DIAG_TOKEN]" in files["errors.txt"] and "push failed" in files["errors.txt"]
    assert "provider_api_key=<removed>" in files["settings.ini"]
    assert "http://me:<removed>@localhost:8000/v1" in files["settings.ini"]
    assert "theme=dark" in files["settings.ini"] and "geometry" not in files["settings.ini"]
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None


def test_cli_writes_a_dated_bundle_into_a_folder(tmp_path) -> None:
    app = typer.Typer()
    diagnostics_cmd.register(app)
    app.command("noop")(lambda: None)  # a second command keeps typer from collapsing the group
    result = CliRunner().invoke(app, ["diagnostics", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(tmp_path.glob("skillstudio-diagnostics-*.zip"))
    assert len(written) == 1 and str(written[0]) in result.output.replace("\n", "")
    assert "doctor.json" in _read(written[0])


def test_cli_refuses_a_missing_folder(tmp_path) -> None:
    app = typer.Typer()
    diagnostics_cmd.register(app)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["diagnostics", "-o", str(tmp_path / "nope" / "x.zip")])
    assert isinstance(result.exception, SkillStudioError)  # the CLI's main prints it as one line, exit 2
    assert "does not exist" in str(result.exception)
    assert not (tmp_path / "nope").exists()


def test_app_log_is_written_redacted_and_lands_in_the_bundle(tmp_path, real_keyring) -> None:
    from logging.handlers import RotatingFileHandler

    from skillstudio.secrets import log_redaction

    Vault().set("APPLOG_TOKEN", VAULT_VALUE, domains=["api.example.com"])
    root = logging.getLogger()
    try:
        assert log_redaction.install_log_redaction(tmp_path) >= 1
        path = diagnostics.install_app_log()
        assert diagnostics.install_app_log() == path  # idempotent: one handler
        assert sum(isinstance(h, RotatingFileHandler) for h in root.handlers) == 1
        logging.getLogger("skillstudio.ui.test_applog").warning("sync failed, key=%s", VAULT_VALUE)
        logging.getLogger("skillstudio.ui.test_applog").info("not kept: below warning")
        for h in root.handlers:
            h.flush()
        text = path.read_text(encoding="utf-8")
        assert "sync failed, key=[secret:APPLOG_TOKEN]" in text and VAULT_VALUE not in text
        assert "not kept" not in text
        files = _read(diagnostics.write_bundle(tmp_path / "b.zip", values={}))
        assert "sync failed, key=[secret:APPLOG_TOKEN]" in files["logs/skillstudio.log"]
    finally:
        for h in [h for h in root.handlers if isinstance(h, RotatingFileHandler)]:
            root.removeHandler(h)
            h.close()
        log_redaction.uninstall()
        Vault().delete("APPLOG_TOKEN")
