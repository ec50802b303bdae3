"""Fixtures for the sandbox tests: real bubblewrap, real Docker, real local HTTP(S) servers.

`backend` runs a test on both sandboxes. The Docker image is built (offline) at most once per
session and reused when it already exists; one DockerExecutor (one warm-container session) serves
all Docker tests.
"""

from __future__ import annotations

import http.server
import os
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_support import Backend, Server, self_signed

from skillstudio.sandbox.executor import Executor

RESOLVE = {"allowed.test": "127.0.0.1", "other.test": "127.0.0.1", "api.allowed.test": "127.0.0.1"}
SANDBOX_UID = 1000  # owner of Docker data folders in tests (the container runs as the folder's owner)


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = f"hello {self.headers.get('Host', '')} {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def _serve(ctx: ssl.SSLContext | None) -> tuple[http.server.ThreadingHTTPServer, threading.Thread]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    if ctx is not None:
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, name="test-http", daemon=True)
    t.start()
    return srv, t


@pytest.fixture(scope="session")
def http_server() -> Iterator[Server]:
    """A plain HTTP server on the host's loopback (what the sandbox must not reach directly)."""
    srv, t = _serve(None)
    yield Server(srv.server_address[1])
    srv.shutdown()
    t.join(5)


@pytest.fixture(scope="session")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A local HTTPS server with a self-signed certificate for allowed.test (and *.allowed.test)."""
    d = tmp_path_factory.mktemp("https")
    cert, key = self_signed(["allowed.test", "*.allowed.test"], d)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv, t = _serve(ctx)
    yield Server(srv.server_address[1], cert.read_bytes())
    srv.shutdown()
    t.join(5)


@pytest.fixture(scope="session", autouse=True)
def _no_kept_containers_left(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """CLI and console runs keep their Docker containers warm for minutes: remove those of this session's folders."""
    yield
    try:
        from skillstudio.sandbox.docker_backend import LABEL_KEEP, connect

        client = connect(timeout=10)
    except Exception:  # noqa: BLE001 - no engine: nothing was kept
        return
    base = str(tmp_path_factory.getbasetemp())
    for c in client.api.containers(all=True, filters={"label": LABEL_KEEP}):
        if any(str(m.get("Source", "")).startswith(base) for m in c.get("Mounts") or []):
            try:
                client.api.remove_container(c["Id"], force=True)
            except Exception:  # noqa: BLE001 - it may have removed itself meanwhile
                pass


@pytest.fixture(scope="session")
def docker_executor(docker_client: Any) -> Iterator[Executor]:
    """One Docker sandbox session for the whole test session (image built offline once if missing)."""
    from skillstudio.sandbox.docker_backend import DockerExecutor

    ex = DockerExecutor(docker_client, resolve=RESOLVE, progress=lambda m: print(f"[image] {m}"))
    yield ex
    ex.close()


@pytest.fixture()
def bwrap_executor(bwrap_available: None) -> Iterator[Executor]:
    from skillstudio.sandbox.bwrap import BwrapExecutor

    ex = BwrapExecutor(resolve=RESOLVE)
    yield ex
    ex.close()


@pytest.fixture(params=["subprocess", "docker"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """The test runs once per sandbox backend, each with a fresh data folder."""
    counter = iter(range(1000))

    def make_data() -> Path:
        d = tmp_path / f"data{next(counter)}"
        d.mkdir()
        if request.param == "docker" and os.getuid() == 0:
            os.chown(d, SANDBOX_UID, SANDBOX_UID)
        return d

    if request.param == "subprocess":
        ex = request.getfixturevalue("bwrap_executor")
    else:
        ex = request.getfixturevalue("docker_executor")
    return Backend(request.param, ex, make_data)
