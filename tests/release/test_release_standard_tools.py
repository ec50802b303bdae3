"""What docs/signatures.md and docs/release-json.md promise, checked with tools that are not ours:
sigstore-models (the sigstore package's bundle models), securesystemslib with the key id convention,
a JSON-schema validator for our predicate, and the cryptography package on the raw PAE bytes."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from release_support import write_skill

from skillstudio.release import attest

Runner = Callable[..., tuple[int, str, str]]
KeyPair = Callable[..., Path]
REPO = Path(__file__).resolve().parents[2]


def _pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding, written out from the spec (not our implementation)."""
    t = payload_type.encode()
    return b"DSSEv1 " + str(len(t)).encode() + b" " + t + b" " + str(len(payload)).encode() + b" " + payload


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsa-p256"])
def test_sigstore_bundle_securesystemslib_keyid_and_schema(algorithm: str, tmp_path: Path, cli: Runner,
                                                           keypair: KeyPair) -> None:
    sigstore_v1 = pytest.importorskip("sigstore_models.bundle.v1", reason="pip install sigstore-models (dev)")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519
    from securesystemslib.dsse import Envelope as SslEnvelope
    from securesystemslib.exceptions import VerificationError
    from securesystemslib.signer import SSlibKey

    pem = keypair("author", algorithm)
    approver = keypair("approver")
    d = write_skill(tmp_path / "ws", name="crm-query", version="1.2.0")
    z = tmp_path / "crm-query.zip"
    code, out, err = cli("pack", d, "-o", z, "--json")
    assert code == 0, err
    packed = json.loads(out)
    assert packed["digest"] == "sha256:" + hashlib.sha256(z.read_bytes()).hexdigest()
    assert packed["written"] == [str(z)] and packed["name"] == "crm-query" and packed["version"] == "1.2.0"

    code, out, err = cli("sign", z, "--key", "author", "--bundle", tmp_path / "crm.sigstore.json", "--json")
    assert code == 0, err
    signed = json.loads(out)
    assert cli("sign", z, "--key", "approver")[0] == 0  # a second signature: the Sigstore bundle keeps one

    # the key id convention: SHA-256 of the DER SubjectPublicKeyInfo,
    # i.e. `openssl pkey -pubin -outform DER | sha256sum`
    der = subprocess.run(["openssl", "pkey", "-pubin", "-in", str(pem), "-outform", "DER"], capture_output=True,
                         check=True).stdout
    kid = hashlib.sha256(der).hexdigest()
    assert signed["keyid"] == kid and signed["signers"] == [kid]
    assert signed["written"] == [f"{z}.sig.json", str(tmp_path / "crm.sigstore.json")]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", signed["timestamp"])

    # sigstore's own models parse the bundle: v0.3 media type, our envelope, the key hint, no tlog
    raw = (tmp_path / "crm.sigstore.json").read_text()
    bundle = sigstore_v1.Bundle.from_json(raw)
    assert bundle.media_type == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert bundle.verification_material.public_key is not None
    assert bundle.verification_material.public_key.hint == kid
    assert bundle.verification_material.tlog_entries == []
    data = json.loads(raw)["dsseEnvelope"]
    assert len(data["signatures"]) == 1 and data["signatures"][0]["keyid"] == kid

    # verify it from the PEM alone with `cryptography`, over PAE written from the spec
    pub = serialization.load_pem_public_key(pem.read_bytes())
    message = _pae(data["payloadType"], base64.b64decode(data["payload"]))
    sig = base64.b64decode(data["signatures"][0]["sig"])
    if isinstance(pub, ed25519.Ed25519PublicKey):
        pub.verify(sig, message)
    else:
        assert isinstance(pub, ec.EllipticCurvePublicKey)
        pub.verify(sig, message, ec.ECDSA(hashes.SHA256()))

    # securesystemslib: its default key id differs from ours, so pass ours (docs/signatures.md, step 3)
    ssl_env = SslEnvelope.from_dict(data)
    default_key = SSlibKey.from_crypto(pub)  # type: ignore[arg-type]
    assert default_key.keyid != kid
    with pytest.raises(VerificationError):
        ssl_env.verify([default_key], 1)
    ours = SSlibKey.from_crypto(pub, keyid=kid)  # type: ignore[arg-type]
    assert list(ssl_env.verify([ours], 1)) == [kid]

    # the statement follows in-toto v1 and our published predicate schema
    jsonschema = pytest.importorskip("jsonschema")
    statement = json.loads(base64.b64decode(data["payload"]))
    assert statement["predicateType"] == attest.PREDICATE_TYPE
    schema = json.loads((REPO / "resources" / "schemas" / "skill-release-v1.schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(statement["predicate"])
    bad = dict(statement["predicate"], skill={**statement["predicate"]["skill"], "name": "../../x"})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    assert statement["predicate"]["timestamp"] == signed["timestamp"]

    code, out, err = cli("verify", z, "--pubkey", pem, "--signature", tmp_path / "crm.sigstore.json")
    assert code == 0 and "valid: crm-query@1.2.0" in out, err
    code, _, err = cli("verify", z, "--pubkey", approver, "--signature", tmp_path / "crm.sigstore.json")
    assert code == 1  # the bundle holds the author's signature only

    code, out, err = cli("verify", z, "--pubkey", pem, "--pubkey", approver, "--json")
    assert code == 0, err
    verified = json.loads(out)
    assert verified["valid"] is True and verified["name"] == "crm-query" and len(verified["signers"]) == 2
    assert verified["digest"] == packed["digest"] and verified["written"] == []


def test_json_for_push_pull_approve_and_lock(oci_registry: str, tmp_path: Path, cli: Runner,
                                              keypair: KeyPair) -> None:
    pem = keypair("author")
    approver = keypair("approver")
    d = write_skill(tmp_path / "ws", name="json-skill", version="0.3.0")
    ref = f"oci://{oci_registry}/ci/json-skill:0.3.0"
    code, out, err = cli("push", d, ref, "--key", "author", "--plain-http", "--json")
    assert code == 0, err
    pushed = json.loads(out)
    assert pushed["ref"] == ref and pushed["digest"].startswith("sha256:") and len(pushed["keyid"]) == 64
    assert pushed["manifest_digest"].startswith("sha256:") and pushed["written"][0] == ref

    code, out, err = cli("approve", ref, "--key", "approver", "--plain-http", "--json")
    assert code == 0, err
    approved = json.loads(out)
    assert approved["signatures"] == 2 and approved["manifest_digest"] == pushed["manifest_digest"]

    code, out, err = cli("pull", ref, "-o", tmp_path / "out", "--pubkey", pem, "--pubkey", approver, "--plain-http",
                         "--json")
    assert code == 0, err
    pulled = json.loads(out)
    assert pulled["digest"] == pushed["digest"] and pulled["written"] == [str(tmp_path / "out")]
    assert pushed["keyid"] in pulled["signers"] and approved["keyid"] in pulled["signers"]

    code, out, err = cli("lock", tmp_path / "ws", "--check", "--json")
    assert code == 0 and json.loads(out) == {"command": "lock", "check": True, "ok": True, "problems": [],
                                             "written": []}
    z = tmp_path / "b.zip"
    cli("pack", d, "-o", z)
    cli("sign", z, "--key", "author")
    cli("trust", "add", tmp_path / "ws", "author", pem, "--role", "author")
    code, out, err = cli("lock", d, "--signature", f"{z}.sig.json", "--source", ref, "--json")
    assert code == 0, err
    locked = json.loads(out)
    assert locked["digest"] == pushed["digest"] and locked["sources"] == [ref]
    assert locked["written"] == [str(tmp_path / "ws" / "skills.lock")]
    (d / "references" / "fields.md").write_text("changed\n")
    code, out, _ = cli("lock", tmp_path / "ws", "--check", "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and "content differs" in report["problems"][0]
