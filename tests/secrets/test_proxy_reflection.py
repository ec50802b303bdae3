"""Hostile tests: a bound host that reflects the substituted value must not hand it to the tool.

Real stack: the egress proxy (TCP front), the sidecar with our local CA (key in the real keyring),
a local HTTPS "API" that is bound and echoes the Authorization value back in every way an attacker
would ask it to (gzip/deflate bodies, an undecodable `br` body, the reason phrase, a header value,
a header name, upper case, reversed, spaced, hex/base64, slices). The tool is http.client.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import http.server
import re
import ssl
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from skillstudio.sandbox.policy import NetworkPolicy
from skillstudio.sandbox.proxy import EgressProxy
from skillstudio.secrets.encodings import FRAGMENT
from skillstudio.secrets.intercept import SecretInterceptor
from skillstudio.secrets.model import Apply, SecretMeta
from skillstudio.secrets.placeholders import SessionSecret, new_placeholder
from skillstudio.secrets.redact import Redactor
from skillstudio.secrets.substitute import HttpRequest, SecretEgressRefused, Substituter
from skillstudio.secrets.tls_ca import LocalCA
from support.leaks import register_test_secret

pytestmark = [pytest.mark.keyring]

VALUE = register_test_secret("sk-Refl3ct-AbCdEfGh-9x8y7z6w")
BOUND, UNBOUND = "api.reflect.test", "other.reflect.test"


def _reflect(mode: str, token: str, q: dict[str, list[str]]) -> tuple[str, list[tuple[str, str]], bytes]:
    """(reason phrase, headers, body) the hostile API answers with for `mode`."""
    body = token.encode()
    if mode == "gzip":
        return "OK", [("Content-Encoding", "gzip")], gzip.compress(b"you sent " + body)
    if mode == "deflate":  # raw deflate, as many servers send it
        c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        return "OK", [("Content-Encoding", "deflate")], c.compress(b"you sent " + body) + c.flush()
    if mode == "deflate-zlib":
        return "OK", [("Content-Encoding", "deflate")], zlib.compress(body)
    if mode == "gzip-twice":
        return "OK", [("Content-Encoding", "gzip, gzip")], gzip.compress(gzip.compress(body))
    if mode == "br":
        return "OK", [("Content-Encoding", "br")], b"\x1b" + body  # we cannot decode it: never relayed
    if mode == "reason":
        return token, [], b"see the status line"
    if mode == "header":
        return "OK", [("X-Echo", token), ("Set-Cookie", f"t={token}")], b"see the headers"
    if mode == "header-name":
        return "OK", [(f"X-{token}", "1")], b"see the header names"
    transformed = {
        "upper": token.upper(), "lower": token.lower(), "reversed": token[::-1],
        "spaced": " ".join(token), "dashed": "-".join(token), "dotted-reversed": ".".join(token[::-1]),
        "hex": token.encode().hex(), "b64": base64.b64encode(token.encode()).decode(),
        "slice": token[int(q.get("i", ["0"])[0]):][: int(q.get("n", ["8"])[0])],
    }
    return "OK", [], transformed[mode].encode()


@dataclass
class Api:
    seen: list[str] = field(default_factory=list)
    server: Any = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])


def _start(ctx: ssl.SSLContext | None) -> Api:
    api = Api()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            token = self.headers.get("Authorization", "").split(" ", 1)[-1]
            api.seen.append(token)
            url = urlsplit(self.path)
            reason, headers, body = _reflect(url.path.strip("/"), token, parse_qs(url.query))
            self.send_response(200, reason)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if ctx is not None:
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    api.server = srv
    threading.Thread(target=srv.serve_forever, name="reflect-api", daemon=True).start()
    return api


@dataclass
class Stack:
    proxy: EgressProxy
    secret: SessionSecret
    ca_file: Path
    https: Api
    plain: Api


@pytest.fixture()
def stack(real_keyring: None, tmp_path: Path) -> Iterator[Stack]:
    api_ca = LocalCA.generate("test public CA")
    https, plain = _start(api_ca.server_context(BOUND)), _start(None)
    secret = SessionSecret("API_TOKEN", new_placeholder(), VALUE, (BOUND,), Apply())  # default: Authorization
    ca = LocalCA.load_or_create(folder=tmp_path / "ca")
    interceptor = SecretInterceptor(Substituter([secret]), ca,
                                    upstream_ssl=ssl.create_default_context(cadata=api_ca.cert_pem.decode()),
                                    upstream_addresses={(BOUND, 443): ("127.0.0.1", https.port)})
    net = NetworkPolicy(allow=[BOUND, f"{BOUND}:{plain.port}", "127.0.0.1"])
    proxy = EgressProxy(net.allows, resolve={BOUND: "127.0.0.1"}, interceptor=interceptor, tcp_port=0).start()
    yield Stack(proxy, secret, tmp_path / "ca" / "skillstudio-ca.pem", https, plain)
    proxy.close()
    for api in (https, plain):
        api.server.shutdown()
        api.server.server_close()


def _https_get(st: Stack, path: str) -> tuple[int, str, list[tuple[str, str]], bytes]:
    assert st.proxy.tcp_address is not None
    ctx = ssl.create_default_context(cafile=str(st.ca_file))
    conn = http.client.HTTPSConnection(*st.proxy.tcp_address, context=ctx, timeout=20)
    conn.set_tunnel(BOUND, 443)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {st.secret.placeholder}"})
        r = conn.getresponse()
        return r.status, r.reason, r.getheaders(), r.read()
    finally:
        conn.close()


def _holds_value(blob: str) -> bool:
    """Whether `blob` gives the value away in a form a tool could trivially undo."""
    flat = re.sub(r"[\s._:;,|/\\+*-]", "", blob).lower()
    v = re.sub(r"[\s._:;,|/\\+*-]", "", VALUE).lower()
    return v in flat or v[::-1] in flat


def _everything(status: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> str:
    text = f"{status} {reason}\n" + "\n".join(f"{k}: {v}" for k, v in headers) + "\n"
    for decode in (lambda b: b, gzip.decompress, zlib.decompress, lambda b: zlib.decompress(b, -15)):
        try:
            text += decode(body).decode("latin-1") + "\n"
        except (OSError, zlib.error, EOFError):
            pass
    try:
        text += bytes.fromhex(body.decode()).decode("latin-1")
    except ValueError:
        pass
    try:
        text += base64.b64decode(body, validate=True).decode("latin-1")
    except ValueError:
        pass
    return text


@pytest.mark.parametrize("mode", ["gzip", "deflate", "deflate-zlib", "gzip-twice", "reason", "header", "header-name",
                                  "upper", "lower", "reversed", "spaced", "dashed", "dotted-reversed", "hex", "b64"])
def test_reflected_value_never_reaches_the_tool(stack: Stack, mode: str) -> None:
    status, reason, headers, body = _https_get(stack, f"/{mode}")
    assert stack.https.seen == [VALUE]  # the bound API really got the value ...
    everything = _everything(status, reason, headers, body)
    assert not _holds_value(everything), (mode, everything)  # ... and the tool got none of it back
    assert status == 200
    if mode.startswith(("gzip", "deflate")):
        assert stack.secret.placeholder in body.decode()  # decoded, swapped back to the placeholder, relayed plain
        assert not any(k.lower() == "content-encoding" for k, _ in headers)


def test_undecodable_encoding_is_refused_not_relayed(stack: Stack) -> None:
    status, reason, headers, body = _https_get(stack, "/br")
    assert status == 502 and b"content encoding 'br'" in body
    assert VALUE.encode() not in body
    assert any("not relayed" in e.reason for e in stack.proxy.events)


def test_slices_long_enough_are_caught_shorter_ones_are_the_stated_limit(stack: Stack) -> None:
    """Reading the value back piece by piece: slices of FRAGMENT+ characters are redacted; shorter
    slices pass (docs/security-secrets.md states this limit) — this test pins the exact boundary."""
    for i in range(0, len(VALUE) - FRAGMENT + 1, 5):
        _, _, _, body = _https_get(stack, f"/slice?i={i}&n={FRAGMENT}")
        assert body == b"[secret:API_TOKEN]", (i, body)
    _, _, _, body = _https_get(stack, f"/slice?i=3&n={FRAGMENT - 1}")
    assert body.decode() == VALUE[3:3 + FRAGMENT - 1]  # the known gap, exactly as documented


def test_plain_http_to_the_bound_host_never_carries_the_value(stack: Stack) -> None:
    assert stack.proxy.tcp_address is not None
    conn = http.client.HTTPConnection(*stack.proxy.tcp_address, timeout=20)
    conn.request("GET", f"http://{BOUND}:{stack.plain.port}/header",
                 headers={"Authorization": f"Bearer {stack.secret.placeholder}"})
    r = conn.getresponse()
    body = r.read().decode()
    conn.close()
    assert r.status == 403 and "over plain HTTP" in body and "--plain-http" in body
    assert stack.plain.seen == []


def test_plain_http_only_when_the_binding_allows_it_for_that_host() -> None:
    ph = new_placeholder()
    narrow = SessionSecret("T", ph, VALUE, (BOUND,), Apply())
    wide = SessionSecret("T", ph, VALUE, (BOUND,), Apply(), plain_http=(BOUND,))
    req = HttpRequest(b"GET", b"/", [(b"host", BOUND.encode()), (b"authorization", f"Bearer {ph}".encode())])
    with pytest.raises(SecretEgressRefused, match="over plain HTTP"):
        Substituter([narrow]).rewrite(BOUND, 80, req, tls=False)
    out = Substituter([wide]).rewrite(BOUND, 80, req, tls=False)
    assert out.header(b"authorization") == f"Bearer {VALUE}".encode()
    rewritten = Substituter([narrow]).rewrite(BOUND, 443, req, tls=True)
    assert rewritten.header(b"authorization") == f"Bearer {VALUE}".encode()
    assert SecretMeta("T", [BOUND], plain_http=[BOUND]).plain_http_to(BOUND)
    assert not SecretMeta("T", [BOUND], plain_http=[BOUND]).plain_http_to(UNBOUND)


def test_bindings_default_to_the_authorization_header_and_widen_only_when_asked() -> None:
    ph = new_placeholder()
    default = SessionSecret("T", ph, VALUE, (BOUND,), Apply())
    assert Apply() == Apply.parse("") == Apply("bearer")
    in_body = HttpRequest(b"POST", b"/comments", [(b"host", BOUND.encode()), (b"content-type", b"text/plain")],
                          f"note: {ph}".encode())
    with pytest.raises(SecretEgressRefused, match="bound as the Authorization header"):
        Substituter([default]).rewrite(BOUND, 443, in_body)
    in_query = HttpRequest(b"GET", f"/echo?q={ph}".encode(), [(b"host", BOUND.encode())])
    with pytest.raises(SecretEgressRefused):
        Substituter([default]).rewrite(BOUND, 443, in_query)
    wide = SessionSecret("T", ph, VALUE, (BOUND,), Apply.parse("anywhere"))
    assert Substituter([wide]).rewrite(BOUND, 443, in_body).body == f"note: {VALUE}".encode()


@pytest.mark.parametrize("form", ["upper", "reversed", "spaced", "dashed", "reversed-underscored", "hex", "b64", "url",
                                  "slice"])
def test_transformed_value_to_an_unbound_host_is_refused(form: str) -> None:
    """Exposed mode: the tool holds the value; reversing or spacing it does not get it out."""
    sent = {"upper": VALUE.upper(), "reversed": VALUE[::-1], "spaced": " ".join(VALUE), "dashed": "-".join(VALUE),
            "reversed-underscored": "_".join(VALUE[::-1]), "hex": VALUE.encode().hex(),
            "b64": base64.b64encode(VALUE.encode()).decode(), "url": VALUE.replace("-", "%2D"),
            "slice": VALUE[4:4 + FRAGMENT]}[form]
    s = SessionSecret("T", new_placeholder(), VALUE, (BOUND,), Apply())
    req = HttpRequest(b"POST", b"/collect", [(b"host", UNBOUND.encode())], f"x={sent}".encode())
    with pytest.raises(SecretEgressRefused):
        Substituter([s]).rewrite(UNBOUND, 443, req)


def test_output_redaction_catches_the_common_transformations_and_states_its_limit() -> None:
    r = Redactor({"API_TOKEN": VALUE})
    for shown in (VALUE.upper(), VALUE[::-1], " ".join(VALUE), "-".join(VALUE), ":".join(VALUE[::-1]),
                  VALUE.encode().hex().upper(), base64.urlsafe_b64encode(VALUE.encode()).decode().rstrip("="),
                  VALUE.swapcase(), "_".join(VALUE.upper()[::-1])):
        out = r.redact(f"<{shown}>")
        assert out == "<[secret:API_TOKEN]>", shown
    # Output redaction does not look for slices (ordinary words shared with weak values would go);
    # the sidecar's swap-back does (test_slices_... above): that is where a bound host reflects them.
    assert r.redact(VALUE[2:2 + FRAGMENT]) == VALUE[2:2 + FRAGMENT]
    r = Redactor({"API_TOKEN": VALUE}, fragments=True)
    assert r.redact(f"<{VALUE[2:2 + FRAGMENT].upper()}>") == "<[secret:API_TOKEN]>"
    for a, b in ((1, 21), (0, 9), (3, len(VALUE))):  # a long slice is one match: no visible tail
        assert r.redact(f"<{VALUE[a:b]}>") == "<[secret:API_TOKEN]>", (a, b)
        assert r.redact(f"<{VALUE[a:b][::-1]}>") == "<[secret:API_TOKEN]>", (a, b)
    short = VALUE[5:5 + FRAGMENT - 1]
    assert r.redact(short) == short  # shorter slices are not recognised (documented)
    assert r.redact("a perfectly ordinary sentence, 1-2-3") == "a perfectly ordinary sentence, 1-2-3"


@pytest.mark.parametrize("label", [VALUE.lower(), VALUE[::-1].lower(), VALUE.encode().hex()[:60],
                                   VALUE[2:12].lower()])
def test_a_value_in_a_host_name_is_refused_before_any_dns_lookup(label: str) -> None:
    """`<value>.allowed.example` would leak through the resolver before any request is seen."""
    looked_up: list[str] = []

    async def dns(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["93.184.215.14"]

    s = SessionSecret("API_TOKEN", new_placeholder(), VALUE, (BOUND,), Apply())
    interceptor = SecretInterceptor(Substituter([s]), LocalCA.generate("test CA"))
    with EgressProxy(NetworkPolicy(allow=["*.reflect.test"]).allows, interceptor=interceptor, resolver=dns,
                     tcp_port=0) as proxy:
        assert proxy.tcp_address is not None
        conn = http.client.HTTPConnection(*proxy.tcp_address, timeout=20)
        conn.request("GET", f"http://{label}.reflect.test/", headers={"Host": f"{label}.reflect.test"})
        r = conn.getresponse()
        body = r.read().decode()
        conn.close()
        assert r.status == 403 and "host name carries secret API_TOKEN" in body
        assert looked_up == []
        assert all(label not in e.host for e in proxy.events)
