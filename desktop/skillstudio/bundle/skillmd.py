"""SKILL.md text: split front matter from body, read values, and edit fields *in place*.

The editor's contract is that an unchanged file is written back byte for byte and that editing one
front-matter field leaves everything else (comments, key order, quoting, the body, line endings, a
BOM) exactly as the user wrote it. So we never re-serialise the whole YAML: edits are line-level
splices of the one key's lines, and values are rendered as the smallest safe YAML scalar.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from skillstudio.bundle import safeyaml

BOM = "\ufeff"
DELIMITER = "---"
_TOP_KEY = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.\-]*)\s*:(?:\s|$)")


@dataclass(frozen=True)
class Split:
    """Where the front matter and the body are in a SKILL.md text (0-based line numbers)."""

    bom: bool
    newline: str  # "\n" or "\r\n", the file's dominant line ending
    has_open: bool  # first non-blank line is '---'
    closed: bool  # a closing '---' line was found
    fm_text: str  # YAML between the delimiters (newlines normalised to \n)
    fm_first_line: int  # line of the first YAML line (after the opening ---)
    fm_end_line: int  # line of the closing --- (== number of lines when unclosed)
    fm_start_offset: int  # character offsets of the YAML region in the text without BOM
    fm_end_offset: int
    body: str
    body_first_line: int


def detect_newline(text: str) -> str:
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf >= text.count("\n") - crlf else "\n"


def _lines(text: str) -> list[str]:
    """Lines without their endings; '\r\n' and '\n' both end a line."""
    return text.replace("\r\n", "\n").split("\n")


def split(text: str) -> Split:
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    newline = detect_newline(text)
    lines = _lines(text)
    # character offset of the start of each line in `text` (which may mix \r\n and \n)
    offsets = [0]
    for m in re.finditer(r"\n", text):
        offsets.append(m.end())
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or lines[i].rstrip() != DELIMITER:
        return Split(bom, newline, False, False, "", 0, 0, 0, 0, "\n".join(lines), 0)
    start = i + 1
    start_off = offsets[start] if start < len(offsets) else len(text)
    for j in range(start, len(lines)):
        if lines[j].rstrip() == DELIMITER:
            return Split(bom, newline, True, True, "\n".join(lines[start:j]), start, j,
                         start_off, offsets[j], "\n".join(lines[j + 1:]), j + 1)
    return Split(bom, newline, True, False, "\n".join(lines[start:]), start, len(lines),
                 start_off, len(text), "", len(lines))


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that refuses duplicate keys (YAML allows them silently; they are always a mistake)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value, not a list or mapping", key_node.start_mark) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class FrontMatterError(ValueError):
    """The front matter cannot be read; `line` is 1-based in the whole file when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def load_front_matter(text: str) -> tuple[dict[str, Any], Split]:
    """Parse the front matter into a dict (values as YAML gives them). Raises FrontMatterError."""
    sp = split(text)
    if not sp.has_open:
        raise FrontMatterError("SKILL.md must start with YAML front matter (---)", 1)
    if not sp.closed:
        raise FrontMatterError("front matter is not closed with a '---' line", sp.fm_first_line)
    try:
        data = safeyaml.load(sp.fm_text, _UniqueKeyLoader)
    except yaml.YAMLError as exc:
        problem, line = safeyaml.problem(exc)
        raise FrontMatterError(f"invalid YAML in front matter: {problem}",
                               sp.fm_first_line + (line or 0)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise FrontMatterError("front matter must be a YAML mapping (key: value lines)", sp.fm_first_line + 1)
    return data, sp


# ----------------------------------------------------------------------------------------- editing

def render_scalar(value: str, style: str = "") -> str:
    """The smallest YAML scalar that reads back as exactly `value` (a string).

    `style` is the quoting the user used before ("'", '"' or ""); we keep it when it still works.
    """
    # control characters, tabs (strictyaml/skills-ref refuse them raw) and YAML 1.1 line breaks
    # (NEL, LS, PS) only survive as escapes inside double quotes
    # and '---' anywhere ends the front matter for skills-ref (it splits the text on it)
    special = _NEEDS_ESCAPE.search(value) is not None or "---" in value
    if style == "'" and "\n" not in value and not special:
        return "'" + value.replace("'", "''") + "'"
    if style != '"' and value and "\n" not in value and not special:
        try:
            if safeyaml.safe_load(f"k: {value}") == {"k": value} and not value.startswith(("'", '"')):
                return value
        except yaml.YAMLError:
            pass
    quoted = _NEEDS_ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))
    return quoted.replace("---", "-\\x2d-")


_NEEDS_ESCAPE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff]")


def _quote_style(raw_value: str) -> str:
    raw_value = raw_value.strip()
    return raw_value[0] if raw_value[:1] in ("'", '"') else ""


def _value_and_comment(line: str, single_line: bool) -> tuple[str, str]:
    """Split `key: value  # comment` into the raw value and the trailing comment (kept on edits)."""
    raw = line.split(":", 1)[1]
    m = re.search(r"\s+#[^'\"]*$", raw)
    if m and single_line:
        return raw[: m.start()], raw[m.start():]
    return raw, ""


