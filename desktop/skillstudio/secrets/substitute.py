"""The sidecar's decision, as a pure function of one HTTP request: substitute, pass, or refuse.

Called by the egress proxy after it has terminated TLS (see intercept.py). For a host a secret is
bound to, that secret's placeholder becomes the real value where its binding allows (a header, a
query parameter, or anywhere). A request that carries any placeholder, raw value or encoded value
of a secret to a host that secret is NOT bound to raises SecretEgressRefused and is logged as an
event. Excluded hosts (pinned certificates, mTLS) are never intercepted, so never substituted.

Not covered (stated in the README): a value the tool wraps itself in an encoding we do not decode
(e.g. inside a compressed or encrypted payload other than gzip/deflate bodies).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import logging
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, unquote_to_bytes

from skillstudio.errors import CheckFailed
from skillstudio.secrets.encodings import Known, SecretMatcher
from skillstudio.secrets.model import host_matches, normalize_host, validate_domain
from skillstudio.secrets.placeholders import SessionSecret

log = logging.getLogger("skillstudio.secrets.egress")
Headers = list[tuple[bytes, bytes]]


class SecretEgressRefused(CheckFailed):
    """A request would carry a secret (placeholder or value) to a host it is not bound to."""

    def __init__(self, name: str, host: str, where: str = "") -> None:
        self.name = name
        self.host = host
        self.where = where
        detail = f" in {where}" if where else ""
        super().__init__(f"refused: request to {host} carries secret {name}{detail}",
                         f"bind {name} to {host} (`skillstudio secrets bind {name} --domain {host}`) if it belongs there")


@dataclass
class HttpRequest:
    """One HTTP/1.1 request as the proxy saw it (target is origin-form path?query)."""

    method: bytes
    target: bytes
    headers: Headers
    body: bytes = b""
    applied: list[str] = field(default_factory=list)  # secrets substituted (names only)

    def header(self, name: bytes) -> bytes | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def _host_of(authority: bytes) -> str:
    text = authority.decode("latin-1").strip()
    if text.startswith("["):
        return normalize_host(text[: text.find("]") + 1])
    return normalize_host(text.rsplit(":", 1)[0] if text.count(":") == 1 else text)


def _decompress(body: bytes, encoding: bytes) -> bytes | None:
    enc = encoding.strip().lower()
    try:
        if enc in (b"gzip", b"x-gzip"):
            return gzip.decompress(body)
        if enc == b"deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except (OSError, zlib.error, EOFError):
        return None
    return None


def _compress(body: bytes, encoding: bytes) -> bytes:
    return gzip.compress(body, mtime=0) if encoding.strip().lower() in (b"gzip", b"x-gzip") else zlib.compress(body)


_B64_RE = re.compile(rb"^\s*([A-Za-z]+)\s+([A-Za-z0-9+/=_-]+)\s*$")


class Substituter:
    """Holds the secrets of one run and rewrites (or refuses) requests to hosts.

    `on_event` receives dicts without values: {"event": "secret_applied"|"secret_refused",
    "name", "host", "where"}.
    """

    def __init__(self, secrets: Iterable[SessionSecret], exclude: Iterable[str] = (),
                 on_event: Callable[[dict[str, Any]], None] | None = None, intercept_unbound: bool = True) -> None:
        self.secrets = list(secrets)
        self.intercept_unbound = intercept_unbound
        self.exclude = [validate_domain(d) for d in exclude]
        self.on_event = on_event
        known = [Known(s.name, s.value) for s in self.secrets]
        known += [Known(s.name, s.placeholder, fragments=False, transforms=False) for s in self.secrets]
        self._matcher = SecretMatcher(known)

    # ------------------------------------------------------------------ host policy

    def excluded(self, host: str) -> bool:
        return any(host_matches(host, d) for d in self.exclude)

    def should_intercept(self, host: str) -> bool:
        """Whether the proxy must open this host's TLS.

        By default every host while secrets are in play, so a placeholder or value sent to an unbound
        host is seen and refused; with `intercept_unbound=False` only bound hosts are opened (tools
        with their own trust store keep working elsewhere, at the cost of that check).
        """
        if not self.secrets or self.excluded(host):
            return False
        return self.intercept_unbound or bool(self.bound(host))

    def bound(self, host: str) -> list[SessionSecret]:
        return [s for s in self.secrets if s.meta.bound_to(host)]

    # ------------------------------------------------------------------ the rewrite

    def _found(self, data: bytes) -> set[str]:
        return self._matcher.find(data)

    def carried_by(self, data: bytes) -> set[str]:
        """Names of the secrets whose placeholder or value (any recognised form) is in `data`."""
        return self._found(data)

    def _refuse(self, name: str, host: str, where: str) -> SecretEgressRefused:
        event = {"event": "secret_refused", "name": name, "host": host, "where": where}
        log.warning("refused request to %s carrying secret %s in %s", host, name, where)
        if self.on_event:
            self.on_event(event)
        return SecretEgressRefused(name, host, where)

    def _views(self, req: HttpRequest) -> list[tuple[str, bytes]]:
        """Every place a secret could hide, decoded the common ways."""
        views: list[tuple[str, bytes]] = [("the request line", req.method + b" " + req.target),
                                          ("the request line", unquote_to_bytes(req.target))]
        for k, v in req.headers:
            where = f"header {k.decode('latin-1')}"
            views.append((where, k + b": " + v))
            views.append((where, unquote_to_bytes(v)))
            m = _B64_RE.match(v)
            if m:
                try:
                    views.append((where, base64.b64decode(m.group(2) + b"==", altchars=None, validate=False)))
                except (binascii.Error, ValueError):
                    pass
        views.append(("the body", req.body))
        views.append(("the body", unquote_to_bytes(req.body.replace(b"+", b" "))))
        enc = req.header(b"content-encoding")
        if enc and req.body:
            plain = _decompress(req.body, enc)
            if plain is not None:
                views.append(("the body", plain))
        return views

    def rewrite(self, host: str, port: int, req: HttpRequest, *, tls: bool = True) -> HttpRequest:
        """Return the request to forward (placeholders replaced), or raise SecretEgressRefused.

        `tls=False` (a cleartext request): a bound secret is substituted only if its binding
        explicitly allows plain HTTP for this host; otherwise the request is refused, so the value
        never crosses the network in the clear.
        """
        host = normalize_host(host)
        if self.excluded(host) or not self.secrets:
            return req
        # Domain fronting: the Host header (or an absolute-form target) must name the same host.
        hosts = {host}
        h = req.header(b"host")
        if h:
            hosts.add(_host_of(h))
        if req.target[:7].lower() == b"http://" or req.target[:8].lower() == b"https://":
            hosts.add(_host_of(req.target.split(b"/", 3)[2]))
        allowed = {s.name for s in self.secrets if all(s.meta.bound_to(x) for x in hosts)}
        cleartext = set() if tls else {s.name for s in self.secrets
                                       if s.name in allowed and not all(s.meta.plain_http_to(x) for x in hosts)}
        allowed -= cleartext
        shown = host if len(hosts) == 1 else "/".join(sorted(hosts))
        for where, data in self._views(req):
            for name in sorted(self._found(data) - allowed):
                if name in cleartext:
                    where = (f"{where}, over plain HTTP (the binding allows HTTPS only; "
                             f"`skillstudio secrets bind {name} --plain-http {host}` allows cleartext)")
                raise self._refuse(name, shown, where)
        out = HttpRequest(req.method, req.target, list(req.headers), req.body)
        for s in self.secrets:
            if s.name in allowed and s.placeholder.encode("ascii") in self._all_bytes(out, deep=True):
                self._apply(s, out, shown)
        # A bound placeholder left over sits where its binding does not allow it.
        for s in self.secrets:
            if s.name not in allowed:
                continue
            ph = s.placeholder.encode("ascii")
            for where, data in self._views(out):
                if ph in data:
                    raise self._refuse(s.name, shown, f"{where} (bound as {s.apply.describe()})")
        return out

    @staticmethod
    def _all_bytes(req: HttpRequest, deep: bool = False) -> bytes:
        parts = [req.target, *(k + b":" + v for k, v in req.headers), req.body]
        if deep:
            parts.append(unquote_to_bytes(req.target))
            enc = req.header(b"content-encoding")
            if enc and req.body:
                parts.append(_decompress(req.body, enc) or b"")
            for _k, v in req.headers:
                m = _B64_RE.match(v)
                if m:
                    try:
                        parts.append(base64.b64decode(m.group(2) + b"=="))
                    except (binascii.Error, ValueError):
                        pass
        return b"\n".join(parts)

    def _event(self, s: SessionSecret, host: str, where: str, req: HttpRequest) -> None:
        if s.name not in req.applied:
            req.applied.append(s.name)
        log.info("applied secret %s to %s in %s", s.name, host, where)
        if self.on_event:
            self.on_event({"event": "secret_applied", "name": s.name, "host": host, "where": where})

    def _apply(self, s: SessionSecret, req: HttpRequest, host: str) -> None:
        ph = s.placeholder.encode("ascii")
        raw = s.value.encode("utf-8")
        kind, param = s.apply.kind, s.apply.param.encode("latin-1").lower()
        header_names = {b"bearer": [b"authorization"], b"header": [param]}.get(kind.encode())
        for i, (k, v) in enumerate(req.headers):
            if header_names is not None and k.lower() not in header_names:
                continue
            if kind == "query":
                break
            new = self._header_value(v, ph, raw)
            if new != v:
                if any(c in raw for c in (b"\r", b"\n", b"\x00")):
                    raise self._refuse(s.name, host, f"header {k.decode('latin-1')} (value has line breaks)")
                req.headers[i] = (k, new)
                self._event(s, host, f"header {k.decode('latin-1')}", req)
        if kind in ("query", "anywhere"):
            new_target = self._target(req.target, ph, quote(s.value, safe="").encode("ascii"),
                                      param if kind == "query" else None)
            if new_target != req.target:
                req.target = new_target
                self._event(s, host, "the query" if kind == "query" else "the request target", req)
        if kind == "anywhere" and req.body and ph in self._all_bytes(req, deep=True):
            self._body(s, req, host)

    @staticmethod
    def _header_value(v: bytes, ph: bytes, raw: bytes) -> bytes:
        if ph in v:
            return v.replace(ph, raw)
        m = _B64_RE.match(v)
        if m and m.group(1).lower() == b"basic":  # Basic auth: user:PLACEHOLDER inside base64
            try:
                decoded = base64.b64decode(m.group(2), validate=True)
            except (binascii.Error, ValueError):
                return v
            if ph in decoded:
                return m.group(1) + b" " + base64.b64encode(decoded.replace(ph, raw))
        return v

    @staticmethod
    def _target(target: bytes, ph: bytes, quoted: bytes, param: bytes | None) -> bytes:
        if param is None:
            return target.replace(ph, quoted)
        path, sep, query = target.partition(b"?")
        if not sep:
            return target
        pairs = []
        for pair in query.split(b"&"):
            key, eq, val = pair.partition(b"=")
            if eq and unquote_to_bytes(key).lower() == param:
                val = val.replace(ph, quoted)
            pairs.append(key + eq + val)
        return path + sep + b"&".join(pairs)

    def _body(self, s: SessionSecret, req: HttpRequest, host: str) -> None:
        ph = s.placeholder.encode("ascii")
        ctype = (req.header(b"content-type") or b"").lower()
        if b"x-www-form-urlencoded" in ctype:
            rep = quote_plus(s.value, safe="").encode("ascii")
        elif b"json" in ctype:
            rep = json.dumps(s.value)[1:-1].encode("utf-8")
        else:
            rep = s.value.encode("utf-8")
        enc = req.header(b"content-encoding")
        if enc and enc.strip().lower() not in (b"identity", b""):
            plain = _decompress(req.body, enc)
            if plain is None or ph not in plain:
                return
            body = _compress(plain.replace(ph, rep), enc)
        else:
            body = req.body.replace(ph, rep)
        if body != req.body:
            req.body = body
            req.headers = [(k, str(len(body)).encode() if k.lower() == b"content-length" else v)
                           for k, v in req.headers]
            self._event(s, host, "the body", req)
