"""Read SKILL.md front matter exactly as the reference validator `skills-ref` reads it.

skills-ref decides validity from: the file read with universal newlines (a BOM is kept, so it
fails), `text.startswith("---")`, `text.split("---", 2)`, and strictyaml (every scalar is a string;
flow collections, anchors, tags and duplicate keys are refused). strictyaml costs ~1.7 ms per file,
too slow for a 1,000-skill workspace, so ordinary front matter takes a fast path: libyaml's event
stream, from which we build the same all-strings mapping ourselves (~20 µs). Anything unusual — a
tab or control character, a flow collection, an anchor/alias/tag, a directive or document marker,
a complex or duplicate key, any YAML error — is handed to skills-ref's own parser, so the
reference decides every odd case. The conformance tests hold the two paths to the same verdicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from skillstudio.bundle import safeyaml, skillmd

# characters on which libyaml and strictyaml (ruamel) may disagree: tabs, other controls, YAML 1.1
# line breaks that Python's universal newlines keep, BOM/non-characters, surrogates
_ODD_CHARS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


class _Odd(Exception):
    """The fast path declines; skills-ref's parser decides."""


@dataclass
class FrontMatterRead:
    """The outcome of reading the front matter the way skills-ref does."""

    data: dict[str, Any] | None = None  # all scalars are strings, as strictyaml gives them
    error: str | None = None  # one line, ours; None when the front matter is a mapping
    error_code: str | None = None
    error_line: int | None = None  # 1-based line in SKILL.md
    fix: str | None = None
    key_lines: dict[str, int] = field(default_factory=dict)  # top-level key -> 1-based line
    delegated: bool = False  # True when skills-ref's parser made the call
    empty: bool = False  # the front matter holds nothing but blank lines and comments
    cut_line: int | None = None  # a '---' inside this line (not a delimiter line) ends the front matter early


def normalise_newlines(text: str) -> str:
    """What Python's `read_text()` (universal newlines) gives skills-ref."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _build(events: list[yaml.Event]) -> tuple[dict[str, Any], dict[str, int]]:
    """Turn libyaml events into strictyaml's all-strings data, refusing anything odd."""
    pos = 0

    def take() -> yaml.Event:
        nonlocal pos
        ev = events[pos]
        pos += 1
        return ev

    def node() -> Any:
        ev = take()
        if getattr(ev, "anchor", None) is not None or getattr(ev, "tag", None) is not None:
            raise _Odd
        if isinstance(ev, yaml.ScalarEvent):
            return ev.value
        if isinstance(ev, yaml.MappingStartEvent):
            if ev.flow_style:
                raise _Odd
            out: dict[str, Any] = {}
            while not isinstance(events[pos], yaml.MappingEndEvent):
                k = take()
                if not isinstance(k, yaml.ScalarEvent) or k.anchor is not None or k.tag is not None \
                        or k.value in out:
                    raise _Odd
                out[k.value] = node()
            take()
            return out
        if isinstance(ev, yaml.SequenceStartEvent):
            if ev.flow_style:
                raise _Odd
            items = []
            while not isinstance(events[pos], yaml.SequenceEndEvent):
                items.append(node())
            take()
            return items
        raise _Odd  # alias or anything else

    if len(events) < 5 or not isinstance(events[0], yaml.StreamStartEvent):
        raise _Odd
    doc = events[1]
    if not isinstance(doc, yaml.DocumentStartEvent) or doc.explicit or doc.version or doc.tags:
        raise _Odd
    pos = 2
    root = events[pos]
    if not isinstance(root, yaml.MappingStartEvent) or root.flow_style or root.anchor or root.tag:
        raise _Odd
    pos += 1
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    while not isinstance(events[pos], yaml.MappingEndEvent):
        k = take()
        if not isinstance(k, yaml.ScalarEvent) or k.anchor is not None or k.tag is not None or k.value in data:
            raise _Odd
        lines[k.value] = k.start_mark.line + 1 if k.start_mark else 1
        data[k.value] = node()
    pos += 1
    end = events[pos]
    if not isinstance(end, yaml.DocumentEndEvent) or end.explicit or pos + 2 != len(events):
        raise _Odd
    return data, lines


# a block-scalar header run into a comment (`|#`): libyaml accepts it, strictyaml (and PyYAML) refuse it
_HEADER_COMMENT = re.compile(r"[|>][-+0-9]*#")


def _fast_events(fm: str) -> list[yaml.Event] | None:
    """libyaml's events of `fm` when the fast path may read it, None when only the careful path may;
    either way checked against the YAML limits first (YamlLimitError)."""
    if _ODD_CHARS.search(fm) or _HEADER_COMMENT.search(fm):
        safeyaml.check(fm)
        return None
    return safeyaml.parse_events(fm)


def _fast(fm: str) -> tuple[dict[str, Any], dict[str, int]]:
    """The fast path alone (what the fuzz tests compare with strictyaml); _Odd when it declines."""
    try:
        events = _fast_events(fm)
    except (yaml.YAMLError, RecursionError) as exc:  # a YamlLimitError too: the careful path decides
        raise _Odd from exc
    if events is None:
        raise _Odd
    return _build(events)


