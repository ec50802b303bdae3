"""The credential-injecting sidecar: an asyncio interceptor for CONNECT tunnels.

The egress proxy accepts `CONNECT host:port`, answers `200`, and hands the client's streams to
`SecretInterceptor.handle` when `wants(host, port)` says so. We then speak TLS to the client with a
leaf certificate from the local CA, parse HTTP/1.1 with h11, let substitute.py rewrite or refuse
each request, forward it over TLS to the real host (verified normally) and relay the response —
with any echoed secret value turned back into its placeholder, so the tool never sees a value.
Plain-HTTP requests to the same hosts come through `handle_http` and get the same treatment
(substituted on bound hosts, refused elsewhere), so cleartext is no way around the sidecar.
Refusals are also reported to the proxy's log (`log(method, allowed, reason)`).

Swap-back sees what the tool would see: a gzip/deflate response body is decoded (and relayed
decoded), every header name and value and the reason phrase are scrubbed, and a response in a
content encoding we cannot decode (br, zstd, ...) is refused rather than relayed unchecked.
Requests ask only for encodings we decode. Cleartext requests carry a bound value only when the
binding allows plain HTTP for that host (see substitute.py).

Layering: this module never imports the sandbox. The egress proxy calls it through its own
`Interceptor` protocol (duck-typed) and passes the address it already checked, so the upstream
connection goes exactly where the proxy's allow list and address check said it may.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import h11

from skillstudio.secrets.placeholders import SecretSession
from skillstudio.secrets.redact import Redactor
from skillstudio.secrets.substitute import HttpRequest, SecretEgressRefused, Substituter
from skillstudio.secrets.tls_ca import LocalCA

log_ = logging.getLogger("skillstudio.secrets.intercept")
MAX_BODY = 64 * 1024 * 1024
_READ = 65536
_HOP_BY_HOP = {b"transfer-encoding", b"expect", b"proxy-connection", b"proxy-authorization", b"keep-alive",
               b"te", b"upgrade", b"accept-encoding"}
ACCEPTED_ENCODINGS = b"gzip, deflate"  # what the swap-back can decode; sent upstream on every request
DecisionLog = Callable[[str, bool, str], None]  # (method, allowed, reason): the proxy's event log


class _Undecodable(Exception):
    """A response body the swap-back cannot read (unknown coding, corrupt or too large)."""


class _Decoder:
    """Streams a gzip/deflate (possibly stacked) body back to its plain bytes, bounded by MAX_BODY."""

    def __init__(self, header: bytes) -> None:
        codings = [c.strip().lower() for c in header.split(b",") if c.strip()]
        codings = [c for c in codings if c != b"identity"]
        for c in codings:
            if c not in (b"gzip", b"x-gzip", b"deflate"):
                raise _Undecodable(f"content encoding {c.decode('latin-1')!r}")
        self._stages: list[Any] = [None for _ in codings]
        self._kinds = list(reversed(codings))  # the last coding applied is undone first
        self._pending = [b"" for _ in codings]
        self._total = 0

    def _stage(self, i: int, data: bytes) -> bytes:
        if self._stages[i] is None:
            if self._kinds[i] in (b"gzip", b"x-gzip"):
                self._stages[i] = zlib.decompressobj(16 + zlib.MAX_WBITS)
            else:  # "deflate" is zlib-wrapped by the spec, raw in the wild: tell them apart by the header
                self._pending[i] += data
                head = self._pending[i]
                if len(head) < 2:
                    return b""
                zlib_wrapped = head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0
                self._stages[i] = zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)
                data, self._pending[i] = head, b""
        budget = MAX_BODY - self._total + 1
        try:
            out: bytes = self._stages[i].decompress(data, budget)
        except zlib.error as exc:
            raise _Undecodable(f"corrupt {self._kinds[i].decode()} body: {exc}") from exc
        if self._stages[i].unconsumed_tail:
            raise _Undecodable("decoded body too large")
        return out

    def feed(self, data: bytes) -> bytes:
        for i in range(len(self._kinds)):
            data = self._stage(i, data)
        self._total += len(data)
        if self._total > MAX_BODY:
            raise _Undecodable("decoded body too large")
        return data

    def flush(self) -> bytes:
        out = b""
        for i in range(len(self._kinds)):
            data = out
            if self._pending[i]:
                data, self._pending[i] = self._pending[i] + data, b""
                self._stages[i] = self._stages[i] or zlib.decompressobj(-zlib.MAX_WBITS)
            out = self._stage(i, data) if data else b""
            if self._stages[i] is not None:
                out += self._stages[i].flush()
        return out


class _Closed(Exception):
    """The client went away or broke HTTP; just end the tunnel."""


class SecretInterceptor:
    """Opens TLS for every tunnel while secrets are in play (except excluded hosts).

    `upstream_ssl` and `upstream_addresses` ({(host, port): (ip, port)}) exist for tests that stand
    in a local HTTPS server for "the API"; by default upstreams are resolved and verified as usual.
    """

    def __init__(self, substituter: Substituter, ca: LocalCA, *, upstream_ssl: ssl.SSLContext | None = None,
                 upstream_addresses: Mapping[tuple[str, int], tuple[str, int]] | None = None,
                 timeout: float = 300.0) -> None:
        self.substituter = substituter
        self.ca = ca
        self.upstream_ssl = upstream_ssl or ssl.create_default_context()
        self.upstream_addresses = dict(upstream_addresses or {})
        self.timeout = timeout
        values = {s.name: s.value for s in substituter.secrets}
        # Swap-back: whole echoes become the placeholder, slices of 8+ characters `[secret:NAME]`.
        self._scrub = Redactor(values, replacements={s.name: s.placeholder for s in substituter.secrets},
                               fragments=True)

    def wants(self, host: str, port: int) -> bool:
        """Whether the proxy should hand this tunnel to us instead of splicing it blind."""
        return self.substituter.should_intercept(host)

    def refuses_host(self, host: str) -> str | None:
        """Why a host *name* must not even be looked up (it carries a secret), or None.

        The proxy asks before it resolves a name: `<value>.allowed.example.com` would otherwise
        carry the value out through DNS before any request is seen.
        """
        names = self.substituter.carried_by(host.encode("utf-8", "replace"))
        return f"the host name carries secret {sorted(names)[0]}" if names else None

    async def handle(self, host: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     log: DecisionLog | None = None, address: str | None = None) -> None:
        """Serve one tunnel after the proxy sent `200 Connection established`; closes `writer`.

        `address`: the IP the proxy resolved and checked for `host`; upstream goes there (no
        second DNS lookup that could answer differently).
        """
        try:
            await writer.start_tls(self.ca.server_context(host))
        except (TimeoutError, ConnectionError, ssl.SSLError, OSError) as exc:
            log_.debug("TLS with the client for %s:%s failed: %s", host, port, exc)
            await _close(writer)
            return
        await self._serve(host, port, reader, writer, b"", tls=True, log=log, address=address)

    async def handle_http(self, host: str, port: int, head: bytes, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter, log: DecisionLog | None = None,
                          address: str | None = None) -> None:
        """Serve plain-HTTP requests (absolute-form targets) the proxy read `head` of; closes `writer`.

        The same rules as inside a TLS tunnel (a secret to an unbound host is refused), and a bound
        placeholder is substituted only when its binding allows plain HTTP to this host. One
        request per connection, as the proxy's blind path does.
        """
        await self._serve(host, port, reader, writer, head, tls=False, log=log, address=address)

    async def _serve(self, host: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     first: bytes, *, tls: bool, log: DecisionLog | None, address: str | None = None) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter, h11.Connection] | None = None
        try:
            client = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
            if first:
                client.receive_data(first)
            while True:
                req = await self._read_request(client, reader, writer)
                if req is None:
                    break
                if not tls:
                    req.target = _origin_form(req.target)
                try:
                    req = self.substituter.rewrite(host, port, req, tls=tls)
                except SecretEgressRefused as exc:
                    if log is not None:
                        log(req.method.decode("latin-1"), False, f"carries secret {exc.name}, not bound to {exc.host}")
                    await self._reply(client, writer, 403, f"skillstudio sidecar: {exc}\n")
                    break
                if upstream is None:
                    try:
                        upstream = await self._connect(host, port, tls=tls, address=address)
                    except (TimeoutError, OSError, ssl.SSLError) as exc:
                        log_.warning("upstream %s:%s failed: %s", host, port, exc)
                        await self._reply(client, writer, 502, f"skillstudio sidecar: cannot reach {host}:{port}: {exc}\n")
                        break
                keep = await self._forward(req, upstream, client, writer, last=not tls, host=host, log=log)
                if not tls or not keep or client.our_state is not h11.DONE or client.their_state is not h11.DONE:
                    break
                client.start_next_cycle()
                if upstream[2].our_state is h11.DONE and upstream[2].their_state is h11.DONE:
                    upstream[2].start_next_cycle()
                else:
                    await _close(upstream[1])
                    upstream = None
        except (TimeoutError, _Closed, ConnectionError, ssl.SSLError, asyncio.IncompleteReadError,
                h11.ProtocolError) as exc:
            log_.debug("connection to %s:%s ended: %s", host, port, exc)
        finally:
            if upstream is not None:
                await _close(upstream[1])
            await _close(writer)

    # ------------------------------------------------------------------ client side

    async def _read_request(self, conn: h11.Connection, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> HttpRequest | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                with contextlib.suppress(Exception):
                    await self._reply(conn, writer, 400, f"skillstudio sidecar: bad request: {exc}\n")
                raise _Closed(str(exc)) from exc
            if event is h11.NEED_DATA:
                if conn.they_are_waiting_for_100_continue:
                    writer.write(conn.send(h11.InformationalResponse(status_code=100, headers=[])))
                data = await asyncio.wait_for(reader.read(_READ), self.timeout)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Request):
                head = event
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_BODY:
                    await self._reply(conn, writer, 413, "skillstudio sidecar: request body too large\n")
                    raise _Closed("body too large")
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                return HttpRequest(bytes(head.method), bytes(head.target), [(bytes(k), bytes(v)) for k, v in head.headers],
                                   bytes(body))
            elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None

    async def _reply(self, conn: h11.Connection, writer: asyncio.StreamWriter, status: int, text: str) -> None:
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        body = text.encode("utf-8")
        writer.write(conn.send(h11.Response(status_code=status, headers=[
            (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")])))
        writer.write(conn.send(h11.Data(data=body)))
        writer.write(conn.send(h11.EndOfMessage()))
        await writer.drain()

    # ------------------------------------------------------------------ upstream side

    async def _connect(self, host: str, port: int, tls: bool = True, address: str | None = None,
                       ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, h11.Connection]:
        addr, aport = self.upstream_addresses.get((host, port), (address or host, port))
        if tls:
            opening = asyncio.open_connection(addr, aport, ssl=self.upstream_ssl, server_hostname=host)
        else:
            opening = asyncio.open_connection(addr, aport)
        r, w = await asyncio.wait_for(opening, self.timeout)
        return r, w, h11.Connection(h11.CLIENT, max_incomplete_event_size=256 * 1024)

    async def _forward(self, req: HttpRequest, upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter, h11.Connection],
                       client: h11.Connection, writer: asyncio.StreamWriter, last: bool = False, host: str = "",
                       log: DecisionLog | None = None) -> bool:
        ur, uw, up = upstream
        headers = [(k, v) for k, v in req.headers if k.lower() not in _HOP_BY_HOP and k.lower() != b"content-length"]
        headers.append((b"accept-encoding", ACCEPTED_ENCODINGS))
        if req.body or req.method.upper() in (b"POST", b"PUT", b"PATCH"):
            headers.append((b"content-length", str(len(req.body)).encode()))
        uw.write(up.send(h11.Request(method=req.method, target=req.target, headers=headers)))
        if req.body:
            uw.write(up.send(h11.Data(data=req.body)))
        uw.write(up.send(h11.EndOfMessage()))
        await uw.drain()
        stream = self._scrub.stream() if self._scrub else None
        decoder: _Decoder | None = None
        while True:
            try:
                event = up.next_event()
            except h11.RemoteProtocolError as exc:
                await self._reply(client, writer, 502, f"skillstudio sidecar: bad response from upstream: {exc}\n")
                return False
            if event is h11.NEED_DATA:
                up.receive_data(await asyncio.wait_for(ur.read(_READ), self.timeout))
                continue
            try:
                if isinstance(event, h11.InformationalResponse):
                    if event.status_code == 101:
                        await self._reply(client, writer, 501, "skillstudio sidecar: protocol upgrades are not relayed\n")
                        return False
                    continue
                if isinstance(event, h11.Response):
                    rh = self._scrub_headers([(bytes(k), bytes(v)) for k, v in event.headers])
                    body = _has_body(req.method, event.status_code)
                    coding = b",".join(v for k, v in rh if k.lower() == b"content-encoding")
                    if body and coding.strip() and coding.strip().lower() != b"identity":
                        decoder = _Decoder(coding)  # raises _Undecodable for br, zstd, ...
                        rh = [(k, v) for k, v in rh if k.lower() != b"content-encoding"]
                    if body:
                        # The body may change size when decoded or swapped back: let h11 re-frame it.
                        rh = [(k, v) for k, v in rh if k.lower() not in (b"content-length", b"transfer-encoding")]
                    if last:  # one request per connection: tell the client, so it never queues a second one
                        rh = [(k, v) for k, v in rh if k.lower() != b"connection"] + [(b"connection", b"close")]
                    reason = self._scrub.redact(bytes(event.reason)) if self._scrub else bytes(event.reason)
                    writer.write(client.send(h11.Response(status_code=event.status_code, headers=rh, reason=reason)))
                elif isinstance(event, h11.Data):
                    data = bytes(event.data)
                    if decoder is not None:
                        data = decoder.feed(data)
                    chunk = stream.feed(data) if stream is not None else data
                    if chunk:
                        writer.write(client.send(h11.Data(data=chunk)))
                        await writer.drain()
                elif isinstance(event, h11.EndOfMessage):
                    rest = decoder.flush() if decoder is not None else b""
                    if stream is not None:
                        tail = stream.feed(rest) if rest else b""
                        end = stream.flush()
                        rest = tail + (end if isinstance(end, bytes) else end.encode())
                    if rest:
                        writer.write(client.send(h11.Data(data=rest)))
                    writer.write(client.send(h11.EndOfMessage()))
                    await writer.drain()
                    return True
                elif isinstance(event, h11.ConnectionClosed):
                    return False
            except _Undecodable as exc:
                reason_text = f"response from {host} not relayed: {exc} (the sidecar must read it to keep secrets out)"
                log_.warning("%s", reason_text)
                if log is not None:
                    log(req.method.decode("latin-1"), False, reason_text)
                if client.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    await self._reply(client, writer, 502, f"skillstudio sidecar: {reason_text}\n")
                return False  # a half-sent body ends with the connection: the client sees a truncated reply

    def _scrub_headers(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """Every header value scrubbed; a header whose *name* carries a secret is dropped."""
        if not self._scrub:
            return headers
        return [(k, self._scrub.redact(v)) for k, v in headers if not self._scrub.find(k)]


def _origin_form(target: bytes) -> bytes:
    """`http://host/p?q` -> `/p?q` (what the origin server expects; Host stays in the headers)."""
    if target[:7].lower() != b"http://":
        return target
    rest = target[7:]
    slash = rest.find(b"/")
    return rest[slash:] if slash >= 0 else b"/"


def _has_body(method: bytes, status: int) -> bool:
    return method.upper() != b"HEAD" and status not in (204, 304) and status >= 200


async def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()
        await asyncio.wait_for(writer.wait_closed(), 5)


def for_session(session: SecretSession, *, exclude: Iterable[str] = (), intercept_unbound: bool = True,
                on_event: Callable[[dict[str, Any]], None] | None = None, ca: LocalCA | None = None) -> SecretInterceptor:
    """The sidecar for one run: this install's CA (key from the keyring) and the session's rules.

    Exposed secrets (`--secret-env`) are still substituted and checked: the tool holds the raw value
    then, so the refusal of unbound hosts is what keeps it from leaving.
    """
    sub = Substituter(session.secrets, exclude=exclude, on_event=on_event, intercept_unbound=intercept_unbound)
    return SecretInterceptor(sub, ca or LocalCA.load_or_create())
