"""Keys in the real OS keyring, DSSE signatures verified by us and by securesystemslib."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from release_support import write_skill
from securesystemslib.dsse import Envelope as SslEnvelope
from securesystemslib.signer import Key, SSlibKey

from skillstudio.errors import EnvironmentProblem, SkillStudioError
from skillstudio.release import attest, crypto, keys, trust
from skillstudio.release.dsse import Envelope, pae
from skillstudio.release.pack import pack_skill
from support.realparts import need

Runner = Callable[..., tuple[int, str, str]]
KeyPair = Callable[..., Path]


def test_pae_matches_the_dsse_spec_vector() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == \
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    assert pae("t\u00e9", b"") == "DSSEv1 3 t\u00e9 0 ".encode()  # lengths are bytes, not characters


def _ssl_verify(sig_path: Path, pems: list[Path], threshold: int) -> list[str]:
    env = SslEnvelope.from_dict(json.loads(sig_path.read_text()))
    ssl_keys: list[Key] = []
    for p in pems:
        pub = serialization.load_pem_public_key(p.read_bytes())
        der = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        ssl_keys.append(SSlibKey.from_crypto(pub, keyid=hashlib.sha256(der).hexdigest()))  # type: ignore[arg-type]
    return list(env.verify(ssl_keys, threshold))


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsa-p256"])
def test_sign_verify_ours_and_securesystemslib(algorithm: str, tmp_path: Path, cli: Runner,
                                               keypair: KeyPair) -> None:
    pem = keypair("author", algorithm)
    d = write_skill(tmp_path / "ws")
    z = tmp_path / "demo.zip"
    assert cli("pack", d, "-o", z)[0] == 0
    code, out, err = cli("sign", z, "--key", "author")
    assert code == 0, err
    sig = tmp_path / "demo.zip.sig.json"
    env = json.loads(sig.read_text())
    assert set(env) == {"payload", "payloadType", "signatures"}
    assert env["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(env["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"] == [{"name": "demo-skill",
                                     "digest": {"sha256": hashlib.sha256(z.read_bytes()).hexdigest()}}]
    assert statement["predicateType"] == attest.PREDICATE_TYPE
    pred = statement["predicate"]
    assert pred["skill"]["version"] == "1.0.0"
    assert {f["path"]: f["sha256"] for f in pred["files"]}["scripts/query.sh"] == \
        hashlib.sha256((d / "scripts" / "query.sh").read_bytes()).hexdigest()
    kid = crypto.key_id(crypto.load_public_pem(pem.read_bytes()))
    assert pred["signer"]["keyid"] == kid == env["signatures"][0]["keyid"]
    if algorithm == "ecdsa-p256":  # DER-encoded ECDSA signature (SEQUENCE of two INTEGERs)
        assert base64.b64decode(env["signatures"][0]["sig"])[0] == 0x30

    code, out, _ = cli("verify", z, "--pubkey", pem)
    assert code == 0 and "valid: demo-skill@1.0.0" in out
    assert _ssl_verify(sig, [pem], 1) == [kid]


def test_tampered_zip_envelope_signature_and_wrong_key_exit_1(tmp_path: Path, cli: Runner,
                                                               keypair: KeyPair) -> None:
    pem = keypair("author")
    other = keypair("stranger", "ecdsa-p256")
    d = write_skill(tmp_path / "ws")
    z = tmp_path / "demo.zip"
    cli("pack", d, "-o", z)
    assert cli("sign", z, "--key", "author")[0] == 0
    sig = tmp_path / "demo.zip.sig.json"
    good_zip, good_sig = z.read_bytes(), sig.read_text()

    assert cli("verify", z, "--pubkey", other)[0] == 1  # wrong key

    bad = bytearray(good_zip)
    bad[len(bad) // 2] ^= 0x01
    z.write_bytes(bytes(bad))
    code, _, err = cli("verify", z, "--pubkey", pem)
    assert code == 1 and "different bundle" in err
    z.write_bytes(good_zip)

    env = json.loads(good_sig)
    st = json.loads(base64.b64decode(env["payload"]))
    st["predicate"]["skill"]["version"] = "9.9.9"
    env["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
    sig.write_text(json.dumps(env))
    assert cli("verify", z, "--pubkey", pem)[0] == 1  # payload changed after signing

    env = json.loads(good_sig)
    raw = bytearray(base64.b64decode(env["signatures"][0]["sig"]))
    raw[0] ^= 0xFF
    env["signatures"][0]["sig"] = base64.b64encode(bytes(raw)).decode()
    sig.write_text(json.dumps(env))
    assert cli("verify", z, "--pubkey", pem)[0] == 1  # signature bytes changed

    env = json.loads(good_sig)
    env["payloadType"] = "application/json"
    sig.write_text(json.dumps(env))
    assert cli("verify", z, "--pubkey", pem)[0] == 1  # payload type is part of what was signed

    sig.write_text("{not json")
    assert cli("verify", z, "--pubkey", pem)[0] == 1
    sig.unlink()
    code, _, err = cli("verify", z, "--pubkey", pem)
    assert code == 1 and "no signature" in err
    sig.write_text(good_sig)
    assert cli("verify", z, "--pubkey", pem)[0] == 0
    code, _, err = cli("verify", z, "--pubkey", tmp_path / "missing.pem")
    assert code == 2 and "cannot read" in err


def test_author_and_approver_on_one_envelope_with_trust_policy(tmp_path: Path, cli: Runner,
                                                               keypair: KeyPair) -> None:
    author, approver = keypair("author"), keypair("approver", "ecdsa-p256")
    ws = tmp_path / "ws"
    d = write_skill(ws)
    z = tmp_path / "demo.zip"
    cli("pack", d, "-o", z)
    assert cli("trust", "add", ws, "alice", author, "--role", "author")[0] == 0
    assert cli("trust", "add", ws, "security", approver, "--role", "approver")[0] == 0
    assert cli("trust", "policy", ws, "--require-role", "approver")[0] == 0

    assert cli("sign", z, "--key", "author")[0] == 0
    code, _, err = cli("verify", z, "--trust", ws)
    assert code == 1 and "role approver" in err  # author alone does not meet the policy

    code, out, _ = cli("sign", z, "--key", "approver", "-o", tmp_path / "demo.zip.sig.json")
    assert code == 0 and "2 signature(s)" in out
    code, out, _ = cli("verify", z, "--trust", ws)
    assert code == 0, out
    sig = tmp_path / "demo.zip.sig.json"
    assert len(_ssl_verify(sig, [author, approver], 2)) == 2  # both verify independently

    # signing again with the same key replaces, not duplicates, its signature
    cli("sign", z, "--key", "approver")
    assert len(json.loads(sig.read_text())["signatures"]) == 2

    # adding a signature to an envelope of another bundle is refused
    (d / "references" / "fields.md").write_text("changed")
    z2 = tmp_path / "other.zip"
    cli("pack", d, "-o", z2)
    code, _, err = cli("sign", z2, "--key", "approver", "-o", sig)
    assert code == 2 and "different bundle" in err

    store = trust.load(ws)
    assert store.require_roles == ["approver"]
    assert {k.name: k.roles for k in store.keys.values()} == {"alice": ("author",), "security": ("approver",)}


def test_keys_live_in_the_keyring_never_on_disk_and_rotation_keeps_old_public_keys(
        tmp_path: Path, cli: Runner, keypair: KeyPair) -> None:
    from skillstudio import userdirs

    pem1 = keypair("rotating")
    code, _, err = cli("keys", "generate", "rotating")
    assert code == 2 and "--rotate" in err
    d = write_skill(tmp_path / "ws")
    z = tmp_path / "demo.zip"
    pack_skill(d, z)
    attest.sign_bundle(z, "rotating")
    old_sig = (tmp_path / "demo.zip.sig.json").read_bytes()
    assert cli("keys", "generate", "rotating", "--rotate")[0] == 0
    pem2 = tmp_path / "new.pem"
    cli("keys", "export", "rotating", "-o", pem2)
    assert pem2.read_bytes() != pem1.read_bytes()

    listed = cli("keys", "list", "--all")[1]
    assert crypto.key_id(crypto.load_public_pem(pem1.read_bytes())) in listed and "retired" in listed
    # the old bundle still verifies with the retired key kept locally
    v = attest.verify_bundle(z, Envelope.from_json(old_sig), keys.known_public_keys())
    assert v.keyids == [crypto.key_id(crypto.load_public_pem(pem1.read_bytes()))]

    import keyring

    stored = keyring.get_password(keys.SERVICE, "rotating")
    assert stored and "PRIVATE KEY" in stored
    for folder in (userdirs.data_dir(), userdirs.config_dir(), userdirs.cache_dir(), tmp_path):
        for p in folder.rglob("*"):
            if p.is_file():
                assert b"PRIVATE KEY" not in p.read_bytes(), p


def test_missing_key_and_bad_name_are_clear_errors(cli: Runner, keypair: KeyPair, tmp_path: Path) -> None:
    keypair("present")
    code, _, err = cli("keys", "export", "absent-key", "-o", tmp_path / "x.pem")
    assert code == 2 and "keys generate absent-key" in err
    code, _, err = cli("keys", "generate", "bad name!")
    assert code == 2 and "invalid key name" in err
    code, _, err = cli("keys", "generate", "k2", "--algorithm", "rsa")
    assert code == 2 and "ed25519, ecdsa-p256" in err


def test_unreachable_keyring_is_an_environment_problem(real_keyring: None,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A real Secret Service client pointed at a bus that does not exist (no session / locked out)."""
    import keyring
    from keyring.backends import SecretService

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    monkeypatch.setattr(keyring.core, "_keyring_backend", SecretService.Keyring())
    with pytest.raises(EnvironmentProblem, match="keyring") as ei:
        keys.generate("nokeyring")
    assert "unlock" in ei.value.hint or "Secret Service" in ei.value.hint


