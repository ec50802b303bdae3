"""Attaching keyring secrets to one sandboxed run: env, CA trust, the sidecar, redaction, exposure.

One place that turns "these secrets, these exposed" into what a sandbox run needs, so `exec`, the
Sandbox console and the agent get the same guarantees: the tool's environment holds placeholders
(raw values only for `--secret-env` names, and then the run says so), the local CA is trusted inside
through read-only files and the usual variables, the sidecar is the proxy's interceptor, and
everything the run returns is redacted to `[secret:NAME]`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstudio.secrets.intercept import SecretInterceptor, for_session
from skillstudio.secrets.placeholders import SecretSession
from skillstudio.secrets.redact import Redactor, StreamRedactor
from skillstudio.secrets.tls_ca import LocalCA, sandbox_env

CA_INSIDE = "/run/skillstudio/ca/skillstudio-ca.pem"
BUNDLE_INSIDE = "/run/skillstudio/ca/ca-bundle.pem"
EXPOSED_MARK = "secret exposed"


@dataclass
class AttachedSecrets:
    """What a run needs for its secrets. `env`/`ro_files`/`domains` go into the Policy."""

    session: SecretSession
    interceptor: SecretInterceptor | None  # None: the run has no network, nothing to intercept
    env: dict[str, str]
    ro_files: dict[str, Path]
    domains: list[str]
    redactor: Redactor
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exposed(self) -> list[str]:
        return sorted(self.session.exposed)

    def warning(self) -> str | None:
        """The line shown in the transcript and the UI when raw values sit in the tool's env."""
        if not self.exposed:
            return None
        return (f"{EXPOSED_MARK}: {', '.join(self.exposed)} in the tool's environment as raw values "
                "(exposed mode); output is still redacted and unbound hosts are still refused")

    def redact(self, text: str) -> str:
        return self.redactor.redact(text)

    def redact_result(self, result: Any) -> Any:
        """A copy of an ExecResult whose stdout/stderr show `[secret:NAME]` instead of any value."""
        return dataclasses.replace(result, stdout=self.redact(result.stdout), stderr=self.redact(result.stderr))

    def stream_redactors(self) -> tuple[StreamRedactor, StreamRedactor]:
        """One redactor per live stream (stdout, stderr): a value split across chunks is still caught."""
        return self.redactor.stream(), self.redactor.stream()


def attach(names: Iterable[str], *, exposed: Iterable[str] = (), workspace: Path | None = None,
           ca: LocalCA | None = None, exclude: Iterable[str] = (),
           on_event: Callable[[dict[str, Any]], None] | None = None,
           session: SecretSession | None = None, network: bool = True) -> AttachedSecrets:
    """Read the secrets from the keyring and build everything a sandbox run needs for them.

    `exposed` names are attached too (no need to list them twice) and handed to the tool raw.
    `network=False` (the run may reach no host at all): no local CA and no sidecar, since nothing
    can leave to be intercepted — and the keyring is not asked for the CA's key.
    """
    if session is None:
        session = SecretSession.open(list(names), workspace=workspace, exposed=list(exposed))
    if not network:
        return AttachedSecrets(session=session, interceptor=None, env=session.env(), ro_files={}, domains=[],
                               redactor=session.redactor(), events=[])
    ca = ca or LocalCA.load_or_create()
    ca_path, bundle_path = ca.write_public()
    events: list[dict[str, Any]] = []

    def record(event: dict[str, Any]) -> None:
        events.append(event)
        if on_event is not None:
            on_event(event)

    interceptor = for_session(session, exclude=exclude, on_event=record, ca=ca)
    env = {**session.env(), **sandbox_env(BUNDLE_INSIDE, CA_INSIDE)}
    return AttachedSecrets(session=session, interceptor=interceptor, env=env,
                           ro_files={CA_INSIDE: ca_path, BUNDLE_INSIDE: bundle_path},
                           domains=session.bound_domains(), redactor=session.redactor(), events=events)
