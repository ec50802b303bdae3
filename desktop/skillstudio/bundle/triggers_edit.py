"""Save trigger cases into `evals/triggers.yaml` *in place*, the way SKILL.md fields are edited.

Re-dumping the whole YAML would drop the user's comments and re-quote and re-indent every case, so a
one-word edit became a whole-file diff. Here the file is a sequence of text chunks: whatever precedes
the `cases` list, one chunk per case (with the comment and blank lines just above it), and whatever
follows. Saving keeps the chunk of every unchanged case byte for byte (also when it moved), edits a
changed case field by field (the other fields, its comments and quoting stay), renders only new cases
(in the file's own indentation and quoting) and drops the chunks of removed ones. Keys we do not know,
per case or at the top level, are never touched.

The result is always parsed back and compared with the cases asked for; should the in-place edit not
read back exactly (an exotic layout), the file is written in the plain format instead, keeping its
leading comment, so saving can never store something other than what the user sees.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from skillstudio.bundle import triggers
from skillstudio.bundle.skillmd import render_scalar
from skillstudio.bundle.triggers import TriggerCase

_FIRST_KEYS = ("prompt", "expect", "why")


def case_fields(case: TriggerCase) -> dict[str, Any]:
    """A case as the plain YAML fields it is saved with (defaults left out), in the canonical order."""
    data = case.model_dump(mode="json", exclude_defaults=True)
    if not data.get("why"):
        data.pop("why", None)
    ordered = {k: data.pop(k) for k in _FIRST_KEYS if k in data}
    ordered.update(data)
    return ordered


def _key(fields: dict[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False)


@dataclass
class _Item:
    """One case of the file: its text (leading trivia + lines) and where its fields are."""

    fields: dict[str, Any]  # normalised through TriggerCase, as `case_fields` gives them
    trivia: str  # comment and blank lines above the case
    text: str  # from the start of its '-' line to the end of its last line (newline included)
    start: int  # offset of `text` in the file
    node: yaml.Node


@dataclass
class _Layout:
    prefix: str
    items: list[_Item]
    suffix: str
    dash_indent: int
    key_indent: int
    quote: str  # how prompts are quoted in this file ('"', "'" or "")
    newline: str
    source: str  # the whole file (node marks index into it)


def edit_cases(text: str | None, cases: list[TriggerCase]) -> str:
    """The new text of triggers.yaml holding exactly `cases`, changing as little of `text` as possible."""
    new = [case_fields(c) for c in cases]
    if text is None or not text.strip():
        return _fresh(text or "", new)
    try:
        layout = _layout(text)
    except (yaml.YAMLError, triggers.TriggersError, _Unsupported):
        layout = None
    if layout is not None:
        out = _splice(layout, new)
        if _reads_back(out, new):
            return out
    return _fresh(_header_comment(text), new)


class _Unsupported(Exception):
    """A layout the in-place editor leaves to the plain writer (flow lists, aliases, a bare list)."""


def _reads_back(text: str, new: list[dict[str, Any]]) -> bool:
    try:
        got = triggers.parse_cases(text)
    except triggers.TriggersError:
        return False
    return [_key(case_fields(c)) for c in got] == [_key(f) for f in new]


def _header_comment(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line if line.endswith("\n") else line + "\n")
    return "".join(lines)


def _detect_newline(text: str) -> str:
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf >= text.count("\n") - crlf else "\n"


# ------------------------------------------------------------------------------------ reading


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _line_end(text: str, pos: int) -> int:
    """Offset just after the newline ending the line that holds `pos` (or the end of the text)."""
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl + 1


def _content_end(text: str, node: yaml.Node) -> int:
    """Offset after the last character of `node`'s own text.

    A collection's end mark sits at the next token (past comments) and a block scalar's past its
    blank lines, so collections end where their last child ends and trailing blanks are skipped.
    """
    if isinstance(node, yaml.MappingNode) and node.value and not node.flow_style:
        return max(_content_end(text, v) for _, v in node.value)
    if isinstance(node, yaml.SequenceNode) and node.value and not node.flow_style:
        return max(_content_end(text, v) for v in node.value)
    end = node.end_mark.index
    while end > node.start_mark.index and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _layout(text: str) -> _Layout:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        raise _Unsupported("not a mapping")
    parsed = triggers.parse_cases(text)
    cases_pair = next(((k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "cases"), None)
    if cases_pair is None:
        raise _Unsupported("no cases key")
    key_node, seq = cases_pair
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style or not seq.value:
        raise _Unsupported("cases is not a non-empty block list")
    if len(parsed) != len(seq.value):
        raise _Unsupported("cases do not map one to one")
    newline = _detect_newline(text)
    cursor = _line_end(text, key_node.end_mark.index)  # after the 'cases:' line
    prefix = text[:cursor]
    items: list[_Item] = []
    for case, node in zip(parsed, seq.value, strict=True):
        if not isinstance(node, yaml.MappingNode) or node.flow_style or not node.value:
            raise _Unsupported("a case is not a block mapping")
        dash = text.rfind("-", cursor, node.start_mark.index)
        if dash < 0 or text[cursor:dash].strip(" \t\r\n") and not _only_comments(text[cursor:_line_start(text, dash)]):
            raise _Unsupported("unexpected text between cases")
        start = _line_start(text, dash)
        if text[start:dash].strip():
            raise _Unsupported("a case does not start its line")
        end = _line_end(text, max(_content_end(text, v) for _, v in node.value))
        items.append(_Item(case_fields(case), text[cursor:start], text[start:end], start, node))
        cursor = end
    first = items[0]
    dash_indent = len(first.text) - len(first.text.lstrip(" "))
    key_indent = first.node.start_mark.column
    quote = ""
    for k, v in first.node.value:
        if k.value == "prompt" and isinstance(v, yaml.ScalarNode):
            quote = v.style if v.style in ("'", '"') else ""
    return _Layout(prefix, items, text[cursor:], dash_indent, key_indent, quote, newline, text)


def _only_comments(chunk: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") for line in chunk.splitlines())


# ------------------------------------------------------------------------------------ writing


def _value(key: str, value: Any, quote: str) -> str:
    """One value on one line: strings as the smallest safe scalar, structures in flow style."""
    if isinstance(value, str):
        return render_scalar(value, quote if key == "prompt" else "")
    return _flow(value)


def _flow(value: Any) -> str:
    if isinstance(value, str):
        return render_scalar(value, '"')  # always quoted: ',', ':' and brackets are safe inside
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_flow(str(k))}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return str(yaml.safe_dump(value)).strip().removesuffix("...").strip()


def _render_item(fields: dict[str, Any], lay: _Layout) -> str:
    lines = []
    for i, (k, v) in enumerate(fields.items()):
        lead = " " * lay.dash_indent + "-" + " " * max(1, lay.key_indent - lay.dash_indent - 1) if i == 0 \
            else " " * lay.key_indent
        lines.append(f"{lead}{k}: {_value(k, v, lay.quote)}")
    return "".join(line + lay.newline for line in lines)


def _edit_item(item: _Item, new: dict[str, Any], lay: _Layout) -> str:
    """`item` with only the fields that differ from `new` rewritten (its comments and layout kept)."""
    old = item.fields
    text = item.text
    pairs = [(k, v) for k, v in item.node.value if isinstance(k, yaml.ScalarNode)]
    if len(pairs) != len(item.node.value):
        return _render_item(new, lay)
    raw_keys = [k.value for k, _ in pairs]
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in item-relative offsets
    base, src = item.start, lay.source
    for k, v in pairs:
        if k.value in new and (k.value not in old or old[k.value] != new[k.value]):
            style = v.style if isinstance(v, yaml.ScalarNode) and v.style in ("'", '"') else ""
            rendered = _value(k.value, new[k.value], style or (lay.quote if k.value == "prompt" else ""))
            if v.end_mark.index == v.start_mark.index:  # `key:` with nothing after it
                colon = src.index(":", k.end_mark.index) + 1
                edits.append((colon - base, colon - base, " " + rendered))
            else:
                edits.append((v.start_mark.index - base, _content_end(src, v) - base, rendered))
        elif k.value in old and k.value not in new:
            if k is pairs[0][0]:
                return _render_item(new, lay)  # the key on the '-' line: simplest to write the case anew
            s = _line_start(text, k.start_mark.index - base)
            e = _line_end(text, _content_end(src, v) - base)
            edits.append((s, e, ""))
    added = [k for k in new if k not in raw_keys]
    if added:
        tail = "".join(" " * lay.key_indent + f"{k}: {_value(k, new[k], lay.quote)}" + lay.newline for k in added)
        edits.append((len(text), len(text), tail))
    for s, e, rep in sorted(edits, reverse=True):
        text = text[:s] + rep + text[e:]
    if not text.endswith("\n"):
        text += lay.newline
    return text


def _splice(lay: _Layout, new: list[dict[str, Any]]) -> str:
    if not new:  # an empty list must stay a list: `cases:` alone reads as null
        head = lay.prefix.rstrip("\r\n")
        head = re.sub(r"cases\s*:\s*(#.*)?$", lambda m: "cases: []" + (" " + m.group(1) if m.group(1) else ""),
                      head)
        return head + lay.newline + lay.suffix
    old_keys = [_key(i.fields) for i in lay.items]
    new_keys = [_key(f) for f in new]
    chosen: list[str | None] = [None] * len(new)
    used = [False] * len(lay.items)
    pending: list[tuple[int, list[int]]] = []  # new index, old candidates for a field-level edit
    matcher = difflib.SequenceMatcher(a=old_keys, b=new_keys, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            for a, b in zip(range(a0, a1), range(b0, b1), strict=True):
                chosen[b] = lay.items[a].trivia + lay.items[a].text
                used[a] = True
        else:
            for b in range(b0, b1):
                pending.append((b, list(range(a0, a1))))
    # moved cases keep their exact text
    for b, _ in pending:
        for a, key in enumerate(old_keys):
            if not used[a] and key == new_keys[b]:
                chosen[b] = lay.items[a].trivia + lay.items[a].text
                used[a] = True
                break
    # edited cases: pair with an unused case from the same changed region, in order
    for b, cands in pending:
        if chosen[b] is not None:
            continue
        spare = next((a for a in cands if not used[a]), None)
        if spare is None:
            chosen[b] = _render_item(new[b], lay)
        else:
            used[spare] = True
            chosen[b] = lay.items[spare].trivia + _edit_item(lay.items[spare], new[b], lay)
    return lay.prefix + "".join(c or "" for c in chosen) + lay.suffix


def _fresh(header: str, new: list[dict[str, Any]]) -> str:
    """The plain format (two-space list, double-quoted prompts) below `header`."""
    if not new:
        return header + "cases: []\n"
    lay = _Layout("", [], "", 2, 4, '"', "\n", "")
    return header + "cases:\n" + "".join(_render_item(f, lay) for f in new)
