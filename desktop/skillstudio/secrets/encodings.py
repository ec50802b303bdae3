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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
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


def _spaced(text: str) -> str:
    """`text` with up to MAX_SEP separators allowed between any two of its characters."""
    gap = f"(?:{SEPARATORS}{{1,{MAX_SEP}}})?"
    return gap.join(re.escape(c) for c in text)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only: the same length as `text`, so match positions carry over."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


def _trie(strings: Iterable[str], top: bool = False) -> Any:
    """One regex matching any of `strings`, sharing prefixes, preferring the longest at a position.

    The regex engine then checks one branch per character instead of every string in turn, which
    is what keeps hundreds of slices per secret cheap. Runs of single-child nodes are emitted as one
    literal, so recursion depth is the number of branch points, not the string length.
    """
    root: dict[str, Any] = {}
    for s in strings:
        node = root
        for ch in s:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        end = "" in node
        branches = []
        for ch in sorted(k for k in node if k):
            run, child = ch, node[ch]
            while len(child) == 1 and "" not in child:
                (nxt, child), = child.items()
                run += nxt
            branches.append(re.escape(run) + emit(child))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if end else body

    if top:
        out = []
        for ch in sorted(k for k in root if k):
            out.append(emit({ch: root[ch]}))
        return out
    return emit(root)


@dataclass(frozen=True)
class Known:
    """One text to look for: `fragments` also finds its slices of FRAGMENT+ characters."""

    name: str
    text: str
    fragments: bool = True
    transforms: bool = True


ANCHOR = 4  # slices are found through the value's 4-grams at offsets 0, 4, 8, ...: every 8-char slice holds one


class SecretMatcher:
    """Finds every form of every known text, ASCII-case-insensitively, fast.

    Whole forms (encodings, and the separator-tolerant value forwards and reversed) are one regex
    whose top-level alternatives all start with a literal, so Python's engine skips most positions
    by their first character. Slices are found without a regex: every slice of FRAGMENT (8) or more
    characters contains one of the value's 4-grams at an offset divisible by 4 (or the same of the
    reversed value), so those few 4-grams are located with `find` and each hit is extended both ways
    as far as the text follows the value. Matching runs on an ASCII-lower-cased copy (same length).
    """

    def __init__(self, known: Iterable[Known]) -> None:
        self._lit: dict[str, str] = {}  # lower-cased whole form -> name
        self._spaced: list[tuple[str, re.Pattern[str]]] = []
        self._anchors: list[tuple[str, str, str, int]] = []  # (4-gram, name, source text, offset in it)
        spaced: list[tuple[int, str]] = []
        self.max_len = 0  # in UTF-8 bytes
        self.max_str_len = 0
        for k in known:
            fs = {ascii_lower(f.decode("utf-8")) for f in forms(k.text)}
            if not fs:
                continue
            low = ascii_lower(k.text)
            for f in fs:
                self._lit.setdefault(f, k.name)
            longest = max(len(f) for f in fs)
            if k.transforms and len(k.text) <= MAX_TRANSFORMED:
                for text in (low, low[::-1]):
                    pat = _spaced(text)
                    spaced.append((len(text), pat))
                    self._spaced.append((k.name, re.compile(pat)))
                longest = max(longest, len(k.text) + MAX_SEP * (len(k.text) - 1))
            self.max_str_len = max(self.max_str_len, longest)
            self.max_len = max(self.max_len, longest * 4 if not k.text.isascii() else longest)
            if k.fragments and FRAGMENT < len(k.text) <= MAX_TRANSFORMED * 8:
                for text in (low, low[::-1]):
                    self._anchors += [(text[j:j + ANCHOR], k.name, text, j)
                                      for j in range(0, len(text) - ANCHOR + 1, ANCHOR)]
        parts = [p for _, p in sorted(spaced, key=lambda x: -x[0])]
        if self._lit:
            parts += _trie(self._lit, top=True)  # every top-level alternative starts with a literal
        self._str_re: re.Pattern[str] | None = re.compile("|".join(parts)) if parts else None
        self._bytes_re: re.Pattern[bytes] | None = (re.compile("|".join(parts).encode("utf-8")) if parts else None)
        self._bytes_anchors = [(a.encode("utf-8"), n, t.encode("utf-8"), len(t[:j].encode("utf-8")))
                               for a, n, t, j in self._anchors]

    def __bool__(self) -> bool:
        return self._str_re is not None

    def _which(self, text: str) -> str:
        hit = self._lit.get(text)
        if hit is not None:
            return hit
        for name, pat in self._spaced:
            if pat.fullmatch(text):
                return name
        raise AssertionError("a match of the combined pattern belongs to no secret")

    def _slices(self, low: str | bytes, start: int) -> list[tuple[int, int, str]]:
        anchors: list[Any] = self._bytes_anchors if isinstance(low, bytes) else self._anchors
        found: set[tuple[int, int, str]] = set()
        n = len(low)
        for gram, name, src, off in anchors:
            p = low.find(gram, start)
            while p >= 0:
                s, t = p, off
                while s > start and t > 0 and low[s - 1] == src[t - 1]:
                    s, t = s - 1, t - 1
                e, u = p + len(gram), off + len(gram)
                while e < n and u < len(src) and low[e] == src[u]:
                    e, u = e + 1, u + 1
                if e - s >= FRAGMENT:
                    found.add((s, e, name))
                p = low.find(gram, p + 1)
        return sorted(found, key=lambda x: (x[0], -x[1]))

    def spans(self, data: str | bytes, start: int = 0) -> Iterator[tuple[int, int, str, bool]]:
        """(start, end, secret name, is a slice) of every match in `data`, left to right, not overlapping."""
        if not data or self._str_re is None or self._bytes_re is None:
            return
        low: str | bytes
        if isinstance(data, bytes):
            low = data.lower()
            finditer: Any = self._bytes_re.finditer
        else:
            low = ascii_lower(data)
            finditer = self._str_re.finditer
        whole = []
        for m in finditer(low, start):
            text = m.group(0)
            whole.append((m.start(), m.end(), self._which(text.decode("utf-8", "replace")
                                                          if isinstance(text, bytes) else text), False))
        slices = [(a, b, name, True) for a, b, name in self._slices(low, start)] if self._anchors else []
        # Left to right; whole forms win over slices at the same start; a slice that runs past an
        # earlier match keeps its tail when that tail is itself long enough to be recognised.
        last = start
        for a, b, name, fragment in sorted(whole + slices, key=lambda x: (x[0], x[3], -x[1])):
            if a < last:
                if not fragment or b - last < FRAGMENT:
                    continue
                a = last
            yield a, b, name, fragment
            last = b

    def find(self, data: str | bytes) -> set[str]:
        return {name for _, _, name, _ in self.spans(data)}
