"""The HTTP transport of streamed trigger runs: one connection pool per run, lean on the hot path.

Every streamed turn is one POST whose SSE body is read until the turn is settled, so the client's
per-request cost is most of a run's CPU. A direct connection (no proxy set in the environment) goes
straight to httpcore's connection pool: the same HTTP/1.1 engine httpx uses, without httpx's request
and response models, auth and redirect layers (about a third less CPU per request). With a proxy
variable set, the httpx client does the work, so proxies and NO_PROXY behave exactly as httpx says.

Either way a caller sees a `Reply` (status, lower-cased headers, raw body chunks) and transport
trouble as `RouterError` (before a reply) or one of `STREAM_ERRORS` (while reading one).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any, cast

import httpcore
import httpx

from skillstudio.evals.routers import RouterError

if TYPE_CHECKING:
    import ssl

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
# raised while a reply's body is read: the connection died mid-stream (retried)
STREAM_ERRORS: tuple[type[Exception], ...] = (httpx.HTTPError, httpcore.TimeoutException, httpcore.NetworkError,
                                              httpcore.ProtocolError)

_CONNECT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError, *STREAM_ERRORS, httpcore.UnsupportedProtocol,
                                                httpcore.ProxyError, httpcore.ConnectionNotAvailable)


def proxied() -> bool:
    return any(os.environ.get(v) for v in PROXY_VARS)


def tls_context(base_url: str) -> ssl.SSLContext:
    """TLS as httpx sets it up (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), except that a plain-http
    server reached without a proxy gets a context with no CA bundle loaded (~30 ms of CPU saved): it
    verifies certificates and host names and trusts none, so TLS could never be used by accident."""
    if base_url.startswith("http://") and not proxied():
        import ssl

        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    return httpx.create_ssl_context(trust_env=True)


class Reply:
    """One reply whose body is still to be read."""

    def __init__(self, status: int, reason: str, headers: dict[str, str], chunks: AsyncIterator[bytes],
                 close: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self._chunks = chunks
        self._close = close

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as sent (gzip/deflate undone; any other coding is refused before a byte is read)."""
        coding = self.headers.get("content-encoding", "identity").strip().lower()
        if coding in ("", "identity"):
            return self._chunks
        if coding not in ("gzip", "deflate", "x-gzip"):
            raise RouterError(f"the server sent a {coding}-encoded stream; it was asked for none", retryable=False)
        return _inflate(self._chunks)

    async def read(self) -> bytes:
        return b"".join([c async for c in self.chunks()])

    async def aclose(self) -> None:
        await self._close()


async def _inflate(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    d = zlib.decompressobj(wbits=47)  # gzip or zlib, detected from the header
    async for c in chunks:
        out = d.decompress(c)
        if out:
            yield out
    tail = d.flush()
    if tail:
        yield tail


class StreamTransport:
    """POSTs with streamed replies over one pool sized to the requests in flight (keep-alive)."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float, connections: int) -> None:
        self.headers = headers
        self.timeout = timeout
        n = max(1, connections)
        self._client: httpx.AsyncClient | None = None
        self._pool: httpcore.AsyncConnectionPool | None = None
        if proxied():
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(timeout), http2=False, trust_env=True, verify=tls_context(base_url),
                limits=httpx.Limits(max_connections=n, max_keepalive_connections=n, keepalive_expiry=30.0),
                headers=headers)
        else:
            self._pool = httpcore.AsyncConnectionPool(
                ssl_context=tls_context(base_url), max_connections=n, max_keepalive_connections=n,
                keepalive_expiry=30.0, http1=True, http2=False)
            self._raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
            self._timeouts = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}

    async def post(self, url: str, content: bytes) -> Reply:
        try:
            if self._pool is None:
                assert self._client is not None
                resp = await self._client.send(self._client.build_request("POST", url, content=content), stream=True)
                return Reply(resp.status_code, resp.reason_phrase, {k.lower(): v for k, v in resp.headers.items()},
                             resp.aiter_raw(), resp.aclose)
            target = httpx.URL(url)
            host = target.netloc  # host[:port] as the Host header wants it
            headers = [(b"Host", host), *self._raw_headers, (b"Content-Length", str(len(content)).encode())]
            core = await self._pool.handle_async_request(httpcore.Request(
                b"POST", url, headers=headers, content=content, extensions={"timeout": self._timeouts}))
        except (httpx.TimeoutException, httpcore.TimeoutException):
            raise RouterError("request timed out", retryable=True) from None
        except _CONNECT_ERRORS as exc:
            raise RouterError(f"connection failed: {exc.__class__.__name__}: {exc}", retryable=True) from None
        stream = cast("AsyncIterable[bytes]", core.stream)  # an async pool's replies stream asynchronously
        reason = core.extensions.get("reason_phrase", b"")
        return Reply(core.status, reason.decode("latin-1", "replace") if isinstance(reason, bytes) else str(reason),
                     {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in core.headers},
                     stream.__aiter__(), core.aclose)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
        if self._pool is not None:
            await self._pool.aclose()
