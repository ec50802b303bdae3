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
refused for carrying a secret) to the proxy's event log; `address` is the IP the proxy checked, where
the interceptor must connect.

Where a name goes, not only what it is called: an allowed name is resolved once, here; an address
that is not public (loopback, link-local incl. 169.254.169.254, private, shared, unspecified,
multicast, reserved, and the IPv4-mapped forms of those) is refused unless the allow list names
that address itself; the connection then goes to exactly the address that was checked, so a DNS
answer that changes between check and connect (rebinding) changes nothing. The `resolve` map of
the constructor is the caller's static host table (tests; never workspace input) and counts as an
explicit choice of address.

Limits the host keeps for itself: at most `max_connections` concurrent client connections per
proxy (one proxy serves one sandbox); more are closed at once and logged once per burst, so a tool
that opens thousands of connections cannot exhaust the app's file descriptors or flood its log.
The socket is mode 0600 in a 0700 folder, owned by the user (or handed to one sandbox uid by
`allow_dir_access(uid)`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from skillstudio.errors import EnvironmentProblem

_MAX_HEAD = 64 * 1024
_CONNECT_TIMEOUT = 15.0
MAX_CONNECTIONS = 64  # concurrent client connections per proxy (= per sandbox)
log_ = logging.getLogger("skillstudio.sandbox.proxy")
Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def address_kind(ip: IPAddress) -> str | None:
    """Why `ip` is not a public internet address ("loopback", "private", ...), or None if it is."""
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        return address_kind(mapped)
    for kind, flag in (("unspecified", ip.is_unspecified), ("loopback", ip.is_loopback),
                       ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                       ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if flag:
            return kind
    if not ip.is_global:
        return "not globally routable"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host` (in its order, without duplicates)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[str] = []
    for info in infos:
        addr = str(info[4][0]).split("%", 1)[0]
        if addr not in out:
            out.append(addr)
    return out


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
                     writer: asyncio.StreamWriter, log: DecisionLog | None = None, address: str | None = None) -> None:
        """Serve one tunnel after the proxy answered `200 Connection established`; closes `writer`."""
        ...

    async def handle_http(self, host: str, port: int, head: bytes, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter, log: DecisionLog | None = None,
                          address: str | None = None) -> None:
        """Serve one plain-HTTP request whose head (absolute-form target) the proxy already read."""
        ...


class EgressProxy:
    """Allow-list proxy. Use as a context manager or call start()/close()."""

    def __init__(self, allows: Callable[[str, int], bool], *, resolve: dict[str, str] | None = None,
                 interceptor: Interceptor | None = None, on_event: Callable[[ProxyEvent], None] | None = None,
                 tcp_port: int | None = None, socket_mode: int = 0o600, resolver: Resolver | None = None,
                 max_connections: int = MAX_CONNECTIONS) -> None:
        self._allows = allows
        self._resolve = {k.lower(): v for k, v in (resolve or {}).items()}
        self._resolver = resolver or system_resolver
        self.max_connections = max_connections
        self._active = 0
        self._over_limit = False  # a refusal burst is in progress (logged once)
        self.refused_connections = 0
        self._reported: set[str] = set()
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
        loop.set_exception_handler(self._loop_error)
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

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """asyncio's own errors (e.g. accept() out of file descriptors): one log line per kind, no flood."""
        exc = context.get("exception")
        key = f"{context.get('message', '')}:{type(exc).__name__ if exc else ''}"
        if key in self._reported:
            return
        self._reported.add(key)
        log_.warning("egress proxy: %s%s (further reports of this kind are suppressed)",
                     context.get("message", "error"), f": {exc}" if exc else "")

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

    def allow_dir_access(self, uid: int | None = None, mode: int = 0o755) -> None:
        """Let one other uid (a container user) reach the socket.

        With `uid`: the folder (0700) and socket (0600) are handed to that uid when we may chown
        (running as root), and left alone when it is our own uid — nobody else can connect. Without
        `uid` (legacy): the folder and socket become world-reachable; avoid it.
        """
        if uid is not None:
            if uid == os.getuid():
                return
            if os.getuid() == 0:
                os.chown(self._dir, uid, -1)
                os.chown(self.socket_path, uid, -1)
                return
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

    async def check_address(self, host: str, port: int) -> tuple[str | None, str]:
        """(the address to connect to, "") or (None, why not) for an allowed `host`.

        Resolved once; the first address that is public, pinned by the caller's `resolve` map, or
        itself on the allow list wins. An address that is none of these is refused with its kind.
        """
        pinned = self._resolve.get(host.lower())
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            return str(literal), ""  # the allow list named this very address
        if pinned is not None:
            return pinned, ""
        try:
            addresses = await asyncio.wait_for(self._resolver(host, port), _CONNECT_TIMEOUT)
        except (OSError, TimeoutError, UnicodeError) as exc:
            return None, f"cannot resolve {host}: {exc.__class__.__name__}"
        refused = ""
        for text in addresses:
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                continue
            kind = address_kind(ip)
            if kind is None or self._allows(str(ip), port):
                return str(ip), ""
            refused = refused or (f"{host} resolves to {ip} ({kind}); allow {ip if ip.version == 4 else f'[{ip}]'}"
                                  f":{port} explicitly to reach it")
        return None, refused or f"{host} has no address"

    async def open_upstream(self, host: str, port: int, address: str | None = None,
                            ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        target = address or self._resolve.get(host.lower(), host)
        return await asyncio.wait_for(asyncio.open_connection(target, port), _CONNECT_TIMEOUT)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._active >= self.max_connections:
            self.refused_connections += 1
            if not self._over_limit:
                self._over_limit = True
                self._log("CONNECT", "-", 0, False,
                          f"more than {self.max_connections} connections at once; further ones are closed")
            writer.transport.abort()  # no reply, no buffered data: free the descriptor now
            return
        if self._active < self.max_connections // 2:
            self._over_limit = False
        self._active += 1
        try:
            await self._serve_one(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            pass
        except (ValueError, UnicodeError):  # a malformed target (bad port, bad IDNA): answer, never a traceback
            with contextlib.suppress(Exception):
                await _reply(writer, 400, "malformed request target")
        finally:
            self._active -= 1
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
        refuses_host = getattr(self.interceptor, "refuses_host", None)
        why_not = refuses_host(host) if refuses_host is not None else None
        if why_not:  # first, before any DNS lookup or log line: a name can carry data out through the resolver
            self._log(method, "[refused name]", port, False, why_not)
            await _reply(writer, 403, f"skillstudio sandbox: {why_not}")
            return
        if not self._allows(host, port):
            self._log(method, host, port, False, "not on the allow list")
            await _reply(writer, 403, f"skillstudio sandbox: {host}:{port} is not on the allow list")
            return
        address, why = await self.check_address(host, port)
        if address is None:
            self._log(method, host, port, False, why)
            await _reply(writer, 403 if "resolves to" in why else 502, f"skillstudio sandbox: {why}")
            return
        self._log(method, host, port, True)
        interceptor = self.interceptor
        if interceptor is not None and interceptor.wants(host, port):
            def log(m: str, allowed: bool, reason: str) -> None:
                self._log(m, host, port, allowed, reason)

            if method.upper() == "CONNECT":
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                await interceptor.handle(host, port, reader, writer, log, address=address)
            else:
                await interceptor.handle_http(host, port, head, reader, writer, log, address=address)
            return
        try:
            up_reader, up_writer = await self.open_upstream(host, port, address)
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