def _key_block(lines: list[str], start: int, end: int, key: str, indent: int) -> tuple[int, int] | None:
    """[first, last) line range of `key` at exactly `indent` spaces within lines[start:end]."""
    pat = re.compile(r"^" + " " * indent + re.escape(key) + r"\s*:(?:\s|$)")
    for i in range(start, end):
        if pat.match(lines[i]):
            j = i + 1
            while j < end:
                line = lines[j]
                stripped = line.strip()
                lead = len(line) - len(line.lstrip(" "))
                if stripped and lead <= indent and not stripped.startswith("#"):
                    break
                if not stripped and j + 1 < end and lines[j + 1].strip() and \
                        len(lines[j + 1]) - len(lines[j + 1].lstrip(" ")) <= indent:
                    break
                j += 1
            # do not swallow trailing blank/comment lines that belong to what follows
            while j > i + 1 and (not lines[j - 1].strip() or lines[j - 1].lstrip().startswith("#")):
                j -= 1
            return i, j
    return None


def fm_lines(sp: Split) -> list[str]:
    return _lines(sp.fm_text) if sp.fm_end_line > sp.fm_first_line else []


def _rebuild(text: str, sp: Split, new_fm: list[str]) -> str:
    """Replace only the YAML region's characters; the delimiters and body keep their exact bytes."""
    raw = text[1:] if sp.bom else text
    region = "".join(line + sp.newline for line in new_fm)
    return (BOM if sp.bom else "") + raw[: sp.fm_start_offset] + region + raw[sp.fm_end_offset:]


def set_field(text: str, key: str, value: str | None) -> str:
    """Set (or with None, remove) a top-level front-matter string field, changing nothing else."""
    sp = split(text)
    if not sp.has_open or not sp.closed:
        raise FrontMatterError("cannot edit fields: the front matter is missing or not closed")
    fm = fm_lines(sp)
    block = _key_block(fm, 0, len(fm), key, 0)
    if value is None:
        if block:
            del fm[block[0]:block[1]]
        return _rebuild(text, sp, fm)
    if block:
        raw, comment = _value_and_comment(fm[block[0]], single_line=block[1] == block[0] + 1)
        fm[block[0]:block[1]] = [f"{key}: {render_scalar(value, _quote_style(raw))}{comment}"]
    else:
        fm.append(f"{key}: {render_scalar(value)}")
    return _rebuild(text, sp, fm)


def set_metadata(text: str, key: str, value: str | None) -> str:
    """Set (or remove) `metadata.<key>` as a quoted-if-needed string, changing nothing else."""
    sp = split(text)
    if not sp.has_open or not sp.closed:
        raise FrontMatterError("cannot edit fields: the front matter is missing or not closed")
    fm = fm_lines(sp)
    block = _key_block(fm, 0, len(fm), "metadata", 0)
    if block is None:
        if value is not None:
            fm += ["metadata:", f"  {key}: {render_scalar(value, chr(34))}"]
        return _rebuild(text, sp, fm)
    first, end = block
    head = fm[first].split(":", 1)[1].strip()
    if head.startswith("{"):
        # flow mapping: rewrite just this line, keeping the others
        data = safeyaml.safe_load("m: " + head)["m"] or {}
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
        inner = ", ".join(f"{k}: {render_scalar(str(v), chr(34))}" for k, v in data.items())
        fm[first] = "metadata: {" + inner + "}" if inner else "metadata: {}"
        return _rebuild(text, sp, fm)
    indent = 2
    for line in fm[first + 1:end]:
        if line.strip() and not line.lstrip().startswith("#"):
            indent = len(line) - len(line.lstrip(" "))
            break
    child = _key_block(fm, first + 1, end, key, indent)
    if value is None:
        if child:
            del fm[child[0]:child[1]]
        return _rebuild(text, sp, fm)
    if child:
        raw, comment = _value_and_comment(fm[child[0]], single_line=child[1] == child[0] + 1)
        fm[child[0]:child[1]] = [" " * indent + f"{key}: {render_scalar(value, _quote_style(raw) or chr(34))}{comment}"]
    else:
        fm.insert(end, " " * indent + f"{key}: {render_scalar(value, chr(34))}")
    return _rebuild(text, sp, fm)


def top_level_keys(fm_text: str) -> list[tuple[str, int]]:
    """Top-level keys with their 0-based line in the front matter, read textually (works on broken YAML)."""
    return [(m.group(1), i) for i, line in enumerate(_lines(fm_text)) if (m := _TOP_KEY.match(line))]


def compose(front_matter: dict[str, Any], body: str, newline: str = "\n") -> str:
    """A new SKILL.md from scratch (wizard, templates). Key order: spec order, then the rest."""
    order = ["name", "description", "license", "compatibility", "allowed-tools", "metadata"]
    keys = [k for k in order if k in front_matter] + [k for k in front_matter if k not in order]
    out = [DELIMITER]
    for k in keys:
        v = front_matter[k]
        if isinstance(v, dict):
            out.append(f"{k}:")
            out += [f"  {mk}: {render_scalar(str(mv), chr(34))}" for mk, mv in v.items()]
        else:
            out.append(f"{k}: {render_scalar(str(v))}")
    out.append(DELIMITER)
    text = "\n".join(out) + "\n" + body.lstrip("\n")
    return text.replace("\n", newline)
