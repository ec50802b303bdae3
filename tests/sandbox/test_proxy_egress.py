"""Hostile tests for the egress proxy's own rules: where a name resolves, ports, wildcards, limits.

Real proxy, real loopback servers, the real system resolver for `localhost` (/etc/hosts); a
resolver function stands in for DNS only where a real DNS answer cannot be had offline (a name
that resolves to 169.254.169.254, an answer that changes between two lookups).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import stat
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sandbox_support import Backend, Server

from skillstudio.errors import SkillStudioError
from skillstudio.sandbox.policy import AllowedHost, Policy, suggest_settings
from skillstudio.sandbox.proxy import EgressProxy
from skillstudio.secrets.model import validate_domain


def _get(proxy: EgressProxy, url: str) -> tuple[int, str]:
    assert proxy.tcp_address is not None
    host, port = proxy.tcp_address
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": f"http://{host}:{port}"}))
    try:
        with opener.open(url, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _allow(*entries: str):  # type: ignore[no-untyped-def]
    hosts = [AllowedHost.parse(e) for e in entries]
    return lambda h, p: any(x.matches(h, p) for x in hosts)


# ------------------------------------------------------------------------- where a name resolves

def test_allowed_name_resolving_to_loopback_is_refused_unless_the_address_is_allowed(http_server: Server) -> None:
    port = http_server.port
    with EgressProxy(_allow(f"localhost:{port}"), tcp_port=0) as proxy:  # real resolver: /etc/hosts
        code, body = _get(proxy, f"http://localhost:{port}/x")
        assert code == 403 and "resolves to 127.0.0.1 (loopback)" in body, body
        assert f"allow 127.0.0.1:{port} explicitly" in body
        assert proxy.events[-1].allowed is False and "loopback" in proxy.events[-1].reason
    with EgressProxy(_allow(f"localhost:{port}", f"127.0.0.1:{port}"), tcp_port=0) as proxy:
        code, body = _get(proxy, f"http://localhost:{port}/x")
        assert code == 200 and body == f"hello localhost:{port} /x"


@pytest.mark.parametrize(("address", "kind"), [
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"), ("10.1.2.3", "private"),
    ("172.16.0.9", "private"), ("192.168.1.1", "private"), ("fc00::5", "private"), ("fd12::1", "private"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("127.0.0.53", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:169.254.169.254", "link-local"), ("100.64.0.1", "not globally routable"),
])
def test_every_non_public_address_class_is_refused(address: str, kind: str) -> None:
    asked: list[str] = []

    async def dns(host: str, port: int) -> list[str]:
        asked.append(host)
        return [address]

    with EgressProxy(_allow("api.example.com:80"), tcp_port=0, resolver=dns) as proxy:
        code, body = _get(proxy, "http://api.example.com/")
        assert code == 403, body
        assert f"resolves to {ipaddress.ip_address(address)}" in body
        assert f"({kind})" in body
    assert asked == ["api.example.com"]


def test_a_public_answer_is_used_and_private_ones_beside_it_are_skipped(http_server: Server) -> None:
    """DNS may answer with several addresses: the proxy connects to one it checked, never another."""
    port = http_server.port

    async def dns(host: str, port_: int) -> list[str]:
        return ["169.254.169.254", "127.0.0.1"]  # the first is never explicitly allowed here

    with EgressProxy(_allow(f"api.example.com:{port}", f"127.0.0.1:{port}"), tcp_port=0, resolver=dns) as proxy:
        code, body = _get(proxy, f"http://api.example.com:{port}/ok")
        assert code == 200 and body == f"hello api.example.com:{port} /ok"


def test_no_dns_rebinding_between_check_and_connect(http_server: Server) -> None:
    """The first answer is checked (and allowed); a second lookup would say 169.254.169.254.

    If the proxy looked the name up again to connect, the request would fail or go elsewhere;
    it succeeds only because the connection goes to the address that was checked, once.
    """
    port = http_server.port
    answers = iter([["127.0.0.1"], ["169.254.169.254"], ["169.254.169.254"]])
    calls: list[str] = []

    async def dns(host: str, port_: int) -> list[str]:
        calls.append(host)
        return next(answers)

    with EgressProxy(_allow(f"rebind.example.com:{port}", f"127.0.0.1:{port}"), tcp_port=0, resolver=dns) as proxy:
        code, body = _get(proxy, f"http://rebind.example.com:{port}/r")
        assert code == 200 and body == f"hello rebind.example.com:{port} /r"
    assert calls == ["rebind.example.com"]


class _Recorder:
    """An interceptor that records the address the proxy hands it (the secrets sidecar connects there)."""

    def __init__(self) -> None:
        self.addresses: list[str | None] = []

    def wants(self, host: str, port: int) -> bool:
        return True

    async def handle(self, host, port, reader, writer, log=None, address=None):  # type: ignore[no-untyped-def]
        self.addresses.append(address)
        writer.close()

    async def handle_http(self, host, port, head, reader, writer, log=None, address=None):  # type: ignore[no-untyped-def]
        self.addresses.append(address)
        writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


def test_the_interceptor_gets_the_checked_address_and_refused_names_never_reach_it() -> None:
    answers = {"good.example.com": ["93.184.215.14"], "meta.example.com": ["169.254.169.254"]}

    async def dns(host: str, port: int) -> list[str]:
        return answers[host]

    hook = _Recorder()
    with EgressProxy(_allow("good.example.com:80", "meta.example.com:80"), tcp_port=0, resolver=dns,
                     interceptor=hook) as proxy:
        assert _get(proxy, "http://good.example.com/")[0] == 204
        code, body = _get(proxy, "http://meta.example.com/")
        assert code == 403 and "link-local" in body
    assert hook.addresses == ["93.184.215.14"]


def test_proxy_refuses_loopback_names_inside_both_sandboxes(backend: Backend, http_server: Server) -> None:
    """The same from inside each backend: `localhost` on the allow list is not the host's loopback."""
    from skillstudio.sandbox.policy import NetworkPolicy

    port = http_server.port
    policy = Policy.build(backend.make_data(), network=NetworkPolicy(allow=[f"localhost:{port}"]))
    # --noproxy '': localhost must go through the proxy too (NO_PROXY usually exempts it).
    r = backend.executor.run(["sh", "-c", f"curl -sS --noproxy '' -w ' [%{{http_code}}]' http://localhost:{port}/"],
                             policy)
    assert "hello" not in r.stdout, r.stdout
    assert r.stdout.endswith("[403]") and "loopback" in r.stdout, r.stdout + r.stderr
    assert any(not e.allowed and "loopback" in e.reason for e in r.network_log)


