"""End to end through the sidecar: a local HTTPS "API" gets the real value, the client only the placeholder.

Everything is real: TLS on 127.0.0.1 (the upstream's certificate signed by its own test CA), our
local CA with its key in the real keyring, a CONNECT front like the egress proxy's, h11 parsing, and
curl / Python's http.client as the tool.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import shutil
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import h11

from skillstudio.secrets.intercept import SecretInterceptor
from skillstudio.secrets.model import Apply
from skillstudio.secrets.placeholders import SessionSecret, new_placeholder
from skillstudio.secrets.substitute import Substituter
from skillstudio.secrets.tls_ca import LocalCA
from support.leaks import register_test_secret
from support.realparts import need

VALUE = register_test_secret("sk-e2e-REAL-value-7f3a9c")
BOUND, UNBOUND, PINNED = "api.test.local", "other.test.local", "pinned.test.local"

Seen = list[dict[str, Any]]


async def _upstream(ctx: ssl.SSLContext, seen: Seen) -> tuple[asyncio.AbstractServer, int]:
    """A tiny HTTPS API that records each request and echoes its Authorization header back."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        head: h11.Request | None = None
        body = b""
        try:
            while True:
                ev = conn.next_event()
                if ev is h11.NEED_DATA:
                    conn.receive_data(await reader.read(65536))
                elif isinstance(ev, h11.Request):
                    head, body = ev, b""
                elif isinstance(ev, h11.Data):
                    body += ev.data
                elif isinstance(ev, h11.EndOfMessage):
                    assert head is not None
                    hs = {k.decode(): v.decode() for k, v in head.headers}
                    seen.append({"target": head.target.decode(), "headers": hs, "body": body.decode()})
                    out = json.dumps({"you_sent": hs.get("authorization", ""), "n": len(seen)}).encode()
                    writer.write(conn.send(h11.Response(status_code=200, headers=[
                        ("content-type", "application/json"), ("content-length", str(len(out)))])))
                    writer.write(conn.send(h11.Data(data=out)) + conn.send(h11.EndOfMessage()))
                    await writer.drain()
                    conn.start_next_cycle()
                else:
                    break
        except (ConnectionError, h11.ProtocolError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ctx)
    return server, server.sockets[0].getsockname()[1]


