"""Redaction of raw values and their encodings, whole and in chunks, and in logs."""

from __future__ import annotations

import base64
import io
import logging
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillstudio.secrets.redact import Redactor
from support.leaks import register_test_secret

VALUE = register_test_secret("sk-live/Abc+123=xyz:Q")  # has characters that URL-encoding and base64 variants change
OTHER = "pw_second_secret_987"


def encodings(v: str) -> dict[str, str]:
    raw = v.encode()
    return {
        "raw": v,
        "b64": base64.b64encode(raw).decode(),
        "b64-nopad": base64.b64encode(raw).decode().rstrip("="),
        "b64url": base64.urlsafe_b64encode(raw).decode(),
        "b64url-nopad": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "url": quote(v, safe=""),
        "url-plus": quote_plus(v),
        "url-lower": quote(v, safe="").replace("%2F", "%2f").replace("%2B", "%2b"),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
    }


@pytest.mark.parametrize("form", list(encodings(VALUE)))
def test_every_form_is_redacted(form: str) -> None:
    r = Redactor({"API_KEY": VALUE, "OTHER": OTHER})
    text = f"before {encodings(VALUE)[form]} after"
    out = r.redact(text)
    assert out == "before [secret:API_KEY] after"
    assert r.redact(text.encode()) == b"before [secret:API_KEY] after"
    assert r.find(text) == {"API_KEY"}


def test_base64_inside_longer_base64_is_caught() -> None:
    """Basic auth wraps `user:VALUE`; the value's bytes still show up at one of three alignments."""
    r = Redactor({"API_KEY": VALUE})
    for user in ("u", "us", "usr", "alice"):
        blob = base64.b64encode(f"{user}:{VALUE}".encode()).decode()
        assert r.find(f"Authorization: Basic {blob}") == {"API_KEY"}, user
        assert "[secret:API_KEY]" in r.redact(blob)


def test_many_secrets_and_no_false_positives() -> None:
    values = {f"S{i}": f"value-{i:04d}-{'k' * 10}" for i in range(300)}
    r = Redactor(values)
    text = " | ".join(f"{v}" for v in list(values.values())[::50]) + " plain value-9999 text"
    out = r.redact(text)
    assert out.startswith("[secret:S0] | [secret:S50] | ")
    assert "value-9999" in out
    assert r.redact("nothing secret here") == "nothing secret here"


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 16])
def test_stream_redacts_across_chunk_boundaries(size: int) -> None:
    r = Redactor({"API_KEY": VALUE, "OTHER": OTHER})
    forms = encodings(VALUE)
    text = "start " + " ; ".join(forms.values()) + f" {OTHER}{OTHER} end"
    data = text.encode()
    for as_bytes in (True, False):
        s = r.stream()
        chunks: list[bytes | str] = []
        src: bytes | str = data if as_bytes else text
        for i in range(0, len(src), size):
            chunks.append(s.feed(src[i:i + size]))
        chunks.append(s.flush())
        joined = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        assert joined == r.redact(data), (size, as_bytes)
        assert VALUE.encode() not in joined and OTHER.encode() not in joined
        assert joined.count(b"[secret:API_KEY]") == len(forms)


def test_stream_lag_is_bounded() -> None:
    r = Redactor({"API_KEY": VALUE})
    s = r.stream()
    out = s.feed(b"x" * 1000)
    assert len(out) >= 1000 - r.max_len  # a long chunk is not held back
    assert out + s.flush() == b"x" * 1000


def test_logging_filter_redacts_message_args_and_traceback() -> None:
    r = Redactor({"API_KEY": VALUE})
    logger = logging.getLogger("test.redact")
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.addFilter(r.logging_filter())
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("token is %s and %s", VALUE, base64.b64encode(VALUE.encode()).decode())
        try:
            raise RuntimeError(f"failed with {VALUE}")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    out = buf.getvalue()
    assert VALUE not in out and base64.b64encode(VALUE.encode()).decode() not in out
    assert out.count("[secret:API_KEY]") == 3  # two args + the exception message
    assert "RuntimeError" in out


def test_find_in_files_sweeps_a_tree(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = Redactor({"API_KEY": VALUE, "OTHER": OTHER})
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "clean.txt").write_text("nothing here")
    (tmp_path / "a" / "log.txt").write_text(f"token={quote(VALUE, safe='')}")
    (tmp_path / "b.bin").write_bytes(b"\x00" + OTHER.encode().hex().encode())
    hits = {p.name: names for p, names in r.find_in_files([tmp_path])}
    assert hits == {"log.txt": {"API_KEY"}, "b.bin": {"OTHER"}}


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(st.one_of(st.integers(min_value=0, max_value=19), st.text(max_size=12)), max_size=12),
       cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=10))
def test_stream_equals_whole_for_any_chunking(pieces: list[int | str], cuts: list[int]) -> None:
    values = {"API_KEY": VALUE, "OTHER": OTHER}
    forms = [f for v in values.values() for f in encodings(v).values()]  # 2 x 10 forms
    text = "".join(forms[p] if isinstance(p, int) else p for p in pieces)
    r = Redactor(values)
    s = r.stream()
    bounds = sorted({c % (len(text) + 1) for c in cuts} | {0, len(text)})
    out = "".join(s.feed(text[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)) + str(s.flush() or "")
    assert out == r.redact(text)
    assert VALUE not in out and OTHER not in out


# Every raw value this module uses, for the leak sweep (tests/zz_leak_sweep).
register_test_secret(OTHER)