# ------------------------------------------------------------------------- ports and wildcards

def test_an_entry_without_a_port_is_https_only() -> None:
    h = AllowedHost.parse("api.example.com")
    assert h.matches("api.example.com", 443)
    assert not h.matches("api.example.com", 80) and not h.matches("api.example.com", 22)
    assert AllowedHost.parse("api.example.com:80").matches("api.example.com", 80)
    assert str(AllowedHost.parse("[fd00::1]:8443")) == "[fd00::1]:8443"
    assert AllowedHost.parse("[fd00::1]:8443").matches("fd00:0::1", 8443)

    async def dns(host: str, port: int) -> list[str]:
        raise AssertionError("a refused name is never looked up")

    with EgressProxy(_allow("api.example.com"), tcp_port=0, resolver=dns) as proxy:
        code, body = _get(proxy, "http://api.example.com/")
        assert code == 403 and "api.example.com:80 is not on the allow list" in body


@pytest.mark.parametrize("entry", ["*.com", "*.co.uk", "*.com.au", "*.org.br", "*.github.io", "*.s3.amazonaws.com",
                                   "*.1", "*.0.0.1", "*.168.192", "*.10", "*", "*.*.example.com"])
def test_tld_wide_public_suffix_and_numeric_wildcards_are_refused(entry: str) -> None:
    with pytest.raises(SkillStudioError):
        AllowedHost.parse(entry)
    with pytest.raises(SkillStudioError):
        validate_domain(entry)  # the same rule for the domains a secret may go to


