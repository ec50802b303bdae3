"""The forms a secret value commonly takes on the wire and in output.

A value can leave as-is, base64'd (std/urlsafe, padded or not, also as part of a longer base64 run
such as `user:value` in Basic auth), URL-encoded, hex or JSON-escaped. Redaction and the egress
check both search for every form listed here.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from typing import AnyStr
from urllib.parse import quote, quote_plus

MIN_FORM_LEN = 6  # forms shorter than this would match ordinary text


def _b64_forms(raw: bytes) -> set[bytes]:
    out: set[bytes] = set()
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        full = enc(raw)
        out.add(full)
        out.add(full.rstrip(b"="))
        # The same bytes inside a longer base64 string, at each of the 3 alignments: keep the
        # characters that depend only on the value (drop the edges shared with its neighbours).
        for shift in (1, 2):
            coded = enc(b"\x00" * shift + raw)
            start = (shift * 8 + 5) // 6  # first char whose 6 bits come only from the value
            total_bits = (shift + len(raw)) * 8
            end = total_bits // 6  # last char fully inside the value
            core = coded[start:end]
            if len(core) >= 8:
                out.add(core)
        core0 = full[: (len(raw) * 8) // 6]
        if len(core0) >= 8:
            out.add(core0)
    return out


def forms(value: str) -> set[bytes]:
    """Every searchable byte form of `value` (including the raw UTF-8)."""
    raw = value.encode("utf-8")
    out = {raw}
    out |= _b64_forms(raw)
    for q in (quote(value, safe=""), quote_plus(value, safe=""), quote(value, safe="/")):
        out.add(q.encode("ascii"))
        out.add(_lower_percent(q).encode("ascii"))
    out.add(raw.hex().encode("ascii"))
    out.add(raw.hex().upper().encode("ascii"))
    out.add(json.dumps(value)[1:-1].encode("ascii"))
    out.add(json.dumps(value, ensure_ascii=False)[1:-1].encode("utf-8"))
    return {f for f in out if len(f) >= MIN_FORM_LEN}


def _lower_percent(text: str) -> str:
    parts = text.split("%")
    return parts[0] + "".join("%" + p[:2].lower() + p[2:] for p in parts[1:])


_PCT_B = re.compile(rb"%([0-9A-Fa-f]{2})")
_PCT_S = re.compile(r"%([0-9A-Fa-f]{2})")


def normalize(form: AnyStr) -> AnyStr:
    """The lookup key of a matched form: percent escapes lower-cased (`%2F` and `%2f` are one form)."""
    if isinstance(form, bytes):
        return _PCT_B.sub(lambda m: b"%" + m.group(1).lower(), form)
    return _PCT_S.sub(lambda m: "%" + m.group(1).lower(), form)


def _piece(form: AnyStr) -> AnyStr:
    escaped = re.escape(form)
    if isinstance(escaped, bytes):
        return _PCT_B.sub(lambda m: b"%" + b"".join(b"[" + bytes([c]).lower() + bytes([c]).upper() + b"]"
                                                     for c in m.group(1)), escaped)
    return _PCT_S.sub(lambda m: "%" + "".join(f"[{c.lower()}{c.upper()}]" for c in m.group(1)), escaped)


def alternation(forms: Iterable[AnyStr]) -> re.Pattern[AnyStr] | None:
    """One compiled regex matching any of `forms`, longest first, percent escapes in any case."""
    ordered = sorted(set(forms), key=lambda f: (-len(f), f))
    if not ordered:
        return None
    sep = b"|" if isinstance(ordered[0], bytes) else "|"
    return re.compile(sep.join(_piece(f) for f in ordered))  # type: ignore[arg-type]
