"""Syntax colours for the other files a skill carries: Python and shell scripts, JSON data.

Small, line-at-a-time rules (keywords, strings, comments, numbers) in the same palette as SKILL.md,
so a skill's `scripts/` look like code rather than plain text. Python's triple-quoted strings span
lines through the block state; everything else is decided within the line.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from PySide6.QtGui import QTextDocument

from skillstudio.ui.editor.highlighter import SkillHighlighter

CODE_MODES = ("python", "json", "shell")
_SUFFIX = {".py": "python", ".pyw": "python", ".json": "json", ".jsonl": "json", ".ipynb": "json",
           ".sh": "shell", ".bash": "shell", ".zsh": "shell", ".ksh": "shell"}

_PY_KEYWORDS = re.compile(r"\b(?:" + "|".join([*keyword.kwlist, "self", "cls"]) + r")\b")
_PY_DEF = re.compile(r"\b(?:def|class)\s+([A-Za-z_]\w*)")
_PY_STR = re.compile(r"[rbuRBUfF]{0,2}(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')")
_PY_DECORATOR = re.compile(r"^\s*@[\w.]+")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b")
_HASH_COMMENT = re.compile(r"(?:^|(?<=\s))#.*$")
_JSON_KEY = re.compile(r"(\"(?:[^\"\\]|\\.)*\")\s*:")
_JSON_STR = re.compile(r"\"(?:[^\"\\]|\\.)*\"")
_JSON_LITERAL = re.compile(r"\b(?:true|false|null)\b")
_SH_KEYWORDS = re.compile(r"\b(?:if|then|else|elif|fi|for|while|until|do|done|case|esac|in|function|return|"
                          r"local|export|readonly|set|unset|shift|exit|source)\b")
_SH_VAR = re.compile(r"\$(?:\{[^}]*\}|[A-Za-z_]\w*|[0-9@#?$!*-])")
_SH_STR = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")
_TRIPLE = re.compile(r"\"\"\"|'''")
IN_TRIPLE_DQ, IN_TRIPLE_SQ = 10, 11


def code_mode(path: Path) -> str | None:
    """python/json/shell by suffix, or by the `#!` line of an extension-less script."""
    mode = _SUFFIX.get(path.suffix.lower())
    if mode is not None or path.suffix:
        return mode
    try:
        with path.open("rb") as fh:
            first = fh.readline(200)
    except OSError:
        return None
    if first.startswith(b"#!"):
        if b"python" in first:
            return "python"
        if any(s in first for s in (b"sh", b"bash", b"zsh")):
            return "shell"
    return None


class CodeHighlighter(SkillHighlighter):
    def __init__(self, document: QTextDocument, mode: str, theme: str = "light") -> None:
        super().__init__(document, mode, theme)

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        if self.mode not in CODE_MODES:
            super().highlightBlock(text)
            return
        self._wide = None
        if any(ord(c) > 0xFFFF for c in text):
            pos = [0]
            for c in text:
                pos.append(pos[-1] + (2 if ord(c) > 0xFFFF else 1))
            self._wide = pos
        self.setCurrentBlockState(-1)
        if self.mode == "python":
            self._python(text)
        elif self.mode == "json":
            self._json(text)
        else:
            self._shell(text)

    def _strings_then_comment(self, text: str, strings: re.Pattern[str]) -> list[tuple[int, int]]:
        spans = [(m.start(), m.end()) for m in strings.finditer(text)]
        for s, e in spans:
            self._set(s, e - s, self.f["string"])
        for c in _HASH_COMMENT.finditer(text):
            if not any(s <= c.start() < e for s, e in spans):
                self._set(c.start(), len(text) - c.start(), self.f["comment"])
                break
        return spans

    def _python(self, text: str) -> None:
        start = 0
        prev = self.previousBlockState()
        if prev in (IN_TRIPLE_DQ, IN_TRIPLE_SQ):
            quote = '"""' if prev == IN_TRIPLE_DQ else "'''"
            end = text.find(quote)
            if end < 0:
                self._set(0, len(text), self.f["string"])
                self.setCurrentBlockState(prev)
                return
            self._set(0, end + 3, self.f["string"])
            start = end + 3
        rest = text[start:]
        for rx, key in ((_PY_KEYWORDS, "key"), (_NUMBER, "code")):
            for m in rx.finditer(rest):
                self._set(start + m.start(), m.end() - m.start(), self.f[key])
        for m in _PY_DEF.finditer(rest):
            self._set(start + m.start(1), len(m.group(1)), self.f["heading"])
        d = _PY_DECORATOR.match(rest)
        if d:
            self._set(start + d.start(), d.end() - d.start(), self.f["delim"])
        spans = [(start + s, start + e) for s, e in self._strings_then_comment_at(rest, start)]
        t = _TRIPLE.search(text, start)
        if t is not None and not any(s < t.start() < e for s, e in spans if e - s < 6):
            quote = t.group()
            close = text.find(quote, t.end())
            if close < 0:
                self._set(t.start(), len(text) - t.start(), self.f["string"])
                self.setCurrentBlockState(IN_TRIPLE_DQ if quote == '"""' else IN_TRIPLE_SQ)
            else:
                self._set(t.start(), close + 3 - t.start(), self.f["string"])

    def _strings_then_comment_at(self, rest: str, offset: int) -> list[tuple[int, int]]:
        spans = [(m.start(), m.end()) for m in _PY_STR.finditer(rest)]
        for s, e in spans:
            self._set(offset + s, e - s, self.f["string"])
        for c in _HASH_COMMENT.finditer(rest):
            if not any(s <= c.start() < e for s, e in spans):
                self._set(offset + c.start(), len(rest) - c.start(), self.f["comment"])
                break
        return spans

    def _json(self, text: str) -> None:
        for m in _NUMBER.finditer(text):
            self._set(m.start(), m.end() - m.start(), self.f["code"])
        for m in _JSON_LITERAL.finditer(text):
            self._set(m.start(), m.end() - m.start(), self.f["delim"])
        for m in _JSON_STR.finditer(text):
            self._set(m.start(), m.end() - m.start(), self.f["string"])
        for m in _JSON_KEY.finditer(text):
            self._set(m.start(1), len(m.group(1)), self.f["key"])

    def _shell(self, text: str) -> None:
        for m in _SH_KEYWORDS.finditer(text):
            self._set(m.start(), m.end() - m.start(), self.f["key"])
        for m in _SH_VAR.finditer(text):
            self._set(m.start(), m.end() - m.start(), self.f["code"])
        self._strings_then_comment(text, _SH_STR)
        if text.startswith("#!"):
            self._set(0, len(text), self.f["delim"])
