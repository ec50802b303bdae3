"""Secrets through BOTH sandbox backends: the sidecar substitutes on bound hosts, refuses elsewhere.

Real everything: the keyring (gnome-keyring), our local CA (key in the keyring) trusted inside the
sandbox through the bound CA files and SSL_CERT_FILE/CURL_CA_BUNDLE, bubblewrap and a Docker
container without network, the egress proxy on a Unix socket, curl inside as the tool, and two
local HTTPS servers standing in for "the API" (api.test.local, bound) and another host
(other.test.local, allowed by the allow list but not bound). The executors' `resolve` map and the
interceptor's `upstream_addresses`/`upstream_ssl` stand in for DNS and the public CA, nothing else.
"""

from __future__ import annotations

import http.server
import os
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from skillstudio.sandbox.executor import ExecResult, Executor
from skillstudio.sandbox.policy import Policy
from skillstudio.secrets.attach import AttachedSecrets, attach
from skillstudio.secrets.tls_ca import LocalCA
from skillstudio.secrets.vault import Vault
from support.leaks import register_sweep_root, register_test_secret

pytestmark = [pytest.mark.bwrap, pytest.mark.docker, pytest.mark.keyring]

VALUE = register_test_secret("sk-sandbox-REAL-4d5e6f7a8b9c")
BOUND, UNBOUND = "api.test.local", "other.test.local"
PLAIN_PORT = 8080  # what the tool uses for plain HTTP; mapped to the real local port
RESOLVE = {BOUND: "127.0.0.1", UNBOUND: "127.0.0.1"}  # the proxy's static host table (its DNS here)


@dataclass
class Api:
    """A local server that records the Authorization header of every request and echoes it."""

    seen: list[str] = field(default_factory=list)
    server: Any = None
    thread: Any = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])


def _start(ctx: ssl.SSLContext | None) -> Api:
    api = Api()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            auth = self.headers.get("Authorization", "")
            api.seen.append(auth)
            body = f"you sent: {auth}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if ctx is not None:
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    api.server = srv
    api.thread = threading.Thread(target=srv.serve_forever, name="test-api", daemon=True)
    api.thread.start()
    return api


@pytest.fixture()
def apis() -> Iterator[tuple[LocalCA, dict[str, Api]]]:
    api_ca = LocalCA.generate("test public CA")
    servers = {BOUND: _start(api_ca.server_context(BOUND)), UNBOUND: _start(api_ca.server_context(UNBOUND)),
               "plain-" + BOUND: _start(None), "plain-" + UNBOUND: _start(None)}
    yield api_ca, servers
    for s in servers.values():
        s.server.shutdown()
        s.server.server_close()
        s.thread.join(5)


def _attached(names: list[str], exposed: list[str], api_ca: LocalCA, servers: dict[str, Api]) -> AttachedSecrets:
    Vault().set("API_TOKEN", VALUE, domains=[BOUND], apply="bearer")
    a = attach(names, exposed=exposed)
    a.interceptor.upstream_ssl = ssl.create_default_context(cadata=api_ca.cert_pem.decode())
    a.interceptor.upstream_addresses = {
        (BOUND, 443): ("127.0.0.1", servers[BOUND].port), (UNBOUND, 443): ("127.0.0.1", servers[UNBOUND].port),
        (BOUND, PLAIN_PORT): ("127.0.0.1", servers["plain-" + BOUND].port),
        (UNBOUND, PLAIN_PORT): ("127.0.0.1", servers["plain-" + UNBOUND].port)}
    return a


def _executor(kind: str, a: AttachedSecrets, request: pytest.FixtureRequest) -> Executor:
    if kind == "subprocess":
        request.getfixturevalue("bwrap_available")
        from skillstudio.sandbox.bwrap import BwrapExecutor

        return BwrapExecutor(interceptor=a.interceptor, resolve=RESOLVE)
    client = request.getfixturevalue("docker_client")
    request.getfixturevalue("docker_executor")  # the image exists (built once per machine)
    from skillstudio.sandbox.docker_backend import DockerExecutor

    return DockerExecutor(client, interceptor=a.interceptor, resolve=RESOLVE)


def _data(tmp_path: Path, kind: str) -> Path:
    d = register_sweep_root(tmp_path / "data")
    d.mkdir()
    if kind == "docker" and os.getuid() == 0:
        os.chown(d, 1000, 1000)
    return d