def _strictyaml_problem(fm: str) -> tuple[str, int | None]:
    """strictyaml's own complaint about `fm`, as (one line, 1-based line in SKILL.md)."""
    import strictyaml

    try:
        strictyaml.load(fm)
    except Exception as exc:  # strictyaml/ruamel raise several unrelated classes
        problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[-1]
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None and getattr(mark, "line", None) is not None else None
        return " ".join(str(problem).split()), line
    return "not a YAML mapping", None


def _fix_for(problem: str) -> str | None:
    p = problem.lower()
    if "flow" in p:
        return "block-style"
    if "duplicate key" in p:
        return "duplicate-keys"
    if "mapping values are not allowed" in p or "cannot start any token" in p or "could not find expected ':'" in p:
        return "quote-values"
    return None


def read_front_matter(text: str) -> FrontMatterRead:
    """Front matter of SKILL.md `text` (as on disk or in the editor), judged as skills-ref judges it."""
    content = normalise_newlines(text)
    if not content.startswith("---"):
        if content.startswith(skillmd.BOM):
            return FrontMatterRead(error="SKILL.md starts with a byte-order mark (BOM) before '---'; "
                                   "save it as UTF-8 without BOM", error_code="spec.no-frontmatter",
                                   error_line=1, fix="frontmatter")
        if content.lstrip().startswith("---"):
            return FrontMatterRead(error="SKILL.md has blank lines or spaces before the opening '---'; "
                                   "it must be the very first line", error_code="spec.no-frontmatter",
                                   error_line=1, fix="frontmatter")
        return FrontMatterRead(error="SKILL.md must start with YAML front matter: a '---' line, "
                               "name and description, then '---'", error_code="spec.no-frontmatter",
                               error_line=1, fix="frontmatter")
    parts = content.split("---", 2)
    if len(parts) < 3:
        return FrontMatterRead(error="front matter is not closed: add a '---' line after the last field",
                               error_code="spec.frontmatter-unclosed", error_line=1, fix="frontmatter")
    fm = parts[1]
    cut = _cut_line(content, len(fm) + 3)
    events: list[yaml.Event] | None = None
    try:  # before either parser: alias bombs, huge or deeply nested front matter are refused
        events = _fast_events(fm)
    except safeyaml.YamlLimitError as exc:
        line = exc.problem_mark.line + 2 if exc.problem_mark is not None else 1
        return FrontMatterRead(error=f"front matter refused: {exc.problem}", error_code="spec.yaml",
                               error_line=line, cut_line=cut)
    except (yaml.YAMLError, RecursionError):
        events = None  # a syntax error: skills-ref's parser below reports it as skills-ref does
    try:
        if events is None:
            raise _Odd
        data, lines = _build(events)
        result = FrontMatterRead(data=data, key_lines=lines)
    except _Odd:
        result = _delegate(content, fm)
    result.cut_line = cut
    return result


def _cut_line(content: str, close: int) -> int | None:
    """1-based line of the closing '---' when it is not a line of its own (skills-ref cuts there anyway)."""
    start = content.rfind("\n", 0, close) + 1
    end = content.find("\n", close)
    line = content[start: end if end >= 0 else len(content)]
    if not line.strip().strip("-") or close == 3:
        return None
    return content.count("\n", 0, close) + 1


def _delegate(content: str, fm: str) -> FrontMatterRead:
    from skills_ref.errors import ParseError
    from skills_ref.parser import parse_frontmatter

    lines = {k: i + 1 for k, i in reversed(skillmd.top_level_keys(fm))}
    try:
        data, _ = parse_frontmatter(content)
    except ParseError as exc:
        msg = str(exc)
        if msg.startswith("Invalid YAML"):
            problem, line = _strictyaml_problem(fm)
            return FrontMatterRead(error=f"invalid YAML in front matter: {problem}", error_code="spec.yaml",
                                   error_line=line, fix=_fix_for(problem), delegated=True)
        empty = all(not ln.strip() or ln.lstrip().startswith("#") for ln in fm.split("\n"))
        return FrontMatterRead(error="front matter is empty: add `name:` and `description:` lines" if empty else
                               "front matter must be a YAML mapping of `key: value` lines",
                               error_code="spec.not-mapping", error_line=1, delegated=True, empty=empty)
    except Exception as exc:  # skills-ref itself crashes here; we still give one clear line
        m = _ODD_CHARS.search(fm)
        if m:
            return FrontMatterRead(error=f"front matter contains the control character U+{ord(m.group()):04X}; "
                                   "remove it or quote the value", error_code="spec.yaml",
                                   error_line=fm.count("\n", 0, m.start()) + 1, fix="quote-values", delegated=True)
        return FrontMatterRead(error=f"front matter cannot be read: {type(exc).__name__}",
                               error_code="spec.yaml", error_line=1, delegated=True)
    return FrontMatterRead(data=data, key_lines=lines, delegated=True)
