"""The vault against the real Secret Service: values only in the keyring, metadata never holds one."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
import yaml
from keyring.backends import fail, null

from skillstudio.errors import EnvironmentProblem, SkillStudioError
from skillstudio.secrets.model import Apply
from skillstudio.secrets.placeholders import PREFIX, SecretSession
from skillstudio.secrets.vault import SERVICE, Vault, find, metadata_path
from support.leaks import register_test_secret

VALUE = register_test_secret("ghp_vaultTEST_9f8e7d6c5b4a3210zz")


def _grep(root: Path, needle: str) -> list[Path]:
    hits = []
    for p in root.rglob("*"):
        if p.is_file() and needle.encode() in p.read_bytes():
            hits.append(p)
    return hits


def test_set_list_get_delete_in_workspace(real_keyring: None, tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    v = Vault(ws)
    meta = v.set("GITHUB_TOKEN", VALUE, domains=["api.github.com", "*.githubusercontent.com"], apply="bearer",
                 description="CI token")
    assert meta.domains == ["api.github.com", "*.githubusercontent.com"]
    assert v.path == metadata_path(ws) and v.path.exists()
    listed = v.list()
    assert [m.name for m in listed] == ["GITHUB_TOKEN"]
    assert listed[0].apply == Apply("bearer")
    assert v.value("GITHUB_TOKEN") == VALUE
    assert v.stored("GITHUB_TOKEN")
    # The metadata (and the whole workspace) never holds the value, in any form.
    assert _grep(ws, VALUE) == []
    data = yaml.safe_load(v.path.read_text())
    assert data["secrets"]["GITHUB_TOKEN"]["domains"] == ["api.github.com", "*.githubusercontent.com"]
    # It is really in the OS keyring, under the vault's id.
    assert keyring.get_password(SERVICE, f"{data['vault_id']}/GITHUB_TOKEN") == VALUE
    v.delete("GITHUB_TOKEN")
    assert v.list() == []
    assert keyring.get_password(SERVICE, f"{data['vault_id']}/GITHUB_TOKEN") is None
    with pytest.raises(SkillStudioError, match="no secret named"):
        v.value("GITHUB_TOKEN")


def test_rotation_keeps_bindings(real_keyring: None, tmp_path: Path) -> None:
    v = Vault(tmp_path)
    v.set("API_KEY", "first-value-123", domains=["api.example.com"], apply="header:X-Api-Key")
    v.set("API_KEY", "second-value-456")
    assert v.value("API_KEY") == "second-value-456"
    meta = v.get("API_KEY")
    assert meta.domains == ["api.example.com"] and str(meta.apply) == "header:X-Api-Key"
    v.bind("API_KEY", domains=["*.example.com"], apply="query:key")
    assert v.value("API_KEY") == "second-value-456"
    assert str(v.get("API_KEY").apply) == "query:key"
    v.delete("API_KEY")


def test_two_workspaces_keep_separate_values(real_keyring: None, tmp_path: Path) -> None:
    a, b = Vault(tmp_path / "a"), Vault(tmp_path / "b")
    a.set("TOKEN", "value-of-a-111")
    b.set("TOKEN", "value-of-b-222")
    assert a.value("TOKEN") == "value-of-a-111"
    assert b.value("TOKEN") == "value-of-b-222"
    assert find("TOKEN", tmp_path / "a").value("TOKEN") == "value-of-a-111"
    a.delete("TOKEN")
    b.delete("TOKEN")


def test_user_vault_and_session(real_keyring: None, tmp_path: Path) -> None:
    Vault().set("USER_TOKEN", VALUE, domains=["api.example.com"])
    session = SecretSession.open(["USER_TOKEN"], workspace=tmp_path)
    env = session.env()
    assert env["USER_TOKEN"].startswith(PREFIX) and env["USER_TOKEN"] != VALUE
    assert VALUE not in repr(session) and VALUE not in repr(session.secrets)
    again = SecretSession.open(["USER_TOKEN"])
    assert again.env()["USER_TOKEN"] != env["USER_TOKEN"]  # fresh per run
    exposed = SecretSession.open([], exposed=["USER_TOKEN"])
    assert exposed.env()["USER_TOKEN"] == VALUE and exposed.is_exposed
    policy = session.hosted_network_policy(["pypi.org"])
    assert policy["allowed_domains"] == ["pypi.org", "api.example.com"]
    assert policy["domain_secrets"] == [{"domain": "api.example.com", "name": "USER_TOKEN", "value": VALUE}]
    Vault().delete("USER_TOKEN")


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring()], ids=["fail", "null"])
def test_refuses_null_and_fail_backends(backend: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
    v = Vault(tmp_path)
    with pytest.raises(EnvironmentProblem, match="no usable OS keyring") as err:
        v.set("TOKEN", VALUE)
    assert "Secret Service" in err.value.hint
    assert not v.path.exists()  # nothing written, not even metadata
    assert _grep(tmp_path, VALUE) == []


def test_unreachable_secret_service_is_an_environment_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keyring.backends import SecretService

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path / 'no-bus'}")
    v = Vault(tmp_path, backend=SecretService.Keyring())
    with pytest.raises(EnvironmentProblem, match="keyring"):
        v.set("TOKEN", VALUE)
    assert not v.path.exists()


@pytest.mark.parametrize("name", ["1ABC", "A-B", "", "PATH", "a b", "x" * 200])
def test_bad_names_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(SkillStudioError):
        Vault(tmp_path).set(name, VALUE)


@pytest.mark.parametrize("domain", ["https://api.x.com", "api.x.com/path", "*", "*.com", "a..b", "api.x.com:443"])
def test_bad_domains_refused(domain: str, real_keyring: None, tmp_path: Path) -> None:
    with pytest.raises(SkillStudioError, match="domain|wildcard"):
        Vault(tmp_path).set("TOKEN", VALUE, domains=[domain])


@pytest.mark.parametrize("apply", ["cookie", "header:", "query:a b", "bearer:x", "header:Host"])
def test_bad_apply_refused(apply: str) -> None:
    with pytest.raises(SkillStudioError):
        Apply.parse(apply)


def test_too_short_value_refused(tmp_path: Path) -> None:
    with pytest.raises(SkillStudioError, match="too short"):
        Vault(tmp_path).set("TOKEN", "abc")


def test_session_sidecar_from_the_vault(real_keyring: None, tmp_path: Path) -> None:
    from skillstudio.secrets.intercept import for_session
    from skillstudio.secrets.substitute import HttpRequest

    v = Vault(tmp_path)
    v.set("TOKEN", VALUE, domains=["api.example.com"], apply="bearer")
    v.set("UNSET_BINDING", "another-value-77")
    assert v.values() == {"TOKEN": VALUE, "UNSET_BINDING": "another-value-77"}
    session = SecretSession.open(["TOKEN"], workspace=tmp_path)
    sidecar = for_session(session, exclude=["pinned.example.com"], intercept_unbound=False)
    assert sidecar.wants("api.example.com", 443)
    assert not sidecar.wants("pinned.example.com", 443) and not sidecar.wants("pypi.org", 443)
    ph = session.env()["TOKEN"]
    out = sidecar.substituter.rewrite("api.example.com", 443, HttpRequest(
        b"GET", b"/", [(b"host", b"api.example.com"), (b"authorization", f"Bearer {ph}".encode())]))
    assert out.header(b"authorization") == f"Bearer {VALUE}".encode()
    assert session.redactor().redact(f"echo {VALUE}") == "echo [secret:TOKEN]"


def _unlock_with_password(collection: object, conn: object, password: bytes) -> None:
    """gnome-keyring's own test hook (no prompt): unlock a collection with its password."""
    from jeepney import DBusAddress, new_method_call
    from secretstorage.util import format_secret, open_session

    secret = format_secret(open_session(conn), password, "text/plain")  # type: ignore[arg-type]
    addr = DBusAddress("/org/freedesktop/secrets", bus_name="org.freedesktop.secrets",
                       interface="org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface")
    conn.send_and_get_reply(new_method_call(  # type: ignore[attr-defined]
        addr, "UnlockWithMasterPassword", "o(oayays)", (collection.collection_path, secret)))  # type: ignore[attr-defined]