@pytest.mark.parametrize("entry", ["*.example.com", "*.example.co.uk", "*.api.example.com.au", "*.corp.example:8443"])
def test_organisation_wildcards_are_fine(entry: str) -> None:
    AllowedHost.parse(entry)


class _Front:
    allowed_tools = "Bash WebFetch(domain:*.com) WebFetch(domain:*.co.uk) WebFetch(domain:docs.example.org)"
    compatibility = "Needs api.example.com:8080, 10.0.0.7, 169.254.169.254 and *.github.io"


def test_front_matter_suggests_names_but_never_broad_or_numeric_entries() -> None:
    allow = suggest_settings(_Front()).network.allow
    assert allow == ["docs.example.org", "api.example.com"]
    assert all(AllowedHost.parse(a).port is None for a in allow)  # 443 only


# ------------------------------------------------------------------------- the host's own limits

def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_connection_flood_is_capped_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with EgressProxy(_allow("api.example.com"), max_connections=8) as proxy:
        base = _fds()
        held: list[socket.socket] = []
        try:
            for _ in range(300):
                s = socket.socket(socket.AF_UNIX)
                s.connect(str(proxy.socket_path))
                held.append(s)
            deadline = time.monotonic() + 30
            while proxy.refused_connections < 292 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert proxy.refused_connections == 292
            # Our 300 client ends are still open; the proxy's side holds at most its 8 (+ listener slack).
            assert _fds() - base <= 300 + 8 + 2
            # Refused clients were closed without a reply.
            held[-1].settimeout(5)
            assert held[-1].recv(100) == b""
        finally:
            for s in held:
                s.close()
        limit_events = [e for e in proxy.events if "connections at once" in e.reason]
        assert len(limit_events) == 1
        # Once the flood is gone, the proxy serves again.
        deadline = time.monotonic() + 30
        while proxy._active and time.monotonic() < deadline:
            time.sleep(0.05)
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(str(proxy.socket_path))
            s.sendall(b"CONNECT nope.example.net:443 HTTP/1.1\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 403")
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


def test_malformed_targets_get_400_not_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with EgressProxy(lambda h, p: True, tcp_port=0) as proxy:
        assert proxy.tcp_address is not None
        for line in (b"GET http://h:99999/ HTTP/1.1", b"GET http://[::1/ HTTP/1.1",
                     b"CONNECT " + b"a" * 300 + b":443 HTTP/1.1"):
            with socket.create_connection(proxy.tcp_address, timeout=10) as s:
                s.sendall(line + b"\r\n\r\n")
                answer = s.recv(200)
                assert answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 502")), (line, answer)
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


def test_socket_is_reachable_only_by_the_user(tmp_path: Path) -> None:
    with EgressProxy(_allow("api.example.com")) as proxy:
        sock = os.stat(proxy.socket_path)
        folder = os.stat(proxy.socket_path.parent)
        assert stat.S_IMODE(sock.st_mode) == 0o600 and stat.S_IMODE(folder.st_mode) == 0o700
        assert sock.st_uid == folder.st_uid == os.getuid()
        proxy.allow_dir_access(os.getuid())  # the sandbox runs as us: nothing is widened
        assert stat.S_IMODE(os.stat(proxy.socket_path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(proxy.socket_path.parent).st_mode) == 0o700
        if os.getuid() == 0:
            proxy.allow_dir_access(1000)  # handed to exactly one uid, still not world-reachable
            assert os.stat(proxy.socket_path).st_uid == 1000
            assert stat.S_IMODE(os.stat(proxy.socket_path).st_mode) == 0o600
            assert stat.S_IMODE(os.stat(proxy.socket_path.parent).st_mode) == 0o700
