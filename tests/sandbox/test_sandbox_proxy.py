"""The egress proxy on its own: allow/refuse over TCP, CONNECT tunnels, the event log, the interceptor hook."""

from __future__ import annotations

import asyncio
import http.client
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path

from sandbox_support import Server

from skillstudio.sandbox.policy import NetworkPolicy
from skillstudio.sandbox.proxy import DecisionLog, EgressProxy, ProxyEvent

RESOLVE = {"allowed.test": "127.0.0.1", "other.test": "127.0.0.1", "tls.allowed.test": "127.0.0.1"}


def _opener(proxy: EgressProxy) -> urllib.request.OpenerDirector:
    assert proxy.tcp_address is not None
    host, port = proxy.tcp_address
    return urllib.request.build_opener(urllib.request.ProxyHandler({"http": f"http://{host}:{port}"}))


def test_plain_http_allowed_and_refused(http_server: Server) -> None:
    seen: list[ProxyEvent] = []
    net = NetworkPolicy(allow=[f"allowed.test:{http_server.port}"])  # an entry without a port is 443 only
    with EgressProxy(net.allows, resolve=RESOLVE, tcp_port=0, on_event=seen.append) as proxy:
        opener = _opener(proxy)
        body = opener.open(f"http://allowed.test:{http_server.port}/hi?q=1", timeout=5).read().decode()
        assert body == f"hello allowed.test:{http_server.port} /hi?q=1"
        try:
            opener.open(f"http://other.test:{http_server.port}/", timeout=5)
            raise AssertionError("other.test was let through")
        except urllib.error.HTTPError as exc:
            assert exc.code == 403
            assert "not on the allow list" in exc.read().decode()
        try:
            opener.open(f"http://127.0.0.1:{http_server.port}/", timeout=5)
            raise AssertionError("a loopback IP was let through")
        except urllib.error.HTTPError as exc:
            assert exc.code == 403
        assert [(e.host, e.allowed) for e in proxy.events] == [
            ("allowed.test", True), ("other.test", False), ("127.0.0.1", False)]
    assert seen == proxy.events
    assert not proxy.socket_path.exists()


def test_connect_tunnel_https(https_server: Server, tmp_path: Path) -> None:
    assert https_server.cert_pem is not None
    ca = tmp_path / "ca.pem"
    ca.write_bytes(https_server.cert_pem)
    with EgressProxy(NetworkPolicy(allow=[f"*.allowed.test:{https_server.port}"]).allows, resolve=RESOLVE,
                     tcp_port=0) as proxy:
        assert proxy.tcp_address is not None
        ctx = ssl.create_default_context(cafile=str(ca))
        conn = http.client.HTTPSConnection(*proxy.tcp_address, context=ctx, timeout=5)
        conn.set_tunnel("tls.allowed.test", https_server.port)
        conn.request("GET", "/secure")
        assert conn.getresponse().read().decode() == f"hello tls.allowed.test:{https_server.port} /secure"
        conn.close()
        refused = http.client.HTTPSConnection(*proxy.tcp_address, context=ctx, timeout=5)
        refused.set_tunnel("other.test", https_server.port)
        try:
            refused.request("GET", "/")
            raise AssertionError("CONNECT to other.test was let through")
        except OSError as exc:
            assert "403" in str(exc)
        refused.close()


def test_unreachable_upstream_is_502_and_logged() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    with EgressProxy(lambda h, p: True, resolve=RESOLVE, tcp_port=0) as proxy:
        try:
            _opener(proxy).open(f"http://allowed.test:{dead_port}/", timeout=5)
            raise AssertionError("expected 502")
        except urllib.error.HTTPError as exc:
            assert exc.code == 502
        assert proxy.events[-1].allowed is False and "unreachable" in proxy.events[-1].reason


class _Answering:
    """An interceptor (a plugin, as the secrets layer is) that answers tunnels to one host itself."""

    def __init__(self) -> None:
        self.handled: list[tuple[str, int]] = []

    def wants(self, host: str, port: int) -> bool:
        return host == "allowed.test"

    async def handle(self, host: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     log: DecisionLog | None = None, address: str | None = None) -> None:
        self.handled.append((host, port))
        line = await reader.readline()
        writer.write(b"intercepted:" + line)
        await writer.drain()
        writer.close()

    async def handle_http(self, host: str, port: int, head: bytes, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter, log: DecisionLog | None = None,
                          address: str | None = None) -> None:
        self.handled.append((host, port))
        if log is not None:
            log("GET", False, "plugin said no")
        writer.write(b"HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


def test_interceptor_takes_over_connect_for_the_hosts_it_wants(http_server: Server) -> None:
    hook = _Answering()
    port = http_server.port
    with EgressProxy(NetworkPolicy(allow=["allowed.test", f"allowed.test:{port}", f"other.test:{port}"]).allows,
                     resolve=RESOLVE, interceptor=hook, tcp_port=0) as proxy:
        assert proxy.tcp_address is not None
        with socket.create_connection(proxy.tcp_address, timeout=5) as s:
            s.sendall(b"CONNECT allowed.test:443 HTTP/1.1\r\nHost: allowed.test:443\r\n\r\n")
            f = s.makefile("rb")
            assert f.readline().startswith(b"HTTP/1.1 200")
            assert f.readline() == b"\r\n"
            s.sendall(b"ping\n")
            assert f.readline() == b"intercepted:ping\n"
        with socket.create_connection(proxy.tcp_address, timeout=5) as s:  # not wanted: a blind tunnel
            s.sendall(f"CONNECT other.test:{http_server.port} HTTP/1.1\r\n\r\n".encode())
            f = s.makefile("rb")
            assert f.readline().startswith(b"HTTP/1.1 200")
            f.readline()
            s.sendall(b"GET /t HTTP/1.0\r\nHost: other.test\r\n\r\n")
            assert b"hello other.test /t" in f.read()
        # Plain HTTP to a wanted host goes to the plugin too (never blind to the upstream).
        with socket.create_connection(proxy.tcp_address, timeout=5) as s:
            s.sendall(f"GET http://allowed.test:{http_server.port}/p HTTP/1.1\r\nHost: allowed.test\r\n\r\n".encode())
            assert s.makefile("rb").readline().startswith(b"HTTP/1.1 418")
        events = [e.line() for e in proxy.take_events()]
    assert hook.handled == [("allowed.test", 443), ("allowed.test", http_server.port)]
    assert events[-1] == f"refused GET allowed.test:{http_server.port} (plugin said no)"