async def _connect_front(interceptor: SecretInterceptor) -> tuple[asyncio.AbstractServer, int]:
    """The part of the egress proxy that accepts CONNECT and hands the tunnel over."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        method, authority, _ = head.split(b"\r\n", 1)[0].split(b" ", 2)
        assert method == b"CONNECT"
        host, _, port = authority.decode().rpartition(":")
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        assert interceptor.wants(host, int(port))
        await interceptor.handle(host, int(port), reader, writer)

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _run(scenario: Callable[..., Awaitable[None]], tmp_path: Path, apply: str = "bearer") -> tuple[Seen, Seen, Any]:
    """Start upstreams, interceptor and CONNECT front; run `scenario`; return what each upstream saw."""
    seen_bound: Seen = []
    seen_unbound: Seen = []
    events: list[dict[str, Any]] = []
    api_ca = LocalCA.generate("test API CA")  # the "public" CA the real API's certificate chains to
    ca = LocalCA.load_or_create(folder=tmp_path / "ca")  # ours: key in the real keyring
    secret = SessionSecret("API_TOKEN", new_placeholder(), VALUE, (BOUND,), Apply.parse(apply))

    async def main() -> None:
        up1, p1 = await _upstream(api_ca.server_context(BOUND), seen_bound)
        up2, p2 = await _upstream(api_ca.server_context(UNBOUND), seen_unbound)
        trust_api = ssl.create_default_context(cadata=api_ca.cert_pem.decode())
        interceptor = SecretInterceptor(
            Substituter([secret], exclude=[PINNED], on_event=events.append), ca, upstream_ssl=trust_api,
            upstream_addresses={(BOUND, 443): ("127.0.0.1", p1), (UNBOUND, 443): ("127.0.0.1", p2)})
        front, fp = await _connect_front(interceptor)
        try:
            await scenario(fp, secret.placeholder, tmp_path / "ca" / "skillstudio-ca.pem", interceptor)
        finally:
            for s in (front, up1, up2):
                s.close()
                await s.wait_closed()

    asyncio.run(main())
    return seen_bound, seen_unbound, events


def test_curl_through_the_sidecar(real_keyring: None, tmp_path: Path) -> None:
    if not shutil.which("curl"):
        need(False, "curl not installed (apt-get install curl)")
    outputs: dict[str, tuple[int, str]] = {}

    async def scenario(port: int, placeholder: str, ca_file: Path, _: SecretInterceptor) -> None:
        for host in (BOUND, UNBOUND):
            proc = await asyncio.create_subprocess_exec(
                "curl", "-sS", "--noproxy", "", "--proxy", f"http://127.0.0.1:{port}", "--cacert", str(ca_file),
                "-H", f"Authorization: Bearer {placeholder}", "-w", "\n%{http_code}", f"https://{host}/v1/me",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await proc.communicate()
            body, _, code = out.decode().rpartition("\n")
            outputs[host] = (int(code or 0), body + err.decode())

    bound, unbound, events = _run(scenario, tmp_path)
    # The API received the real value; curl only ever held and saw the placeholder.
    assert [r["headers"]["authorization"] for r in bound] == [f"Bearer {VALUE}"]
    code, text = outputs[BOUND]
    assert code == 200 and VALUE not in text
    assert json.loads(text)["you_sent"].startswith("Bearer ssph_")  # the echo was turned back
    # The unbound host got nothing at all; curl got a clear 403.
    assert unbound == []
    code, text = outputs[UNBOUND]
    assert code == 403 and "API_TOKEN" in text and VALUE not in text
    assert [e["event"] for e in events] == ["secret_applied", "secret_refused"]
    assert VALUE not in json.dumps(events)


def test_python_client_keepalive_query_and_body(real_keyring: None, tmp_path: Path) -> None:
    replies: list[tuple[int, bytes]] = []

    async def scenario(port: int, placeholder: str, ca_file: Path, _: SecretInterceptor) -> None:
        def client() -> None:
            ctx = ssl.create_default_context(cafile=str(ca_file))
            conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
            conn.set_tunnel(BOUND, 443)
            try:
                conn.request("GET", f"/search?key={placeholder}&q=1")
                r = conn.getresponse()
                replies.append((r.status, r.read()))
                conn.request("POST", "/upload", body=json.dumps({"token": placeholder}),
                             headers={"Content-Type": "application/json", "Authorization": f"Bearer {placeholder}"})
                r = conn.getresponse()
                replies.append((r.status, r.read()))
            finally:
                conn.close()

        await asyncio.to_thread(client)

    bound, unbound, _ = _run(scenario, tmp_path, apply="anywhere")
    assert [r["target"] for r in bound] == ["/search?key=sk-e2e-REAL-value-7f3a9c&q=1", "/upload"]
    assert json.loads(bound[1]["body"]) == {"token": VALUE}
    assert bound[1]["headers"]["authorization"] == f"Bearer {VALUE}"
    assert [s for s, _ in replies] == [200, 200]
    assert json.loads(replies[1][1])["n"] == 2  # the same upstream connection served both
    assert all(VALUE.encode() not in b for _, b in replies)
    assert unbound == []


def test_client_that_does_not_trust_our_ca_fails_closed(real_keyring: None, tmp_path: Path) -> None:
    errors: list[BaseException] = []

    async def scenario(port: int, placeholder: str, ca_file: Path, _: SecretInterceptor) -> None:
        def client() -> None:
            conn = http.client.HTTPSConnection("127.0.0.1", port, context=ssl.create_default_context(), timeout=30)
            conn.set_tunnel(BOUND, 443)
            try:
                conn.request("GET", "/", headers={"Authorization": f"Bearer {placeholder}"})
            except ssl.SSLError as exc:
                errors.append(exc)
            finally:
                conn.close()

        await asyncio.to_thread(client)

    bound, _, _ = _run(scenario, tmp_path)
    assert bound == [] and len(errors) == 1


def test_interceptor_skips_excluded_hosts(real_keyring: None, tmp_path: Path) -> None:
    async def scenario(port: int, placeholder: str, ca_file: Path, interceptor: SecretInterceptor) -> None:
        assert not interceptor.wants(PINNED, 443)
        assert interceptor.wants(UNBOUND, 443) and interceptor.wants(BOUND, 443)

    _run(scenario, tmp_path)


def test_through_the_sandbox_egress_proxy(real_keyring: None, tmp_path: Path) -> None:
    """The real EgressProxy hands bound and unbound tunnels to us; excluded ones it splices blind."""
    if not shutil.which("curl"):
        need(False, "curl not installed (apt-get install curl)")
    from skillstudio.sandbox.proxy import EgressProxy

    api_ca = LocalCA.generate("test API CA")
    ca = LocalCA.load_or_create(folder=tmp_path / "ca")
    secret = SessionSecret("API_TOKEN", new_placeholder(), VALUE, (BOUND,), Apply.parse("bearer"))
    seen: dict[str, Seen] = {BOUND: [], UNBOUND: [], PINNED: []}
    results: dict[str, tuple[int, str]] = {}
    bundle = tmp_path / "trust.pem"
    bundle.write_bytes(ca.cert_pem + api_ca.cert_pem)  # ours, plus the pinned host's own CA

    async def main() -> None:
        servers = {h: await _upstream(api_ca.server_context(h), seen[h]) for h in seen}
        ports = {h: p for h, (_, p) in servers.items()}
        interceptor = SecretInterceptor(
            Substituter([secret], exclude=[PINNED]), ca,
            upstream_ssl=ssl.create_default_context(cadata=api_ca.cert_pem.decode()),
            upstream_addresses={(h, p): ("127.0.0.1", p) for h, p in ports.items()})
        proxy = EgressProxy(lambda host, port: host.endswith(".test.local"), interceptor=interceptor, tcp_port=0,
                            resolve={h: "127.0.0.1" for h in seen})
        proxy.start()
        try:
            assert proxy.tcp_address is not None
            for host in seen:
                proc = await asyncio.create_subprocess_exec(
                    "curl", "-sS", "--noproxy", "", "--proxy", f"http://127.0.0.1:{proxy.tcp_address[1]}",
                    "--cacert", str(bundle), "-H", f"Authorization: Bearer {secret.placeholder}",
                    "-w", "\n%{http_code}", f"https://{host}:{ports[host]}/v1/me",
                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
                out, err = await proc.communicate()
                body, _, code = out.decode().rpartition("\n")
                results[host] = (int(code or 0), body + err.decode())
        finally:
            proxy.close()
            for server, _ in servers.values():
                server.close()
                await server.wait_closed()

    asyncio.run(main())
    assert [r["headers"]["authorization"] for r in seen[BOUND]] == [f"Bearer {VALUE}"]
    assert results[BOUND][0] == 200 and VALUE not in results[BOUND][1]
    assert seen[UNBOUND] == [] and results[UNBOUND][0] == 403
    # Excluded: the tunnel is spliced, the host's own certificate is seen, nothing is substituted.
    assert [r["headers"]["authorization"] for r in seen[PINNED]] == [f"Bearer {secret.placeholder}"]
    assert results[PINNED][0] == 200


def test_large_chunked_upload_with_expect_continue(real_keyring: None, tmp_path: Path) -> None:
    if not shutil.which("curl"):
        need(False, "curl not installed (apt-get install curl)")
    payload = tmp_path / "big.txt"
    codes: list[int] = []

    async def scenario(port: int, placeholder: str, ca_file: Path, _: SecretInterceptor) -> None:
        payload.write_bytes(b"x" * 3_000_000 + f" token={placeholder} ".encode() + b"y" * 1000)
        proc = await asyncio.create_subprocess_exec(
            "curl", "-sS", "--noproxy", "", "--proxy", f"http://127.0.0.1:{port}", "--cacert", str(ca_file),
            "-H", "Transfer-Encoding: chunked", "-H", "Expect: 100-continue", "--data-binary", f"@{payload}",
            "-o", "/dev/null", "-w", "%{http_code}", f"https://{BOUND}/upload",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        codes.append(int(out or 0))

    bound, _, _ = _run(scenario, tmp_path, apply="anywhere")
    assert codes == [200]
    assert len(bound) == 1 and f" token={VALUE} " in bound[0]["body"]
    assert "ssph_" not in bound[0]["body"] and len(bound[0]["body"]) == 3_000_000 + len(VALUE) + 8 + 1000