def test_git_revision_is_recorded_when_the_skill_is_in_git(tmp_path: Path, keypair: KeyPair) -> None:
    if shutil.which("git") is None:
        need(False, "git not installed (apt-get install git)")
    keypair("author")
    ws = tmp_path / "repo"
    d = write_skill(ws)
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    for cmd in (["init", "-q"], ["add", "."], ["commit", "-qm", "init"]):
        subprocess.run(["git", "-C", str(ws), *cmd], check=True, env=env, capture_output=True)
    head = subprocess.run(["git", "-C", str(ws), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    z = tmp_path / "demo.zip"
    pack_skill(d, z)
    _, envelope, _ = attest.sign_bundle(z, "author", source_dir=d)
    st = attest.parse_statement(envelope)
    assert st["predicate"]["source"] == {"revision": head, "dirty": False}


def test_sign_errors(tmp_path: Path, keypair: KeyPair) -> None:
    keypair("author")
    with pytest.raises(SkillStudioError, match="does not exist"):
        attest.sign_bundle(tmp_path / "missing.zip", "author")


def test_default_signature_of_an_older_pack_is_replaced_explicit_one_is_not(tmp_path: Path,
                                                                           keypair: KeyPair) -> None:
    pem = keypair("author")
    d = write_skill(tmp_path / "ws")
    z = tmp_path / "demo.zip"
    pack_skill(d, z)
    attest.sign_bundle(z, "author")
    (d / "references" / "fields.md").write_text("v2\n")
    pack_skill(d, z)
    path, env, _ = attest.sign_bundle(z, "author")
    assert len(env.signatures) == 1
    v = attest.verify_bundle(z, Envelope.from_json(path.read_bytes()), {crypto.key_id(
        crypto.load_public_pem(pem.read_bytes())): crypto.load_public_pem(pem.read_bytes())})
    assert v.sha256 == hashlib.sha256(z.read_bytes()).hexdigest()
    (d / "references" / "fields.md").write_text("v3\n")
    pack_skill(d, z)
    with pytest.raises(SkillStudioError, match="signs a different bundle"):
        attest.sign_bundle(z, "author", path)
