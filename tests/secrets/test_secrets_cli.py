"""`skillstudio secrets ...` as a user runs it: a subprocess, the value on stdin, the real keyring."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.leaks import register_test_secret

VALUE = register_test_secret("cli-secret-VALUE-5e6f7a8b9c")


def cli(args: list[str], stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skillstudio", "secrets", *args], input=stdin, text=True,
                          capture_output=True, env=env or dict(os.environ), timeout=60, check=False)


def _everything_under(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_set_list_rotate_delete(real_keyring: None, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    r = cli(["set", "API_TOKEN", "--domain", "api.example.com", "--domain", "*.example.org", "--apply", "bearer",
             "-w", str(ws)], stdin=VALUE + "\n")
    assert r.returncode == 0, r.stderr
    assert "stored API_TOKEN" in r.stdout and VALUE not in r.stdout + r.stderr
    r = cli(["list", "-w", str(ws)])
    assert r.returncode == 0 and "API_TOKEN" in r.stdout and "api.example.com, *.example.org" in r.stdout
    assert "the Authorization header" in r.stdout and VALUE not in r.stdout
    listed = json.loads(cli(["list", "--json", "-w", str(ws)]).stdout)
    assert listed == {"secrets": [{"name": "API_TOKEN", "domains": ["api.example.com", "*.example.org"],
                                   "apply": "bearer", "description": "", "stored": True}]}
    # The value is nowhere in the workspace (metadata included), nor in the user config folders.
    assert VALUE.encode() not in _everything_under(ws)
    for var in ("SKILLSTUDIO_CONFIG_DIR", "SKILLSTUDIO_DATA_DIR", "SKILLSTUDIO_CACHE_DIR"):
        assert VALUE.encode() not in _everything_under(Path(os.environ[var]))
    # In the keyring, the stripped value (stdin's trailing newline removed).
    from skillstudio.secrets.vault import Vault

    assert Vault(ws).value("API_TOKEN") == VALUE
    r = cli(["set", "API_TOKEN", "-w", str(ws)], stdin="rotated-value-0001")
    assert r.returncode == 0 and "rotated API_TOKEN" in r.stdout and "api.example.com" in r.stdout
    assert Vault(ws).value("API_TOKEN") == "rotated-value-0001"
    r = cli(["delete", "API_TOKEN", "-w", str(ws)])
    assert r.returncode == 0, r.stderr
    assert json.loads(cli(["list", "--json", "-w", str(ws)]).stdout) == {"secrets": []}
    r = cli(["delete", "API_TOKEN", "-w", str(ws)])
    assert r.returncode == 2 and "no secret named" in r.stderr and "Traceback" not in r.stderr


def test_user_scope_by_default(real_keyring: None) -> None:
    assert cli(["set", "USER_KEY", "-d", "api.example.com"], stdin=VALUE).returncode == 0
    cfg = Path(os.environ["SKILLSTUDIO_CONFIG_DIR"]) / "secrets.yaml"
    assert cfg.exists() and "USER_KEY" in cfg.read_text() and VALUE not in cfg.read_text()
    assert "USER_KEY" in cli(["list"]).stdout
    assert cli(["delete", "USER_KEY"]).returncode == 0


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["set", "TOKEN"], "", "no secret value on stdin"),
    (["set", "9TOKEN"], VALUE, "invalid secret name"),
    (["set", "TOKEN", "--domain", "https://x.com/"], VALUE, "invalid domain"),
    (["set", "TOKEN", "--apply", "cookie"], VALUE, "unknown way to apply"),
    (["set", "TOKEN"], "abc", "too short"),
    (["bind", "NOPE", "-d", "x.com"], None, "no secret named"),
])
def test_bad_input_is_one_line(real_keyring: None, args: list[str], stdin: str | None, message: str) -> None:
    r = cli(args, stdin=stdin)
    assert r.returncode == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_value_is_never_taken_from_argv(real_keyring: None) -> None:
    r = cli(["set", "TOKEN", VALUE], stdin=VALUE)
    assert r.returncode == 2 and "unexpected extra argument" in r.stderr  # a usage error; nothing stored
    assert "TOKEN" not in cli(["list"]).stdout
    assert not (Path(os.environ["SKILLSTUDIO_CONFIG_DIR"]) / "secrets.yaml").exists()


def test_no_keyring_is_refused_without_plaintext_fallback(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    r = cli(["set", "TOKEN", "-w", str(tmp_path)], stdin=VALUE, env=env)
    assert r.returncode == 2 and "no usable OS keyring" in r.stderr and "Traceback" not in r.stderr
    assert list(tmp_path.rglob("*")) == []
    for var in ("SKILLSTUDIO_CONFIG_DIR", "SKILLSTUDIO_DATA_DIR"):
        assert VALUE.encode() not in _everything_under(Path(os.environ[var]))


# Every raw value this module uses, for the leak sweep (tests/zz_leak_sweep).
register_test_secret("rotated-value-0001")
