"""Signing keys: the private half lives only in the OS keyring, the public half is ours to share.

Why: a private key in a file ends up in backups, dotfile repos and support zips; the keyring is
where the user's OS already guards secrets. Public keys (and retired ones, so old bundles still
verify after a rotation) are kept in a small JSON index in the data folder — they are not secret.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillstudio import userdirs
from skillstudio.bundle.fileio import atomic_write
from skillstudio.errors import SkillStudioError
from skillstudio.release import crypto

SERVICE = "skillstudio-signing"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class KeyInfo:
    name: str
    keyid: str
    algorithm: str
    public_pem: str
    created: float
    retired: float | None = None

    @property
    def short_id(self) -> str:
        return self.keyid[:16]


def _index_path() -> Path:
    return userdirs.data_dir() / "signing-keys.json"


def _load_index() -> dict[str, Any]:
    p = _index_path()
    if not p.exists():
        return {"keys": {}}
    try:
        data = json.loads(p.read_text("utf-8"))
    except (OSError, ValueError):
        raise SkillStudioError(f"{p} is not readable JSON", "fix or delete it (it only holds public keys)") from None
    return data if isinstance(data, dict) and isinstance(data.get("keys"), dict) else {"keys": {}}


def _save_index(data: dict[str, Any]) -> None:
    atomic_write(_index_path(), json.dumps(data, indent=2, sort_keys=True) + "\n")


def _check_name(name: str) -> None:
    if not NAME_RE.match(name):
        raise SkillStudioError(f"invalid key name {name!r}",
                               "use letters, digits, '.', '_' or '-' (up to 64 characters)")


def _keyring_call(fn: str, *args: str) -> Any:
    """keyring.<fn> on a real keyring only (plaintext/null backends refused); failures say what to do."""
    import keyring.errors

    from skillstudio.secrets import keyring_guard

    backend = keyring_guard.checked_backend()

    def run() -> Any:
        try:
            return getattr(backend, fn)(*args)
        except keyring.errors.PasswordDeleteError:
            return None  # deleting what is not there is fine

    return keyring_guard.call(run, fn.replace("_", " "))


def _info(name: str, d: dict[str, Any]) -> KeyInfo:
    return KeyInfo(name=name, keyid=d["keyid"], algorithm=d["algorithm"], public_pem=d["public_pem"],
                   created=float(d.get("created", 0)), retired=d.get("retired"))


def generate(name: str, algorithm: str = "ed25519", *, rotate: bool = False) -> KeyInfo:
    """Create a key in the keyring; with rotate=True replace an existing one (its public key is kept)."""
    _check_name(name)
    if algorithm not in crypto.ALGORITHMS:
        raise SkillStudioError(f"unknown key algorithm {algorithm!r}", f"use one of: {', '.join(crypto.ALGORITHMS)}")
    existing = _keyring_call("get_password", SERVICE, name)
    if existing and not rotate:
        raise SkillStudioError(f"a signing key named {name!r} already exists",
                               "rotate the key to replace it", setting="rotate")
    index = _load_index()
    entry = index["keys"].setdefault(name, {"history": []})
    if existing:  # make sure the old public key is kept even if the index was lost
        old = crypto.load_private_pem(existing).public_key()
        if not any(h["keyid"] == crypto.key_id(old) for h in entry["history"]):
            entry["history"].append({"keyid": crypto.key_id(old), "algorithm": crypto.algorithm_of(old),
                                     "public_pem": crypto.public_pem(old).decode(), "created": 0})
    key = crypto.generate(algorithm)
    pub = key.public_key()
    now = time.time()
    for h in entry["history"]:
        h.setdefault("retired", None)
        if h["retired"] is None:
            h["retired"] = now
    record = {"keyid": crypto.key_id(pub), "algorithm": algorithm, "public_pem": crypto.public_pem(pub).decode(),
              "created": now, "retired": None}
    _keyring_call("set_password", SERVICE, name, crypto.private_pem(key))
    entry["history"].append(record)
    entry["current"] = record["keyid"]
    _save_index(index)
    return _info(name, record)


def load_private(name: str) -> crypto.PrivateKey:
    _check_name(name)
    pem = _keyring_call("get_password", SERVICE, name)
    if not pem:
        raise SkillStudioError(f"no signing key named {name!r} in the OS keyring",
                               f"create one with `skillstudio keys generate {name}`")
    return crypto.load_private_pem(pem)


def current(name: str) -> KeyInfo:
    """The key that signs now (derived from the keyring, so it is right even without the index)."""
    key = load_private(name)
    pub = key.public_key()
    kid = crypto.key_id(pub)
    for h in _load_index()["keys"].get(name, {}).get("history", []):
        if h["keyid"] == kid:
            return _info(name, h)
    return KeyInfo(name, kid, crypto.algorithm_of(key), crypto.public_pem(pub).decode(), 0.0)


def export_public(name: str) -> bytes:
    return current(name).public_pem.encode()


def list_keys(*, include_retired: bool = False) -> list[KeyInfo]:
    out: list[KeyInfo] = []
    for name, entry in sorted(_load_index()["keys"].items()):
        for h in entry.get("history", []):
            if include_retired or h.get("retired") is None:
                out.append(_info(name, h))
    return out


def known_public_keys() -> dict[str, crypto.PublicKey]:
    """Every public key we ever generated here (current and retired), by key id."""
    return {k.keyid: crypto.load_public_pem(k.public_pem.encode()) for k in list_keys(include_retired=True)}


def delete(name: str) -> None:
    """Remove the private key from the keyring; public keys stay (retired) so old bundles verify."""
    _check_name(name)
    _keyring_call("delete_password", SERVICE, name)
    index = _load_index()
    for h in index["keys"].get(name, {}).get("history", []):
        if h.get("retired") is None:
            h["retired"] = time.time()
    _save_index(index)
