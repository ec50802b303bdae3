"""Our DSSE signature as a Sigstore bundle (v0.3), for cosign and sigstore-python users.

Why: cosign verifies a DSSE attestation from a Sigstore bundle with the user's own key
(`cosign verify-blob-attestation --key pub.pem --insecure-ignore-tlog --bundle FILE`), without any
Skill Studio code. A bundle carries exactly one DSSE signature (the Sigstore verifiers insist), so
each signer gets their own file; the public key is named only by its hint (our key id, the SHA-256
of the key's DER SubjectPublicKeyInfo), and there is no transparency-log entry: our keys are
offline keys, which is what `--insecure-ignore-tlog` acknowledges.
"""

from __future__ import annotations

import json
from typing import Any

from skillstudio.errors import SkillStudioError
from skillstudio.release.dsse import Envelope

MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"


def build(env: Envelope, keyid: str) -> dict[str, Any]:
    """The bundle for `keyid`'s signature on `env` (other signatures stay out of it)."""
    sigs = [s for s in env.signatures if s.get("keyid") == keyid]
    if not sigs:
        raise SkillStudioError(f"the envelope has no signature by key {keyid[:16]}", "sign it with that key first")
    single = Envelope(payload=env.payload, payload_type=env.payload_type, signatures=sigs[-1:]).to_dict()
    return {"mediaType": MEDIA_TYPE,
            "verificationMaterial": {"publicKey": {"hint": keyid}, "tlogEntries": []},
            "dsseEnvelope": single}


def to_json(env: Envelope, keyid: str) -> bytes:
    return (json.dumps(build(env, keyid), indent=2) + "\n").encode()


def envelope_of(bundle: bytes | str) -> Envelope:
    """The DSSE envelope inside a Sigstore bundle (to verify it with `verify --signature`)."""
    try:
        data = json.loads(bundle)
    except ValueError:
        raise SkillStudioError("the Sigstore bundle is not JSON", "give the bundle written when the skill was signed") \
            from None
    if not isinstance(data, dict) or not str(data.get("mediaType", "")).startswith("application/vnd.dev.sigstore"):
        raise SkillStudioError("not a Sigstore bundle", "give the bundle written when the skill was signed")
    return Envelope.from_dict(data.get("dsseEnvelope"), "the Sigstore bundle's DSSE envelope")