def test_locked_keyring_says_what_to_do(real_keyring: None, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    import secretstorage

    v = Vault(tmp_path)
    v.set("TOKEN", VALUE, domains=["api.example.com"])
    conn = secretstorage.dbus_init()
    collection = secretstorage.get_default_collection(conn)
    collection.lock()
    try:
        with pytest.raises(EnvironmentProblem, match="locked") as err:
            v.value("TOKEN")
        assert "unlock" in err.value.hint
        r = subprocess.run([sys.executable, "-m", "skillstudio", "secrets", "list", "-w", str(tmp_path)],
                           capture_output=True, text=True, env=dict(os.environ), timeout=60, check=False)
        assert r.returncode == 2 and "keyring is locked" in r.stderr and "Traceback" not in r.stderr
    finally:
        _unlock_with_password(collection, conn, b"test-password")  # the password tests/conftest.py uses
        conn.close()
    assert v.value("TOKEN") == VALUE
    v.delete("TOKEN")


# Every raw value this module uses, for the leak sweep (tests/zz_leak_sweep).
register_test_secret("first-value-123")
register_test_secret("second-value-456")
register_test_secret("value-of-a-111")
register_test_secret("value-of-b-222")
register_test_secret("another-value-77")


def test_a_secrets_file_that_is_a_fifo_or_a_link_out_is_one_line(tmp_path: Path) -> None:
    """.skillstudio/secrets.yaml comes with the workspace: read bounded, never waited on, never through a link."""
    import os

    path = metadata_path(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    with pytest.raises(SkillStudioError, match="FIFO"):
        Vault(tmp_path).list()
    path.unlink()
    elsewhere = tmp_path / "elsewhere.yaml"
    elsewhere.write_text("vault_id: x\nsecrets: {}\n", encoding="utf-8")
    path.symlink_to(elsewhere)
    with pytest.raises(SkillStudioError, match="is a symbolic link to .*elsewhere.yaml: links out"):
        Vault(tmp_path).list()