def _run(kind: str, a: AttachedSecrets, script: str, tmp_path: Path, request: pytest.FixtureRequest) -> ExecResult:
    policy = Policy(data_dir=_data(tmp_path, kind), ro_files=a.ro_files, env=a.env,
                    network={"allow": [*a.domains, UNBOUND, f"{BOUND}:{PLAIN_PORT}", f"{UNBOUND}:{PLAIN_PORT}"]}
                    ).checked()
    ex = _executor(kind, a, request)
    try:
        return ex.run(["sh", "-c", script], policy)
    finally:
        ex.close()


CURL = 'curl -sS --max-time 20 -w " [%{http_code}]\\n"'


@pytest.mark.parametrize("kind", ["subprocess", "docker"])
def test_placeholder_substituted_on_bound_host_refused_elsewhere(
        kind: str, real_keyring: None, apis: tuple[LocalCA, dict[str, Api]], tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    api_ca, servers = apis
    a = _attached(["API_TOKEN"], [], api_ca, servers)
    script = (f'echo "token=$API_TOKEN"; '
              f'{CURL} -H "Authorization: Bearer $API_TOKEN" https://{BOUND}/v1/me; '
              f'{CURL} -H "Authorization: Bearer $API_TOKEN" https://{UNBOUND}/v1/me; '
              f'{CURL} -H "Authorization: Bearer $API_TOKEN" http://{BOUND}:{PLAIN_PORT}/plain; '
              f'{CURL} -H "Authorization: Bearer $API_TOKEN" http://{UNBOUND}:{PLAIN_PORT}/plain')
    raw = _run(kind, a, script, tmp_path, request)
    result = a.redact_result(raw)
    assert raw.exit_code == 0, raw.stderr
    # The bound API got the real value over HTTPS; over plain HTTP the binding (HTTPS only) refused it.
    assert servers[BOUND].seen == [f"Bearer {VALUE}"]
    assert servers["plain-" + BOUND].seen == []
    # The unbound host got nothing: refused by the sidecar (it is on the allow list, so not the proxy).
    assert servers[UNBOUND].seen == [] and servers["plain-" + UNBOUND].seen == []
    placeholder = a.session.placeholders()["API_TOKEN"]
    https_ok, https_refused, plain_ok, plain_refused, rest = raw.stdout.split("]\n")
    assert https_ok.startswith(f"token={placeholder}\n")  # the tool only ever holds the placeholder
    assert https_ok.endswith(f"\nyou sent: Bearer {placeholder} [200")  # the API's echo was turned back
    assert "refused: request to other.test.local carries secret API_TOKEN" in https_refused
    assert https_refused.endswith("[403") and plain_refused.endswith("[403") and rest == ""
    assert "over plain HTTP (the binding allows HTTPS only" in plain_ok and plain_ok.endswith("[403")
    assert "carries secret API_TOKEN" in plain_refused
    assert VALUE not in raw.stdout + raw.stderr and result.stdout == raw.stdout
    log = [e.line() for e in raw.network_log]
    assert f"refused GET {UNBOUND}:443 (carries secret API_TOKEN, not bound to {UNBOUND})" in log
    assert f"refused GET {UNBOUND}:{PLAIN_PORT} (carries secret API_TOKEN, not bound to {UNBOUND})" in log
    assert [e["event"] for e in a.events].count("secret_applied") == 1
    assert VALUE not in repr(a.events) + repr(raw.network_log)


@pytest.mark.parametrize("kind", ["subprocess", "docker"])
def test_exposed_mode_hands_the_value_over_but_redacts_and_still_refuses(
        kind: str, real_keyring: None, apis: tuple[LocalCA, dict[str, Api]], tmp_path: Path,
        request: pytest.FixtureRequest) -> None:
    api_ca, servers = apis
    a = _attached([], ["API_TOKEN"], api_ca, servers)
    warning = a.warning()
    assert warning is not None and warning.startswith("secret exposed: API_TOKEN")
    script = (f'printf %s "$API_TOKEN" | wc -c; echo "raw=$API_TOKEN"; printf %s "$API_TOKEN" | base64; '
              f'{CURL} -H "X-Key: $API_TOKEN" https://{UNBOUND}/v1/me')
    raw = _run(kind, a, script, tmp_path, request)
    assert raw.exit_code == 0, raw.stderr
    assert raw.stdout.splitlines()[0].strip() == str(len(VALUE))  # the tool really had the raw value
    shown = a.redact_result(raw)
    assert VALUE not in shown.stdout + shown.stderr
    assert "raw=[secret:API_TOKEN]" in shown.stdout
    assert shown.stdout.splitlines()[2] == "[secret:API_TOKEN]"  # base64 of it, redacted too
    assert servers[UNBOUND].seen == [] and "carries secret API_TOKEN" in shown.stdout  # the raw value stays home
