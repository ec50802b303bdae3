"""The forms a secret value commonly takes on the wire and in output.

A value can leave as-is, base64'd (std/urlsafe, padded or not, also as part of a longer base64 run
such as `user:value` in Basic auth), URL-encoded, hex or JSON-escaped — and transformed: in any
letter case, reversed, with up to `MAX_SEP` separator characters between its characters
("a b c", "a-b-c", "a.b.c"), or as a slice of at least `FRAGMENT` characters. `SecretMatcher`
compiles all of that into one regex; redaction, the egress check and the sidecar's swap-back use it.

What it cannot see (stated in docs/security-secrets.md): slices shorter than `FRAGMENT` characters,
separators other than those in `SEPARATORS` or longer than `MAX_SEP`, and any encoding not listed
(e.g. base64 of a reversed value, rot13, encryption).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import AnyStr
from urllib.parse import quote, quote_plus

MIN_FORM_LEN = 6  # forms shorter than this would match ordinary text
FRAGMENT = 8  # a slice of a value this long (or longer) is recognised; shorter slices are not
MAX_SEP = 3  # at most this many separator characters between two characters of a value
MAX_TRANSFORMED = 512  # longer values (keys, certificates) are matched in their encoded forms only
SEPARATORS = r"[\s._:;,|/\\+*-]"


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


def _spaced(text: str) -> str:
    """`text` with up to MAX_SEP separators allowed between any two of its characters."""
    gap = f"(?:{SEPARATORS}{{1,{MAX_SEP}}})?"
    return gap.join(re.escape(c) for c in text)


@dataclass(frozen=True)
class Known:
    """One text to look for: `fragments` also finds its slices of FRAGMENT+ characters."""

    name: str
    text: str
    fragments: bool = True
    transforms: bool = True


class SecretMatcher:
    """One compiled regex (bytes and str) for every form of every known text, case-insensitive.

    A match reports the secret's name and whether it was the whole value (any encoding or
    transformation) or only a slice (`fragment`). Whole forms are tried before slices at each
    position, longer before shorter.
    """

    def __init__(self, known: Iterable[Known]) -> None:
        whole: list[tuple[int, str, str]] = []  # (max length, group, pattern)
        parts: list[tuple[int, str, str]] = []
        self._groups: dict[str, tuple[str, bool]] = {}
        self.max_len = 0  # in UTF-8 bytes
        self.max_str_len = 0
        for i, k in enumerate(known):
            fs = sorted({f.decode("utf-8") for f in forms(k.text)}, key=lambda f: (-len(f), f))
            if not fs:
                continue
            pats = [_piece(f) for f in fs]
            longest = max(len(f) for f in fs)
            if k.transforms and len(k.text) <= MAX_TRANSFORMED:
                pats += [_spaced(k.text), _spaced(k.text[::-1])]
                longest = max(longest, len(k.text) + MAX_SEP * (len(k.text) - 1))
            g = f"w{i}"
            self._groups[g] = (k.name, False)
            whole.append((longest, g, "|".join(pats)))
            self.max_str_len = max(self.max_str_len, longest)
            self.max_len = max(self.max_len, longest * 4 if not k.text.isascii() else longest)
            if k.fragments and FRAGMENT < len(k.text) <= MAX_TRANSFORMED * 8:
                slices = {k.text[j:j + FRAGMENT] for j in range(len(k.text) - FRAGMENT + 1)}
                slices |= {t[::-1] for t in slices}
                g = f"f{i}"
                self._groups[g] = (k.name, True)
                parts.append((FRAGMENT, g, "|".join(re.escape(t) for t in sorted(slices))))
        ordered = sorted(whole, key=lambda t: -t[0]) + parts
        self._str_re: re.Pattern[str] | None = None
        self._bytes_re: re.Pattern[bytes] | None = None
        if ordered:
            text = "|".join(f"(?P<{g}>{p})" for _, g, p in ordered)
            self._str_re = re.compile(text, re.IGNORECASE)
            self._bytes_re = re.compile(text.encode("utf-8"), re.IGNORECASE)

    def __bool__(self) -> bool:
        return self._str_re is not None

    def pattern(self, data: AnyStr) -> re.Pattern[AnyStr] | None:
        return self._bytes_re if isinstance(data, bytes) else self._str_re  # type: ignore[return-value]

    def which(self, m: re.Match[AnyStr]) -> tuple[str, bool]:
        """(secret name, is a fragment) of a match of `pattern()`."""
        return self._groups[str(m.lastgroup)]

    def find(self, data: str | bytes) -> set[str]:
        if isinstance(data, bytes):
            pb = self._bytes_re
            return set() if pb is None or not data else {self._groups[str(m.lastgroup)][0] for m in pb.finditer(data)}
        ps = self._str_re
        return set() if ps is None or not data else {self._groups[str(m.lastgroup)][0] for m in ps.finditer(data)}
