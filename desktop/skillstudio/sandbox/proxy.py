"""The egress proxy: the only way out of a sandbox, allowing just the policy's hosts.

An asyncio HTTP forward proxy (CONNECT tunnels for HTTPS and anything else, absolute-URI plain
HTTP) that runs on the host, in our process, on its own event-loop thread. It listens on a Unix
socket (bound into bubblewrap sandboxes and Docker containers, which have no network interface
but loopback) and optionally on a loopback TCP port. Every decision becomes a `ProxyEvent` in
`events` (and is passed to `on_event`) so the transcript and the app can show it live. A refused
request gets `403` with a one-line reason the tool prints.

Why not the PyPI `proxy.py` package: it was evaluated. It runs its own acceptor processes/threads
with its own flag parsing and global state, so its decisions would not land in our in-process event
list, its threads would outlive a run, and its plugin API is not asyncio streams. We need exactly
two verbs (CONNECT and absolute-URI forwarding) plus a stream-level hook for the secrets layer;
that is a few hundred lines of stdlib asyncio.

Extension point (the secrets layer): an `Interceptor` decides per allowed host whether it takes
over a CONNECT tunnel (`wants(host, port)`); if so `handle(host, port, reader, writer)` gets the
client's streams right after the proxy answered `200`, so it can terminate TLS there. Plain-HTTP
requests to such a host go to `handle_http(host, port, head, reader, writer, log)` instead of being
forwarded blind, so a secret (placeholder or value) in cleartext is substituted or refused exactly
as inside a tunnel. `log(method, allowed, reason)` adds the interceptor's own decisions (a request
refused for carrying a secret) to the proxy's event log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from skillstudio.errors import EnvironmentProblem

_MAX_HEAD = 64 * 1024
_CONNECT_TIMEOUT = 15.0


@dataclass
class ProxyEvent:
    """One decision of the proxy: shown in the transcript and the app's proxy log."""

    time: float
    method: str
    host: str
    port: int
    allowed: bool
    reason: str = ""

    def line(self) -> str:
        verdict = "allowed" if self.allowed else "refused"
        return f"{verdict} {self.method} {self.host}:{self.port}" + (f" ({self.reason})" if self.reason else "")


DecisionLog = Callable[[str, bool, str], None]  # (method, allowed, reason) for the current host:port


class Interceptor(Protocol):
    """Takes over traffic to some hosts (the secrets layer terminates TLS there)."""

    def wants(self, host: str, port: int) -> bool: ...

    async def handle(self, host: str, port: int, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter, log: DecisionLog | None = None) -> None:
        """Serve one tunnel after the proxy answered `200 Connection established`; closes `writer`."""
        ...

    async def handle_http(self, host: str, port: int, head: bytes, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter, log: DecisionLog | None = None) -> None:
        """Serve one plain-HTTP request whose head (absolute-form target) the proxy already read."""
        ...


