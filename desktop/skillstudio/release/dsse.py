"""DSSE envelopes (Dead Simple Signing Envelope, v1): signatures over PAE(payloadType, payload).

Why DSSE: the payload type is inside the signed bytes (no type confusion), the payload is opaque
bytes (no canonical-JSON pitfalls), and several parties can sign one envelope — author and
approver. Any DSSE implementation verifies what we write.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from skillstudio.errors import CheckFailed
from skillstudio.release import crypto

INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSEv1 SP LEN(type) SP type SP LEN(body) SP body — lengths are byte counts in ASCII decimal."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


@dataclass
class Envelope:
    payload: bytes
    payload_type: str = INTOTO_PAYLOAD_TYPE
    signatures: list[dict[str, str]] = field(default_factory=list)  # {"keyid": hex, "sig": b64}

    def to_dict(self) -> dict[str, Any]:
        return {"payload": base64.b64encode(self.payload).decode(), "payloadType": self.payload_type,
                "signatures": [dict(s) for s in self.signatures]}

    def to_json(self) -> bytes:
        return (json.dumps(self.to_dict(), indent=2) + "\n").encode()

    @classmethod
    def from_json(cls, raw: bytes | str, source: str = "signature") -> Envelope:
        try:
            data = json.loads(raw)
        except ValueError:
            raise CheckFailed(f"{source} is not JSON", "give the .sig.json written by `skillstudio sign`") from None
        return cls.from_dict(data, source)

    @classmethod
    def from_dict(cls, data: Any, source: str = "signature") -> Envelope:
        bad = CheckFailed(f"{source} is not a DSSE envelope", "give the .sig.json written by `skillstudio sign`")
        if not isinstance(data, dict) or not isinstance(data.get("payload"), str) \
                or not isinstance(data.get("payloadType"), str) or not isinstance(data.get("signatures"), list):
            raise bad
        try:
            payload = base64.b64decode(data["payload"], validate=True)
        except (binascii.Error, ValueError):
            raise bad from None
        sigs = []
        for s in data["signatures"]:
            if not isinstance(s, dict) or not isinstance(s.get("sig"), str):
                raise bad
            sigs.append({"keyid": str(s.get("keyid") or ""), "sig": s["sig"]})
        return cls(payload=payload, payload_type=data["payloadType"], signatures=sigs)

    def sign(self, key: crypto.PrivateKey) -> str:
        """Add (or replace) this key's signature; returns its key id."""
        kid = crypto.key_id(key.public_key())
        sig = base64.b64encode(crypto.sign(key, pae(self.payload_type, self.payload))).decode()
        self.signatures = [s for s in self.signatures if s.get("keyid") != kid] + [{"keyid": kid, "sig": sig}]
        return kid

    def verified_keyids(self, keys: dict[str, crypto.PublicKey]) -> list[str]:
        """Key ids (of `keys`) with a valid signature. A keyid in the envelope is only a hint."""
        message = pae(self.payload_type, self.payload)
        ok: list[str] = []
        for s in self.signatures:
            try:
                raw = base64.b64decode(s["sig"], validate=True)
            except (binascii.Error, ValueError):
                continue
            candidates = [s["keyid"]] if s.get("keyid") in keys else list(keys)
            for kid in candidates:
                if kid not in ok and crypto.verify(keys[kid], raw, message):
                    ok.append(kid)
                    break
        return ok
