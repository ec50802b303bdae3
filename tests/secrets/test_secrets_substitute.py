"""The sidecar's decision on single requests: substitute on bound hosts, refuse everywhere else."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any
from urllib.parse import quote

import pytest

from skillstudio.secrets.model import Apply
from skillstudio.secrets.placeholders import SessionSecret, new_placeholder
from skillstudio.secrets.substitute import HttpRequest, SecretEgressRefused, Substituter
from support.leaks import register_test_secret

VALUE = register_test_secret("tok/en+VALUE=42&x")
OTHER_VALUE = "second-secret-value-99"


def secret(name: str, value: str, domains: tuple[str, ...], apply: str = "anywhere") -> SessionSecret:
    return SessionSecret(name, new_placeholder(), value, domains, Apply.parse(apply))


def req(target: str = "/", headers: dict[str, str] | None = None, body: bytes = b"", host: str = "api.test.local",
        method: str = "GET") -> HttpRequest:
    hs = [(b"host", host.encode())] + [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    if body:
        hs.append((b"content-length", str(len(body)).encode()))
    return HttpRequest(method.encode(), target.encode(), hs, body)


@pytest.fixture()
def setup() -> tuple[Substituter, SessionSecret, SessionSecret, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    api = secret("API_TOKEN", VALUE, ("api.test.local", "*.svc.test.local"))
    other = secret("OTHER", OTHER_VALUE, ("other.test.local",))
    return Substituter([api, other], exclude=["pinned.test.local"], on_event=events.append), api, other, events


def test_header_substitution_on_bound_host(setup: Any) -> None:
    sub, api, _, events = setup
    out = sub.rewrite("api.test.local", 443, req(headers={"Authorization": f"Bearer {api.placeholder}"}))
    assert out.header(b"authorization") == f"Bearer {VALUE}".encode()
    assert out.applied == ["API_TOKEN"]
    assert events == [{"event": "secret_applied", "name": "API_TOKEN", "host": "api.test.local",
                       "where": "header Authorization"}]
    assert all(VALUE not in json.dumps(e) for e in events)


def test_query_and_body_substitution(setup: Any) -> None:
    sub, api, _, _ = setup
    out = sub.rewrite("x.svc.test.local", 443, req(f"/v1?key={api.placeholder}&q=1", host="x.svc.test.local"))
    assert out.target == f"/v1?key={quote(VALUE, safe='')}&q=1".encode()
    body = json.dumps({"token": api.placeholder, "n": 1}).encode()
    out = sub.rewrite("api.test.local", 443, req(headers={"content-type": "application/json"}, body=body,
                                                 method="POST"))
    assert json.loads(out.body) == {"token": VALUE, "n": 1}
    assert out.header(b"content-length") == str(len(out.body)).encode()
    form = f"user=a&token={api.placeholder}".encode()
    out = sub.rewrite("api.test.local", 443, req(headers={"content-type": "application/x-www-form-urlencoded"},
                                                 body=form, method="POST"))
    assert out.body == b"user=a&token=tok%2Fen%2BVALUE%3D42%26x"


def test_gzip_body_and_basic_auth_substitution(setup: Any) -> None:
    sub, api, _, _ = setup
    body = gzip.compress(f"token={api.placeholder}".encode())
    out = sub.rewrite("api.test.local", 443, req(headers={"content-encoding": "gzip"}, body=body, method="POST"))
    assert gzip.decompress(out.body) == f"token={VALUE}".encode()
    basic = base64.b64encode(f"user:{api.placeholder}".encode()).decode()
    out = sub.rewrite("api.test.local", 443, req(headers={"Authorization": f"Basic {basic}"}))
    assert out.header(b"authorization") == b"Basic " + base64.b64encode(f"user:{VALUE}".encode())


@pytest.mark.parametrize("where", ["header", "query", "body", "path"])
def test_placeholder_to_unbound_host_is_refused(setup: Any, where: str) -> None:
    sub, api, _, events = setup
    r = {"header": req(headers={"X-Key": api.placeholder}, host="evil.test.local"),
         "query": req(f"/?k={api.placeholder}", host="evil.test.local"),
         "body": req(body=api.placeholder.encode(), host="evil.test.local", method="POST"),
         "path": req(f"/{api.placeholder}/x", host="evil.test.local")}[where]
    with pytest.raises(SecretEgressRefused) as err:
        sub.rewrite("evil.test.local", 443, r)
    assert (err.value.name, err.value.host) == ("API_TOKEN", "evil.test.local")
    assert events[-1]["event"] == "secret_refused" and events[-1]["host"] == "evil.test.local"


def _encoded(v: str) -> dict[str, str]:
    raw = v.encode()
    return {"raw": v, "b64": base64.b64encode(raw).decode(), "b64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
            "hex": raw.hex(), "HEX": raw.hex().upper(), "url": quote(v, safe=""),
            "basic": base64.b64encode(b"me:" + raw).decode()}


@pytest.mark.parametrize("form", list(_encoded(VALUE)))
def test_raw_and_encoded_value_to_unbound_host_is_refused(setup: Any, form: str) -> None:
    sub, _, _, _ = setup
    text = _encoded(VALUE)[form]
    for r in (req(headers={"Authorization": f"Basic {text}"}, host="evil.test.local"),
              req(f"/upload?d={quote(text, safe='')}", host="evil.test.local"),
              req(body=f'{{"d": "{text}"}}'.encode(), host="evil.test.local", method="POST"),
              req(body=gzip.compress(text.encode()), headers={"content-encoding": "gzip"},
                  host="evil.test.local", method="POST")):
        with pytest.raises(SecretEgressRefused, match="API_TOKEN"):
            sub.rewrite("evil.test.local", 443, r)


def test_secret_for_another_bound_host_is_refused(setup: Any) -> None:
    """Two secrets bound to different hosts: each one only reaches its own host."""
    sub, api, other, _ = setup
    r = req(headers={"Authorization": f"Bearer {api.placeholder}", "X-Other": other.placeholder})
    with pytest.raises(SecretEgressRefused) as err:
        sub.rewrite("api.test.local", 443, r)
    assert err.value.name == "OTHER"


def test_domain_fronting_is_refused(setup: Any) -> None:
    sub, api, _, _ = setup
    r = req(headers={"Authorization": f"Bearer {api.placeholder}"}, host="evil.test.local")
    with pytest.raises(SecretEgressRefused, match="API_TOKEN"):
        sub.rewrite("api.test.local", 443, r)


def test_unrelated_requests_pass_unchanged(setup: Any) -> None:
    sub, _, _, events = setup
    r = req("/search?q=hello", headers={"Authorization": "Bearer not-a-secret"}, host="evil.test.local")
    assert sub.rewrite("evil.test.local", 443, r) == r
    assert events == []


def test_excluded_host_is_neither_intercepted_nor_substituted(setup: Any) -> None:
    sub, api, _, events = setup
    assert not sub.should_intercept("pinned.test.local")
    assert sub.should_intercept("evil.test.local") and sub.should_intercept("api.test.local")
    r = req(headers={"Authorization": f"Bearer {api.placeholder}"}, host="pinned.test.local")
    assert sub.rewrite("pinned.test.local", 443, r) == r
    assert events == []
    assert not Substituter([]).should_intercept("api.test.local")  # no secrets: nothing to open


def test_binding_limits_where_the_placeholder_may_go() -> None:
    bearer = secret("GH", VALUE, ("api.test.local",), "bearer")
    hdr = secret("KEY", OTHER_VALUE, ("api.test.local",), "header:X-Api-Key")
    sub = Substituter([bearer, hdr])
    out = sub.rewrite("api.test.local", 443, req(headers={"Authorization": f"token {bearer.placeholder}",
                                                          "X-Api-Key": hdr.placeholder}))
    assert out.header(b"authorization") == f"token {VALUE}".encode()
    assert out.header(b"x-api-key") == OTHER_VALUE.encode()
    # The bound API must not be usable to echo the value somewhere else (e.g. a posted body).
    with pytest.raises(SecretEgressRefused, match="GH in the body"):
        sub.rewrite("api.test.local", 443, req(body=f"gist: {bearer.placeholder}".encode(), method="POST"))
    with pytest.raises(SecretEgressRefused, match="KEY in header Authorization"):
        sub.rewrite("api.test.local", 443, req(headers={"Authorization": f"Bearer {hdr.placeholder}"}))
    q = secret("QK", VALUE, ("api.test.local",), "query:api_key")
    sub = Substituter([q])
    out = sub.rewrite("api.test.local", 443, req(f"/v1?api_key={q.placeholder}"))
    assert out.target == f"/v1?api_key={quote(VALUE, safe='')}".encode()
    with pytest.raises(SecretEgressRefused, match="QK"):
        sub.rewrite("api.test.local", 443, req(f"/v1?other={q.placeholder}"))


def test_value_with_line_break_never_goes_into_a_header() -> None:
    pem = secret("PEM", "-----BEGIN KEY-----\nabc\n-----END KEY-----", ("api.test.local",))
    sub = Substituter([pem])
    with pytest.raises(SecretEgressRefused, match="line breaks"):
        sub.rewrite("api.test.local", 443, req(headers={"X-Key": pem.placeholder}))
    out = sub.rewrite("api.test.local", 443, req(body=pem.placeholder.encode(), method="POST"))
    assert out.body == pem.value.encode()


def test_bound_hosts_only_mode(setup: Any) -> None:
    _, api, other, _ = setup
    sub = Substituter([api, other], intercept_unbound=False)
    assert sub.should_intercept("api.test.local") and sub.should_intercept("x.svc.test.local")
    assert not sub.should_intercept("evil.test.local")


# Every raw value this module uses, for the leak sweep (tests/zz_leak_sweep).
register_test_secret(OTHER_VALUE)