class EgressProxy:
    """Allow-list proxy. Use as a context manager or call start()/close()."""

    def __init__(self, allows: Callable[[str, int], bool], *, resolve: dict[str, str] | None = None,
                 interceptor: Interceptor | None = None, on_event: Callable[[ProxyEvent], None] | None = None,
                 tcp_port: int | None = None, socket_mode: int = 0o600) -> None:
        self._allows = allows
        self._resolve = {k.lower(): v for k, v in (resolve or {}).items()}
        self.interceptor = interceptor
        self._on_event = on_event
        self._tcp_port = tcp_port
        self._socket_mode = socket_mode
        self.events: list[ProxyEvent] = []
        self._lock = threading.Lock()
        self._dir = Path(tempfile.mkdtemp(prefix="ss-proxy-"))
        self.socket_path = self._dir / "proxy.sock"
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.AbstractServer] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.tcp_address: tuple[str, int] | None = None

    # --------------------------------------------------------------------------- lifecycle
    def start(self) -> EgressProxy:
        self._thread = threading.Thread(target=self._run, name="egress-proxy", daemon=True)
        self._thread.start()
        self._ready.wait(15)
        if self._error is not None or not self._ready.is_set():
            self.close()
            raise EnvironmentProblem(f"the egress proxy did not start: {self._error}",
                                     "check that the temp folder is writable")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._listen())
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            for s in self._servers:
                s.close()
            pending = asyncio.all_tasks(loop)
            for t in pending:
                t.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

    async def _listen(self) -> None:
        server = await asyncio.start_unix_server(self._client, path=str(self.socket_path), limit=_MAX_HEAD)
        os.chmod(self.socket_path, self._socket_mode)
        self._servers.append(server)
        if self._tcp_port is not None:
            tcp = await asyncio.start_server(self._client, "127.0.0.1", self._tcp_port, limit=_MAX_HEAD)
            self.tcp_address = tcp.sockets[0].getsockname()[:2]
            self._servers.append(tcp)

    def close(self) -> None:
        if self._loop is not None and self._thread is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        with contextlib.suppress(OSError):
            self.socket_path.unlink()
        with contextlib.suppress(OSError):
            self._dir.rmdir()

    def __enter__(self) -> EgressProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def allow_dir_access(self, mode: int = 0o755) -> None:
        """Let another uid (a container user) reach the socket; the socket mode decides the rest."""
        os.chmod(self._dir, mode)
        os.chmod(self.socket_path, 0o666)

    def take_events(self, since: int = 0) -> list[ProxyEvent]:
        with self._lock:
            return list(self.events[since:])

    # --------------------------------------------------------------------------- decisions
    def _log(self, method: str, host: str, port: int, allowed: bool, reason: str = "") -> None:
        event = ProxyEvent(time.time(), method, host, port, allowed, reason)
        with self._lock:
            self.events.append(event)
        if self._on_event is not None:
            with contextlib.suppress(Exception):
                self._on_event(event)

    async def open_upstream(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        target = self._resolve.get(host.lower(), host)
        return await asyncio.wait_for(asyncio.open_connection(target, port), _CONNECT_TIMEOUT)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._serve_one(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        if len(parts) != 3:
            await _reply(writer, 400, "malformed request line")
            return
        method, target, _version = parts
        if method.upper() == "CONNECT":
            host, port = _split_host_port(target, 443)
        else:
            url = urlsplit(target)
            if url.scheme != "http" or not url.hostname:
                await _reply(writer, 400, "only absolute http:// URLs and CONNECT are proxied")
                return
            host, port = url.hostname, url.port or 80
        if not host:
            await _reply(writer, 400, "no host in request")
            return
        if not self._allows(host, port):
            self._log(method, host, port, False, "not on the allow list")
            await _reply(writer, 403, f"skillstudio sandbox: {host}:{port} is not on the allow list")
            return
        self._log(method, host, port, True)
        interceptor = self.interceptor
        if interceptor is not None and interceptor.wants(host, port):
            def log(m: str, allowed: bool, reason: str) -> None:
                self._log(m, host, port, allowed, reason)

            if method.upper() == "CONNECT":
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await interceptor.handle(host, port, reader, writer, log)
            else:
                await interceptor.handle_http(host, port, head, reader, writer, log)
            return
        try:
            up_reader, up_writer = await self.open_upstream(host, port)
        except (OSError, TimeoutError) as exc:
            self._log(method, host, port, False, f"upstream unreachable: {exc.__class__.__name__}")
            await _reply(writer, 502, f"skillstudio sandbox: cannot reach {host}:{port}")
            return
        try:
            if method.upper() == "CONNECT":
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                up_writer.write(_origin_form(head, parts))
            await writer.drain()
            await up_writer.drain()
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            up_writer.close()


def _split_host_port(target: str, default: int) -> tuple[str, int]:
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = target.rpartition(":") if ":" in target else (target, "", "")
    return host.lower(), int(port) if port.isdigit() else default


def _origin_form(head: bytes, parts: list[str]) -> bytes:
    """Rewrite `GET http://h/p HTTP/1.1` to `GET /p HTTP/1.1`, drop proxy headers, one request per connection."""
    url = urlsplit(parts[1])
    path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    lines = head.decode("latin-1").split("\r\n")[1:]
    kept = [ln for ln in lines if ln and not ln.lower().startswith(("proxy-", "connection:", "keep-alive:"))]
    if not any(ln.lower().startswith("host:") for ln in kept):
        kept.insert(0, f"Host: {url.netloc}")
    out = [f"{parts[0]} {path} {parts[2]}", *kept, "Connection: close", "", ""]
    return "\r\n".join(out).encode("latin-1")


async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await src.read(65536)
            if not data:
                break
            dst.write(data)
            await dst.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            if dst.can_write_eof():
                dst.write_eof()


async def _reply(writer: asyncio.StreamWriter, status: int, message: str) -> None:
    reasons = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}
    body = (message + "\n").encode()
    writer.write(f"HTTP/1.1 {status} {reasons.get(status, 'Error')}\r\nContent-Type: text/plain\r\n"
                 f"Content-Length: {len(body)}\r\nX-Skillstudio-Refused: 1\r\nConnection: close\r\n\r\n".encode()
                 + body)
    await writer.drain()
