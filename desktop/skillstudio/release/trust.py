"""A workspace's trust store: which public keys it accepts, in which roles, and its signing policy.

Layout (plain files, reviewable in a pull request):
    WORKSPACE/.skillstudio/trust/<name>.pem       public keys
    WORKSPACE/.skillstudio/trust/trust.yaml       roles and policy:
        keys: {alice: [author], sec-team: [approver]}
        policy: {require_roles: [approver]}
Why roles: "the security team approves specific versions" means a bundle is only runnable when a
key in the approver role signed it, whoever authored it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from skillstudio.bundle import safeyaml
from skillstudio.bundle.fileio import atomic_write, read_regular, read_text_file
from skillstudio.errors import CheckFailed, SkillStudioError
from skillstudio.release import crypto

TRUST_DIR = Path(".skillstudio") / "trust"
CONFIG = "trust.yaml"
ROLES = ("author", "approver")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class TrustedKey:
    name: str
    keyid: str
    roles: tuple[str, ...]
    key: crypto.PublicKey


@dataclass
class TrustStore:
    root: Path
    keys: dict[str, TrustedKey] = field(default_factory=dict)  # by key id
    require_roles: list[str] = field(default_factory=list)

    def public_keys(self) -> dict[str, crypto.PublicKey]:
        return {k: t.key for k, t in self.keys.items()}

    def roles_of(self, keyids: list[str]) -> set[str]:
        return {r for k in keyids if k in self.keys for r in self.keys[k].roles}

    def check_policy(self, keyids: list[str], require_roles: list[str] | None = None) -> None:
        """Raise CheckFailed unless a trusted key signed and every required role is covered."""
        trusted = [k for k in keyids if k in self.keys]
        if not trusted:
            raise CheckFailed("no signature by a key in the workspace trust store",
                              f"add the signer's PEM with `skillstudio trust add` ({self.root})")
        missing = [r for r in (require_roles if require_roles is not None else self.require_roles)
                   if r not in self.roles_of(trusted)]
        if missing:
            raise CheckFailed(f"policy not met: no signature by a key with role {', '.join(missing)}",
                              "have an approver sign the bundle with their signing key")


def trust_dir(workspace: Path) -> Path:
    return Path(workspace) / TRUST_DIR


def _config(workspace: Path) -> dict[str, Any]:
    p = trust_dir(workspace) / CONFIG
    if not p.exists():
        return {}
    try:
        data = safeyaml.safe_load(read_text_file(p, 1 << 20, root=trust_dir(workspace))) or {}
    except (OSError, ValueError, yaml.YAMLError) as exc:  # ValueError: a link out, a FIFO, binary
        raise SkillStudioError(safeyaml.explain(str(p), exc), "fix the file") from None
    if not isinstance(data, dict):
        raise SkillStudioError(f"{p} must be a mapping with `keys` and `policy`", "fix the file")
    return data


def load(workspace: Path) -> TrustStore:
    d = trust_dir(workspace)
    cfg = _config(workspace)
    roles_cfg: dict[str, Any] = cfg["keys"] if isinstance(cfg.get("keys"), dict) else {}
    policy: dict[str, Any] = cfg["policy"] if isinstance(cfg.get("policy"), dict) else {}
    store = TrustStore(root=d, require_roles=[str(r) for r in policy.get("require_roles") or []])
    if d.is_dir():
        for pem in sorted(d.glob("*.pem")):
            try:  # a regular file inside the trust folder, small: never a link to a device or elsewhere
                raw = read_regular(pem, 64 * 1024, root=d)
            except (OSError, ValueError) as exc:
                raise SkillStudioError(f"{pem} cannot be read: {exc}", "replace it with the PEM file itself") from None
            key = crypto.load_public_pem(raw, str(pem))
            roles = roles_cfg.get(pem.stem) or []
            roles = [roles] if isinstance(roles, str) else roles
            kid = crypto.key_id(key)
            store.keys[kid] = TrustedKey(pem.stem, kid, tuple(str(r) for r in roles), key)
    return store


def add_key(workspace: Path, name: str, pem: bytes, roles: list[str]) -> TrustedKey:
    if not _NAME.match(name):
        raise SkillStudioError(f"invalid key name {name!r}", "use letters, digits, '.', '_' or '-'")
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise SkillStudioError(f"unknown role {bad[0]!r}", f"use one of: {', '.join(ROLES)}")
    key = crypto.load_public_pem(pem)
    d = trust_dir(workspace)
    atomic_write(d / f"{name}.pem", crypto.public_pem(key))
    cfg = _config(workspace)
    keys_cfg = cfg.setdefault("keys", {}) if isinstance(cfg.get("keys", {}), dict) else {}
    cfg["keys"] = keys_cfg
    keys_cfg[name] = sorted(set(roles))
    atomic_write(d / CONFIG, yaml.safe_dump(cfg, sort_keys=True))
    return TrustedKey(name, crypto.key_id(key), tuple(sorted(set(roles))), key)


def set_policy(workspace: Path, require_roles: list[str]) -> None:
    bad = [r for r in require_roles if r not in ROLES]
    if bad:
        raise SkillStudioError(f"unknown role {bad[0]!r}", f"use one of: {', '.join(ROLES)}")
    cfg = _config(workspace)
    cfg["policy"] = {"require_roles": list(require_roles)}
    atomic_write(trust_dir(workspace) / CONFIG, yaml.safe_dump(cfg, sort_keys=True))


def remove_key(workspace: Path, name: str) -> None:
    """Stop trusting a key: its PEM and its roles go; bundles signed only by it no longer pass."""
    if not _NAME.match(name):
        raise SkillStudioError(f"invalid key name {name!r}", "use letters, digits, '.', '_' or '-'")
    pem = trust_dir(workspace) / f"{name}.pem"
    if not pem.exists():
        raise SkillStudioError(f"{name} is not in the trust store", "refresh the list")
    cfg = _config(workspace)
    if isinstance(cfg.get("keys"), dict):
        cfg["keys"].pop(name, None)
        atomic_write(trust_dir(workspace) / CONFIG, yaml.safe_dump(cfg, sort_keys=True))
    pem.unlink()
