"""The secrets vault: values in the OS keyring, names and bindings in a YAML file beside them.

The metadata file (`WORKSPACE/.skillstudio/secrets.yaml` or `secrets.yaml` in the user config folder)
holds only what is safe to commit: names, descriptions, bound domains, how each is applied, and a
random `vault_id` that scopes the keyring entries (so two workspaces can hold different values under
the same name, and a moved workspace keeps its secrets). The value is never written anywhere else.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from keyring.backend import KeyringBackend

from skillstudio import userdirs
from skillstudio.bundle import safeyaml
from skillstudio.bundle.fileio import atomic_write, read_text_file
from skillstudio.errors import SkillStudioError
from skillstudio.secrets import keyring_guard
from skillstudio.secrets import trust as _trust
from skillstudio.secrets.model import (
    DEFAULT_APPLY,
    Apply,
    SecretMeta,
    validate_domain,
    validate_name,
    validate_value,
)

SERVICE = "skillstudio-secrets"
META_NAME = "secrets.yaml"
_HEADER = ("# Skill Studio secrets: names and bindings only.\n"
           "# The values live in the OS keyring and are never written to this file.\n")
_lock = threading.Lock()  # metadata read-modify-write from the UI worker and the GUI thread


def metadata_path(workspace: Path | None = None) -> Path:
    if workspace is not None:
        return Path(workspace) / ".skillstudio" / META_NAME
    return userdirs.config_dir() / META_NAME


class Vault:
    """One store of secrets (a workspace's or the user's); every call is synchronous and short.

    Keyring calls may block (a D-Bus round-trip, an unlock prompt): the UI runs them in a worker.
    """

    def __init__(self, workspace: Path | None = None, backend: KeyringBackend | None = None) -> None:
        self.workspace = Path(workspace) if workspace is not None else None
        self.path = metadata_path(self.workspace)
        self._backend = backend

    # ------------------------------------------------------------------ metadata file

    def _load(self) -> dict[str, Any]:
        if not self.path.exists():
            return {"vault_id": "", "secrets": {}}
        try:
            # a workspace file: a regular file, bounded, never through a link out of .skillstudio/
            data = safeyaml.safe_load(read_text_file(self.path, 1 << 20, root=self.path.parent)) or {}
        except (yaml.YAMLError, ValueError, OSError) as exc:  # ValueError: a link out, a FIFO, not UTF-8
            raise SkillStudioError(safeyaml.explain(str(self.path), exc),
                                   "fix or remove the file (it holds no secret values)") from exc
        if not isinstance(data, dict) or not isinstance(data.get("secrets", {}), dict):
            raise SkillStudioError(f"{self.path} is not a secrets file", "fix or remove it (it holds no values)")
        data.setdefault("secrets", {})
        data.setdefault("vault_id", "")
        return data

    def _save(self, data: dict[str, Any]) -> None:
        text = _HEADER + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        if self.workspace is None:
            atomic_write(self.path, text)
            return
        with _trust.keep_approved(self.workspace, self.path):  # the user's own edit stays approved
            atomic_write(self.path, text)

    def _vault_id(self, data: dict[str, Any]) -> str:
        if not data.get("vault_id"):
            data["vault_id"] = uuid.uuid4().hex
        return str(data["vault_id"])

    @staticmethod
    def _meta(name: str, entry: Any) -> SecretMeta:
        entry = entry if isinstance(entry, dict) else {}
        try:
            apply = Apply.parse(str(entry.get("apply") or DEFAULT_APPLY))
        except SkillStudioError:
            apply = Apply()  # an unreadable widening falls back to the narrowest use
        domains = _valid_domains(entry.get("domains"))
        plain = [d for d in _valid_domains(entry.get("plain_http")) if d in domains]
        return SecretMeta(name=name, domains=domains, apply=apply, description=str(entry.get("description") or ""),
                          plain_http=plain)

    @staticmethod
    def _entry(meta: SecretMeta) -> dict[str, Any]:
        out: dict[str, Any] = {"description": meta.description, "domains": list(meta.domains), "apply": str(meta.apply)}
        if meta.plain_http:
            out["plain_http"] = list(meta.plain_http)
        return out

    # ------------------------------------------------------------------ keyring

    def _username(self, data: dict[str, Any], name: str) -> str:
        return f"{self._vault_id(data)}/{name}"

    def _kr(self) -> KeyringBackend:
        return keyring_guard.checked_backend(self._backend)

    def check(self) -> None:
        """Raise EnvironmentProblem unless a real keyring answers (a cheap read)."""
        kr = self._kr()
        keyring_guard.call(lambda: kr.get_password(SERVICE, "__probe__"), "read a secret")

    # ------------------------------------------------------------------ public API

    def list(self) -> list[SecretMeta]:
        data = self._load()
        return [self._meta(str(n), e) for n, e in sorted(data["secrets"].items())]

    def get(self, name: str) -> SecretMeta:
        data = self._load()
        if name not in data["secrets"]:
            raise SkillStudioError(f"no secret named {name!r}",
                                   "add it first (Secrets panel, or `skillstudio secrets set` with its domains)")
        return self._meta(name, data["secrets"][name])

    def has(self, name: str) -> bool:
        return name in self._load()["secrets"]

    def set(self, name: str, value: str, *, domains: Iterable[str] | None = None, apply: Apply | str | None = None,
            description: str | None = None) -> SecretMeta:
        """Create or rotate a secret. Bindings not given are kept from the existing entry."""
        validate_name(name)
        validate_value(value)
        kr = self._kr()
        with _lock:
            data = self._load()
            old = self._meta(name, data["secrets"].get(name))
            meta = self._merge(old, domains, apply, description)
            user = self._username(data, name)
            # Value first: a failure leaves no metadata pointing at a missing value.
            keyring_guard.call(lambda: kr.set_password(SERVICE, user, value), "store the secret")
            data["secrets"][name] = self._entry(meta)
            self._save(data)
        return meta

    def bind(self, name: str, *, domains: Iterable[str] | None = None, apply: Apply | str | None = None,
             description: str | None = None, plain_http: Iterable[str] | None = None) -> SecretMeta:
        """Change bindings of an existing secret without touching its value.

        `plain_http`: bound hosts that may receive the value over cleartext HTTP (default: none —
        substitution happens only inside TLS to a bound host).
        """
        with _lock:
            data = self._load()
            if name not in data["secrets"]:
                raise SkillStudioError(f"no secret named {name!r}", "create it first with `skillstudio secrets set`")
            meta = self._merge(self._meta(name, data["secrets"][name]), domains, apply, description)
            if plain_http is not None:
                plain = [validate_domain(d) for d in plain_http]
                for d in plain:
                    if d not in meta.domains:
                        raise SkillStudioError(f"{d} is not a domain {name} is bound to",
                                               f"bind {name} to {d} first, then allow plain HTTP for it")
                meta.plain_http = plain
            meta.plain_http = [d for d in meta.plain_http if d in meta.domains]
            data["secrets"][name] = self._entry(meta)
            self._save(data)
        return meta

    def delete(self, name: str) -> None:
        kr = self._kr()
        with _lock:
            data = self._load()
            if name not in data["secrets"]:
                raise SkillStudioError(f"no secret named {name!r}", "see `skillstudio secrets list`")
            user = self._username(data, name)
            if keyring_guard.call(lambda: kr.get_password(SERVICE, user), "read the secret") is not None:
                keyring_guard.call(lambda: kr.delete_password(SERVICE, user), "delete the secret")
            del data["secrets"][name]
            self._save(data)

    def _raw(self, name: str) -> str | None:
        data = self._load()
        if name not in data["secrets"]:
            self.get(name)  # raises the friendly error
        kr = self._kr()
        user = self._username(data, name)
        return keyring_guard.call(lambda: kr.get_password(SERVICE, user), "read the secret")

    def value(self, name: str) -> str:
        """The raw value, for the sidecar only. Never log, print or store what this returns."""
        got = self._raw(name)
        if got is None:
            raise SkillStudioError(f"secret {name!r} has no value in the OS keyring",
                                   f"set it again: `skillstudio secrets set {name}` with the value on stdin")
        return got

    def stored(self, name: str) -> bool:
        """Whether the keyring holds a value for `name` (the value itself is dropped at once)."""
        return self._raw(name) is not None

    def values(self) -> dict[str, str]:
        """NAME -> value of every stored secret, for leak scans (export refusal, sweeps). Never log it."""
        out = {}
        for meta in self.list():
            got = self._raw(meta.name)
            if got is not None:
                out[meta.name] = got
        return out

    @staticmethod
    def _merge(old: SecretMeta, domains: Iterable[str] | None, apply: Apply | str | None,
               description: str | None) -> SecretMeta:
        new_domains = old.domains
        if domains is not None:
            new_domains = []
            for d in domains:
                v = validate_domain(d)
                if v not in new_domains:
                    new_domains.append(v)
        new_apply = old.apply if apply is None else (apply if isinstance(apply, Apply) else Apply.parse(apply))
        return SecretMeta(name=old.name, domains=new_domains, apply=new_apply,
                          description=old.description if description is None else description.strip(),
                          plain_http=[d for d in old.plain_http if d in new_domains])


def _valid_domains(raw: Any) -> list[str]:
    """The well-formed domains of a loaded entry; a hand-edited `*.com` or `*.co.uk` is dropped."""
    out: list[str] = []
    for d in raw if isinstance(raw, list) else []:
        if not isinstance(d, str):
            continue
        try:
            v = validate_domain(d)
        except SkillStudioError:
            continue
        if v not in out:
            out.append(v)
    return out


def find(name: str, workspace: Path | None = None) -> Vault:
    """The vault that holds `name`: the workspace's first, then the user's.

    A workspace's bindings are applied only when the user approved them (secrets/trust.py):
    otherwise one edited line in a pull request could send a real token to another host.
    """
    if workspace is not None:
        ws = Vault(workspace)
        if ws.has(name):
            _trust.require(workspace, "its secret bindings and sandbox policies")
            return ws
    user = Vault()
    user.get(name)  # raises the friendly error when missing
    return user
