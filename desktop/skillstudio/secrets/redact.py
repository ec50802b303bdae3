"""Redaction of secret values (and their common encodings) to `[secret:NAME]`.

Defence in depth: every path out of a run (tool output back to the model, transcripts, history, logs,
reports) goes through a Redactor. All forms of all secrets (encodings, case, reversal, separators;
slices of 8+ characters on request: see encodings.py) are matched in one pass. `StreamRedactor` holds
back just enough of a chunked stream that a value split across chunks is still caught.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import AnyStr

from skillstudio.secrets.encodings import Known, SecretMatcher


class Redactor:
    """Replaces every known form of every value; `replacement(name)` defaults to `[secret:NAME]`.

    Whole values (any encoding in `encodings.forms`, any letter case, reversed, with separators
    between characters) become `replacements[name]` (default: the template). With `fragments=True`
    (the sidecar's swap-back) a slice of FRAGMENT+ characters becomes the template too, since a
    placeholder cannot stand for part of a value; it is off for output and file sweeps, where
    ordinary words shared with a weak value ("-secret-") would be redacted or flagged.
    """

    def __init__(self, values: Mapping[str, str], template: str = "[secret:{name}]",
                 replacements: Mapping[str, str] | None = None, *, fragments: bool = False) -> None:
        self._matcher = SecretMatcher(Known(name, value, fragments=fragments) for name, value in values.items())
        self._mark = {name: template.format(name=name) for name in values}
        self._repl = {name: (replacements or {}).get(name, self._mark[name]) for name in values}
        self.max_len = self._matcher.max_len
        self.max_str_len = self._matcher.max_str_len

    def __bool__(self) -> bool:
        return bool(self._matcher)

    def _replacement(self, name: str, fragment: bool, like: AnyStr) -> AnyStr:
        out = self._mark[name] if fragment else self._repl[name]
        return out.encode("utf-8") if isinstance(like, bytes) else out  # type: ignore[return-value]

    def _splice(self, data: AnyStr, end: int | None = None) -> tuple[list[AnyStr], int]:
        """Redacted pieces of `data` for matches starting before `end`, and where the last one ended."""
        out: list[AnyStr] = []
        pos = 0
        for a, b, name, fragment in self._matcher.spans(data):
            if end is not None and a >= end:
                break
            out.append(data[pos:a])
            out.append(self._replacement(name, fragment, data))
            pos = b
        return out, pos

    def redact(self, data: AnyStr) -> AnyStr:
        if not self._matcher or not data:
            return data
        out, pos = self._splice(data)
        out.append(data[pos:])
        return data[:0].join(out)

    def find(self, data: str | bytes) -> set[str]:
        """Names of the secrets whose value (in any form, or a long enough slice) occurs in `data`."""
        return self._matcher.find(data)

    def find_in_files(self, roots: Iterable[Path], limit: int = 64 * 1024 * 1024) -> list[tuple[Path, set[str]]]:
        """Files under `roots` that hold a value (any form): the leak sweep and the export check."""
        hits = []
        for root in roots:
            paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
            for p in paths:
                try:
                    if p.stat().st_size > limit:
                        continue
                    names = self.find(p.read_bytes())
                except OSError:
                    continue
                if names:
                    hits.append((p, names))
        return hits

    def stream(self) -> StreamRedactor:
        return StreamRedactor(self)

    def logging_filter(self) -> RedactingFilter:
        return RedactingFilter(self)


class StreamRedactor:
    """Redacts a stream fed in chunks (bytes or str, not mixed). Call `flush()` at the end.

    Output lags input by at most `max_len - 1` characters: a match starting in the emitted part is
    always complete, since everything that could follow it is already in the buffer.
    """

    def __init__(self, redactor: Redactor) -> None:
        self._r = redactor
        self._buf: str | bytes | None = None

    def feed(self, chunk: AnyStr) -> AnyStr:
        buf: AnyStr = (self._buf + chunk) if self._buf is not None else chunk  # type: ignore[operator,assignment]
        if not self._r:
            self._buf = buf[:0]
            return buf
        keep = (self._r.max_len if isinstance(buf, bytes) else self._r.max_str_len) - 1
        cut = len(buf) - keep
        out, pos = self._r._splice(buf, cut)
        if pos < cut:
            out.append(buf[pos:cut])
            pos = cut
        self._buf = buf[pos:]
        return buf[:0].join(out)

    def flush(self) -> str | bytes:
        buf = self._buf
        self._buf = None
        if buf is None:
            return b""
        return self._r.redact(buf) if isinstance(buf, bytes) else self._r.redact(buf)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message, exception text and stack of each record."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._r = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not drop the record
            message = str(record.msg)
        record.msg = self._r.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._r.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._r.redact(record.stack_info)
        return True
