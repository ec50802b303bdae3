"""Per-run placeholders: what the tool process and the model see instead of a secret.

Each run draws a fresh random placeholder per secret (`ssph_` + 32 base62 characters, ~190 bits), so
a placeholder that leaks into a transcript is worthless outside that run, and it looks enough like
a token that tools pass it along unchanged. The sidecar swaps it for the value on bound hosts only.
"""

from __future__ import annotations

import secrets as _random
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstudio.secrets import vault as _vault
from skillstudio.secrets.model import Apply, SecretMeta

PREFIX = "ssph_"
_ALPHABET = string.ascii_letters + string.digits
_LENGTH = 32


def new_placeholder() -> str:
    return PREFIX + "".join(_random.choice(_ALPHABET) for _ in range(_LENGTH))


@dataclass(frozen=True)
class SessionSecret:
    """One secret in one run. `repr` never shows the value."""

    name: str
    placeholder: str
    value: str = field(repr=False)
    domains: tuple[str, ...] = ()
    apply: Apply = field(default_factory=Apply)
    plain_http: tuple[str, ...] = ()  # bound hosts that may get the value over cleartext HTTP

    @property
    def meta(self) -> SecretMeta:
        return SecretMeta(self.name, list(self.domains), self.apply, plain_http=list(self.plain_http))


class SecretSession:
    """The secrets of one run: the env for the tool process, the rules for the sidecar, the redactor.

    `exposed` names are handed to the tool raw (`--secret-env`, for non-HTTP tools); the run must
    then be marked "secret exposed" by whoever records it.
    """

    def __init__(self, secrets: Iterable[SessionSecret], exposed: Iterable[str] = ()) -> None:
        self.secrets: list[SessionSecret] = list(secrets)
        names = [s.name for s in self.secrets]
        if len(set(names)) != len(names):
            raise ValueError("a secret is listed twice in one session")
        self.exposed = frozenset(exposed)

    @classmethod
    def from_values(cls, items: Iterable[tuple[SecretMeta, str]], exposed: Iterable[str] = ()) -> SecretSession:
        return cls([SessionSecret(m.name, new_placeholder(), v, tuple(m.domains), m.apply, tuple(m.plain_http))
                    for m, v in items],
                   exposed)

    @classmethod
    def open(cls, names: Iterable[str], workspace: Path | None = None, exposed: Iterable[str] = ()) -> SecretSession:
        """Read the named secrets from the keyring (workspace vault first, then the user's)."""
        items = []
        exposed_set = set(exposed)
        for name in dict.fromkeys([*names, *exposed_set]):
            v = _vault.find(name, workspace)
            items.append((v.get(name), v.value(name)))
        return cls.from_values(items, exposed_set)

    @property
    def is_exposed(self) -> bool:
        return bool(self.exposed)

    def env(self) -> dict[str, str]:
        """NAME -> placeholder (or the raw value for exposed names) for the tool process."""
        return {s.name: (s.value if s.name in self.exposed else s.placeholder) for s in self.secrets}

    def placeholders(self) -> dict[str, str]:
        return {s.name: s.placeholder for s in self.secrets}

    def values(self) -> dict[str, str]:
        """NAME -> raw value, for building redactors. Never log what this returns."""
        return {s.name: s.value for s in self.secrets}

    def bound_domains(self) -> list[str]:
        return sorted({d for s in self.secrets for d in s.domains})

    def redactor(self) -> Any:
        from skillstudio.secrets.redact import Redactor

        return Redactor(self.values())

    def hosted_network_policy(self, allowed_domains: Iterable[str] = ()) -> dict[str, Any]:
        """The same bindings as an OpenAI hosted-container `network_policy` (values read at send time)."""
        domains = list(dict.fromkeys([*allowed_domains, *self.bound_domains()]))
        return {"type": "allowlist", "allowed_domains": domains,
                "domain_secrets": [{"domain": d, "name": s.name, "value": s.value}
                                   for s in self.secrets for d in s.domains]}

    def __repr__(self) -> str:
        return f"SecretSession({[s.name for s in self.secrets]!r}, exposed={sorted(self.exposed)!r})"
