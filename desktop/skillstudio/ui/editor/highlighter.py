"""Syntax colours for SKILL.md: YAML front matter between '---' lines, Markdown after it.

Block states carry where a line is (before/inside front matter, body, fenced code), so highlighting a
line never needs to look at the whole document.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

START, FRONT, BODY, FENCE, YAML_ONLY = 0, 1, 2, 3, 4

_YAML_KEY = re.compile(r"^(\s*-?\s*)([A-Za-z0-9_][\w.\-]*)(\s*:)(?=\s|$)")
_YAML_STR = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'")
_YAML_COMMENT = re.compile(r"(^|\s)#.*$")
_MD_HEADING = re.compile(r"^#{1,6}\s.*$")
_MD_BOLD = re.compile(r"\*\*[^*]+\*\*|__[^_]+__")
_MD_ITALIC = re.compile(r"(?<![*\w])\*[^*\s][^*]*\*(?!\*)|(?<![_\w])_[^_\s][^_]*_(?![_\w])")
_MD_CODE = re.compile(r"`[^`]+`")
_MD_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)")
_MD_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_FENCE = re.compile(r"^\s*(```|~~~)")

PALETTES = {
    "light": {"key": "#1f5fbf", "string": "#2f7d32", "comment": "#8a8f98", "delim": "#b05fc4",
              "heading": "#9c3d0b", "code": "#6a3fb5", "link": "#1a73c9", "bullet": "#b05fc4"},
    "dark": {"key": "#7ab3ff", "string": "#9ccc65", "comment": "#7c828c", "delim": "#d291e4",
             "heading": "#ffb36b", "code": "#c3a6ff", "link": "#6fb6ff", "bullet": "#d291e4"},
}


def _fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    f = QTextCharFormat()
    f.setForeground(QColor(color))
    if bold:
        f.setFontWeight(QFont.Weight.Bold)
    if italic:
        f.setFontItalic(True)
    return f


class SkillHighlighter(QSyntaxHighlighter):
    """mode "skill" (front matter + Markdown), "markdown" or "yaml" (e.g. evals/triggers.yaml)."""

    def __init__(self, document: QTextDocument, mode: str = "skill", theme: str = "light") -> None:
        super().__init__(document)
        self.mode = mode
        self.set_theme(theme, rehighlight=False)

    def set_theme(self, theme: str, rehighlight: bool = True) -> None:
        c = PALETTES.get(theme, PALETTES["light"])
        self.f = {
            "key": _fmt(c["key"], bold=True), "string": _fmt(c["string"]), "comment": _fmt(c["comment"], italic=True),
            "delim": _fmt(c["delim"], bold=True), "heading": _fmt(c["heading"], bold=True),
            "bold": _fmt(c["heading"], bold=True), "italic": _fmt(c["comment"], italic=True),
            "code": _fmt(c["code"]), "link": _fmt(c["link"]), "bullet": _fmt(c["bullet"], bold=True),
        }
        if rehighlight:
            self.rehighlight()

    def _set(self, start: int, length: int, fmt: QTextCharFormat) -> None:
        """setFormat in Qt's UTF-16 positions (Python's indices count code points; emoji take two)."""
        if self._wide is None:
            self.setFormat(start, length, fmt)
        else:
            self.setFormat(self._wide[start], self._wide[start + length] - self._wide[start], fmt)

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        self._wide: list[int] | None = None
        if any(ord(c) > 0xFFFF for c in text):
            pos = [0]
            for c in text:
                pos.append(pos[-1] + (2 if ord(c) > 0xFFFF else 1))
            self._wide = pos
        prev = self.previousBlockState()
        if self.mode == "yaml":
            self.setCurrentBlockState(YAML_ONLY)
            self._yaml(text)
            return
        if self.mode == "markdown" and prev in (-1, START):
            prev = BODY
        if prev in (-1, START):
            if text.rstrip() == "---":
                self._set(0, len(text), self.f["delim"])
                self.setCurrentBlockState(FRONT)
            elif not text.strip():
                self.setCurrentBlockState(START)
            else:
                self.setCurrentBlockState(BODY)
                self._markdown(text)
            return
        if prev == FRONT:
            if text.rstrip() == "---":
                self._set(0, len(text), self.f["delim"])
                self.setCurrentBlockState(BODY)
            else:
                self.setCurrentBlockState(FRONT)
                self._yaml(text)
            return
        if prev == FENCE:
            self._set(0, len(text), self.f["code"])
            self.setCurrentBlockState(BODY if _FENCE.match(text) else FENCE)
            return
        if _FENCE.match(text):
            self._set(0, len(text), self.f["code"])
            self.setCurrentBlockState(FENCE)
            return
        self.setCurrentBlockState(BODY)
        self._markdown(text)

    def _yaml(self, text: str) -> None:
        m = _YAML_KEY.match(text)
        if m:
            self._set(m.start(2), len(m.group(2)), self.f["key"])
        for s in _YAML_STR.finditer(text):
            self._set(s.start(), s.end() - s.start(), self.f["string"])
        c = _YAML_COMMENT.search(text)
        if c and not any(s.start() < c.start() < s.end() for s in _YAML_STR.finditer(text)):
            self._set(c.start(), len(text) - c.start(), self.f["comment"])

    def _markdown(self, text: str) -> None:
        if _MD_HEADING.match(text):
            self._set(0, len(text), self.f["heading"])
            return
        b = _MD_BULLET.match(text)
        if b:
            self._set(0, b.end(), self.f["bullet"])
        for rx, key in ((_MD_BOLD, "bold"), (_MD_ITALIC, "italic"), (_MD_LINK, "link"), (_MD_CODE, "code")):
            for m in rx.finditer(text):
                self._set(m.start(), m.end() - m.start(), self.f[key])
