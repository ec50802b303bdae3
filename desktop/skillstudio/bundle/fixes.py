"""Fix-its: repair the spec errors most skills in the wild have, changing nothing else.

Every fix is a text-level splice through skillmd (the rest of SKILL.md keeps its bytes), reports
each change in one line, and never drops user text: unknown fields move under `metadata` as
strings, a broken value is quoted rather than rewritten, a derived description says where it came
from. `fix_text` serves the editor's Fix button; `apply_fixes` runs every fix on a folder (the
CLI's --fix), writes atomically, and renames the folder to match the name.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from skillstudio.bundle import safeyaml, skillmd
from skillstudio.bundle.fileio import UnreadableFile, atomic_write, describe, read_text_file, why_unreadable
from skillstudio.bundle.hostfields import host_field
from skillstudio.bundle.model import skill_md_entry
from skillstudio.bundle.specparse import read_front_matter
from skillstudio.bundle.validate import ALLOWED_FIELDS, MAX_DESCRIPTION, MAX_NAME, spec_problems

# the order in which apply_fixes tries them: each may uncover work for the next
FIX_ORDER = ("frontmatter", "dashes", "quote-values", "duplicate-keys", "block-style", "move-to-metadata",
             "add-description",
             "normalize-name", "rename-folder")
FOLDER_FIXES = frozenset({"rename-folder"})  # need the folder, not just the text (apply_fixes does them)
# fixes that change what a skill does on some host: applied only when asked for by id, never by plain --fix
OPT_IN_FIXES = ("portable-host-fields",)
_META_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


@dataclass
class FixReport:
    changes: list[str] = field(default_factory=list)
    new_path: Path | None = None  # the skill folder after a rename (else the same folder)
    skipped: list[str] = field(default_factory=list)  # fixes that could not be applied safely, and why


def normalize_name(raw: str) -> str:
    """A spec-valid name from anything: lowercase, hyphens for spaces/underscores/dots, no other symbols."""
    s = unicodedata.normalize("NFKC", raw).strip().lower()
    s = re.sub(r"[\s_.·/\\:]+", "-", s)
    s = "".join(c for c in s if c.isalnum() or c == "-")
    s = unicodedata.normalize("NFKC", s).lower()
    s = "".join(c for c in s if c.isalnum() or c == "-")
    s = re.sub(r"-{2,}", "-", s).strip("-")
    return s[:MAX_NAME].rstrip("-")


# ------------------------------------------------------------------------------------ delimiters

def _looks_like_yaml(line: str) -> bool:
    return bool(skillmd._TOP_KEY.match(line)) or (line[:1] in (" ", "\t") and bool(line.strip()))


def _fix_frontmatter(text: str, folder: str) -> tuple[str, list[str]]:
    changes: list[str] = []
    nl = skillmd.detect_newline(text)
    if text.startswith(skillmd.BOM):
        text = text[1:]
        changes.append("removed the byte-order mark (BOM) before the front matter")
    stripped = text.lstrip()
    if stripped.startswith("---") and stripped != text:
        lead = text[: len(text) - len(stripped)]
        text = stripped
        n = lead.count("\n")
        changes.append(f"removed {n} blank line(s) before the opening '---'" if n else
                       "removed spaces before the opening '---'")
    lines = text.replace("\r\n", "\n").split("\n")
    if not text.startswith("---"):
        # key: value lines at the top without delimiters -> wrap them; otherwise write new front matter
        n = 0
        while n < len(lines) and _looks_like_yaml(lines[n]):
            n += 1
        keys = {k for k, _ in skillmd.top_level_keys("\n".join(lines[:n]))}
        if n and keys & {"name", "description"} and n < len(lines) and lines[n].strip() == "---":
            lines = ["---", *lines]
            changes.append("added the missing opening '---' line")
        elif n and keys & {"name", "description"}:
            lines = ["---", *lines[:n], "---", *lines[n:]]
            changes.append(f"added '---' delimiters around the {n} front-matter line(s) at the top")
        else:
            body = "\n".join(lines)
            name = normalize_name(folder) or "skill"
            desc, source = _derive_description(body)
            head = ["---", f"name: {skillmd.render_scalar(name)}", f"description: {skillmd.render_scalar(desc)}",
                    "---"]
            lines = head + ([""] if lines and lines[0].strip() else []) + lines
            changes.append(f"added front matter with name '{name}' (from the folder) and a description from "
                           f"{source}: review it")
        return nl.join(lines), changes
    first = lines[0].rstrip()
    if first != "---":
        if first.strip("-"):
            lines[0:1] = ["---", "# " + first[3:].strip()]
            changes.append(f"moved '{first[3:].strip()}' off the opening '---' line into a YAML comment")
        else:
            lines[0] = "---"
            changes.append(f"made the opening delimiter exactly '---' (was '{first}')")
        text = nl.join(lines)
    if len(text.replace("\r\n", "\n").split("---", 2)) < 3:
        n = 1
        while n < len(lines) and _looks_like_yaml(lines[n]):
            n += 1
        lines = [*lines[:n], "---", *lines[n:]]
        changes.append(f"closed the front matter with '---' after line {n}")
        text = nl.join(lines)
    sp = skillmd.split(text)
    fm = skillmd.fm_lines(sp)
    if sp.has_open and sp.closed and all(not ln.strip() or ln.lstrip().startswith("#") for ln in fm):
        name = normalize_name(folder) or "skill"
        desc, source = _derive_description(sp.body)
        fm = [*[ln for ln in fm if ln.strip()], f"name: {skillmd.render_scalar(name)}",
              f"description: {skillmd.render_scalar(desc)}"]
        text = skillmd._rebuild(text, sp, fm)
        changes.append(f"filled the empty front matter: name '{name}' (from the folder), description from "
                       f"{source}: review it")
    return text, changes


def _closed_front_matter(text: str) -> tuple[skillmd.Split, list[str]] | None:
    """The split and YAML lines of a SKILL.md whose front matter is opened and closed, else None."""
    sp = skillmd.split(text)
    if not sp.has_open or not sp.closed:
        return None
    return sp, skillmd.fm_lines(sp)


def _fix_dashes(text: str) -> tuple[str, list[str]]:
    """'---' inside a front-matter line ends the front matter early for skills-ref: write it as '—'."""
    found = _closed_front_matter(text)
    if found is None:
        return text, []
    sp, fm = found
    changes = []
    for i, line in enumerate(fm):
        if "---" in line and line.strip().strip("-"):
            fm[i] = re.sub(r"-{3,}", "—", line)
            changes.append(f"replaced '---' with '—' in line {sp.fm_first_line + i + 1}")
    return (skillmd._rebuild(text, sp, fm), changes) if changes else (text, [])


def _fix_duplicate_keys(text: str) -> tuple[str, list[str]]:
    """Later copies of a top-level key move under metadata as '<key>-duplicate' (nothing is dropped)."""
    found = _closed_front_matter(text)
    if found is None:
        return text, []
    sp, fm = found
    seen: set[str] = set()
    dups = []
    for key, first, end in _blocks(fm):
        if key in seen:
            dups.append((key, first, end))
        seen.add(key)
    if not dups:
        return text, []
    moved: list[tuple[str, str, int]] = []
    for key, first, end in reversed(dups):
        block = "\n".join(fm[first:end])
        data = read_front_matter("---\n" + block + "\n---\n").data
        if data and set(data) == {key}:
            value = _as_text(data.get(key))
        else:  # unreadable, or lines that YAML reads as other keys: keep the raw text, lose no word
            value = block.split(":", 1)[1].strip()
        moved.append((key, value, sp.fm_first_line + first + 1))
        # comments in the removed lines stay where they were (a '#' inside a quoted value is copied too:
        # harmless, and nothing is lost)
        fm[first:end] = [ln[ln.index("#"):] for ln in fm[first:end] if "#" in ln]
    text = skillmd._rebuild(text, sp, fm)
    changes = []
    meta = (read_front_matter(text).data or {}).get("metadata")
    taken = set(meta) if isinstance(meta, dict) else set()
    for key, value, line in reversed(moved):
        mkey, n = _meta_key(f"{key}-duplicate"), 2
        while mkey in taken:
            mkey, n = _meta_key(f"{key}-duplicate-{n}"), n + 1
        taken.add(mkey)
        text = skillmd.set_metadata(text, mkey, value)
        changes.append(f"moved the second '{key}' (line {line}) to metadata.{mkey}")
    return text, changes


def _derive_description(body: str) -> tuple[str, str]:
    """First paragraph of the body as plain text (else the first heading): a starting point to edit."""
    heading = ""
    para: list[str] = []
    in_fence = False
    for line in body.replace("\r\n", "\n").split("\n"):
        s = line.strip()
        if s.startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if s.startswith("#"):
            if para:
                break
            heading = heading or s.lstrip("#").strip()
            continue
        if not s:
            if para:
                break
            continue
        if s.startswith(("---", "|", "<")):
            continue
        para.append(s.lstrip("-*+> ").strip())
    text = " ".join(para) or heading
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[*_`]+", "", text)
    text = " ".join(text.split())
    if not text:
        return "Describe what this skill does and when to use it.", "a placeholder"
    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 1].rsplit(" ", 1)[0] + "…"
    return text, "the first paragraph of the body" if para else "the first heading"


# ----------------------------------------------------------------------------------- YAML values

def _blocks(fm: list[str]) -> list[tuple[str, int, int]]:
    """(key, first, end) of every top-level key block, read textually (works on broken YAML)."""
    starts = [(k, i) for k, i in skillmd.top_level_keys("\n".join(fm))]
    out = []
    for n, (k, i) in enumerate(starts):
        end = starts[n + 1][1] if n + 1 < len(starts) else len(fm)
        while end > i + 1 and (not fm[end - 1].strip() or fm[end - 1].lstrip().startswith("#")):
            end -= 1
        out.append((k, i, end))
    return out


def _fix_quote_values(text: str) -> tuple[str, list[str]]:
    found = _closed_front_matter(text)
    if found is None:
        return text, []
    sp, fm = found
    changes = []
    for i, line in enumerate(fm):
        if line.startswith("\t"):
            lead = len(line) - len(line.lstrip("\t"))
            fm[i] = "  " * lead + line[lead:]
            changes.append(f"indented line {sp.fm_first_line + i + 1} with spaces instead of tabs")
    for key, first, end in reversed(_blocks(fm)):
        raw = fm[first].split(":", 1)[1].strip()
        if not raw or raw[0] in "'\"|>[{&*!" or raw.startswith("#"):
            continue
        cont = [ln.strip() for ln in fm[first + 1:end]]
        if any(c.startswith(("- ", "#")) or c == "-" for c in cont if c):
            continue  # a nested block, not a broken scalar
        comment = ""
        m = re.search(r"\s+#\s.*$", raw)
        if m and not cont:
            comment, raw = raw[m.start():], raw[: m.start()]
        data = read_front_matter("---\n" + "\n".join(fm[first:end]) + "\n---\n").data
        if data is not None and isinstance(data.get(key), str):
            continue  # this key already reads as text
        value = " ".join([raw, *[c for c in cont if c]]).strip()
        rendered = json.dumps(value, ensure_ascii=False)
        fm[first:end] = [f"{key}: {rendered}{comment}"]
        changes.append(f"quoted the value of '{key}' (line {sp.fm_first_line + first + 1}) so YAML reads it as text")
    changes = [c for c in changes if c.startswith("indented")] + \
        list(reversed([c for c in changes if not c.startswith("indented")]))
    if not changes:
        return text, []
    return skillmd._rebuild(text, sp, fm), changes


def _fix_block_style(text: str) -> tuple[str, list[str]]:
    """Flow collections (`[a, b]`, `{k: v}`) that strictyaml refuses, rewritten in block style."""
    found = _closed_front_matter(text)
    if found is None:
        return text, []
    sp, fm = found
    changes = []
    for i in range(len(fm) - 1, -1, -1):
        m = re.match(r"^(\s*)([^\s#:][^:]*?)\s*:\s+([\[{].*)$", fm[i])
        if not m:
            continue
        indent, key, flow = m.groups()
        try:
            value = safeyaml.load(flow, yaml.BaseLoader)  # BaseLoader builds only str/list/dict
        except yaml.YAMLError:
            continue
        line_no = sp.fm_first_line + i + 1
        owner = key if indent == "" else _owner(fm, i)
        if owner is not None and host_field(owner) is not None and (indent or _nested(value)):
            continue  # a host reads this structure (e.g. Claude Code's hooks): flattening it would break it
        if indent == "" and key == "allowed-tools" and isinstance(value, list):
            fm[i] = f"allowed-tools: {skillmd.render_scalar(' '.join(_flat(value)))}"
            changes.append(f"wrote allowed-tools (line {line_no}) as a space-separated string")
        elif indent == "" and isinstance(value, dict):
            fm[i:i + 1] = [f"{key}:"] + [f"  {_meta_key(k)}: {json.dumps(_as_text(v), ensure_ascii=False)}"
                                         for k, v in value.items()]
            changes.append(f"wrote '{key}' (line {line_no}) as a block mapping")
        elif indent == "" and isinstance(value, list):
            fm[i:i + 1] = [f"{key}:"] + [f"  - {json.dumps(_as_text(v), ensure_ascii=False)}" for v in value]
            changes.append(f"wrote '{key}' (line {line_no}) as a block list")
        elif indent:
            fm[i] = f"{indent}{key}: {json.dumps(_as_text(value), ensure_ascii=False)}"
            changes.append(f"wrote '{key.strip()}' (line {line_no}) as a string")
    if not changes:
        return text, []
    return skillmd._rebuild(text, sp, fm), list(reversed(changes))


def _owner(fm: list[str], i: int) -> str | None:
    """The top-level key whose block holds front-matter line `i`."""
    for j in range(i - 1, -1, -1):
        m = skillmd._TOP_KEY.match(fm[j])
        if m:
            return m.group(1)
    return None


def _nested(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return any(isinstance(v, (dict, list)) for v in items)


def _flat(items: Iterable[Any]) -> list[str]:
    return [_as_text(x) for x in items]


def _as_text(v: Any) -> str:
    """A metadata value as one string: lists joined with ', ', mappings as JSON, scalars as written."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return ", ".join(_as_text(x) for x in v)
    return json.dumps(v, ensure_ascii=False)


def _meta_key(k: Any) -> str:
    k = str(k).strip()
    return k if _META_KEY.match(k) else (re.sub(r"[^A-Za-z0-9_.\-]+", "-", k).strip("-") or "field")


# ------------------------------------------------------------------------------------ fields

def _remove_keeping_comments(text: str, key: str) -> str:
    """Remove top-level `key`'s lines; any '# comment' on them stays behind as a comment line."""
    sp = skillmd.split(text)
    fm = skillmd.fm_lines(sp)
    for k, first, end in _blocks(fm):
        if k == key:
            fm[first:end] = [ln[ln.index("#"):] for ln in fm[first:end] if " #" in ln or ln.lstrip().startswith("#")]
            return skillmd._rebuild(text, sp, fm)
    return text


def _fix_move_to_metadata(text: str) -> tuple[str, list[str]]:
    fmr = read_front_matter(text)
    if fmr.data is None:
        return text, []
    data = fmr.data
    # a field a host runtime reads stays where the host reads it (see hostfields.py)
    unknown = [k for k in data if k not in ALLOWED_FIELDS and host_field(k) is None]
    meta = data.get("metadata")
    if not unknown or ("metadata" in data and not isinstance(meta, dict)):
        return text, []
    existing = dict(meta) if isinstance(meta, dict) else {}
    changes = []
    for key in unknown:
        value = _as_text(data[key])
        moved = _move_to_metadata(text, existing, key, value)
        if moved is None:
            continue  # could not isolate the key's lines safely: leave it for the user
        new, mkey = moved
        changes.append(f"removed top-level '{key}' (metadata.{mkey} already holds the same value)"
                       if mkey in existing else f"moved unknown field '{key}' to metadata.{mkey}")
        text = new
        existing[mkey] = value
    return text, changes


def _move_to_metadata(text: str, existing: dict[str, Any], key: str, value: str) -> tuple[str, str] | None:
    """(text with top-level `key` moved to metadata, the metadata key used), or None when that cannot be
    done safely (the key's lines cannot be isolated, or the result does not read back as `value`)."""
    mkey = _meta_key(key)
    if mkey in existing and _as_text(existing[mkey]) != value:
        n = 2
        while f"{mkey}-{n}" in existing:
            n += 1
        mkey = f"{mkey}-{n}"
    removed = _remove_keeping_comments(text, key)
    check = read_front_matter(removed).data
    if check is None or key in check:
        return None
    new = removed if mkey in existing else skillmd.set_metadata(removed, mkey, value)
    after = read_front_matter(new).data
    if after is None or not isinstance(after.get("metadata"), dict) or _as_text(after["metadata"].get(mkey)) != value:
        return None
    return new, mkey


def _fix_portable_host_fields(text: str) -> tuple[str, list[str]]:
    """Opt-in: host-runtime fields made portable, saying what each stops doing on its host."""
    fmr = read_front_matter(text)
    if fmr.data is None:
        return text, []
    data = fmr.data
    meta = data.get("metadata")
    if "metadata" in data and not isinstance(meta, dict):
        return text, []
    existing = dict(meta) if isinstance(meta, dict) else {}
    changes = []
    for key in [k for k in data if k not in ALLOWED_FIELDS and host_field(k) is not None]:
        hf = host_field(key)
        assert hf is not None
        value = _as_text(data[key])
        desc = data.get("description")
        if key == "when_to_use" and isinstance(desc, str) and desc.strip() and value.strip():
            joined = f"{desc.rstrip()} {value.strip()}"
            if len(joined) <= MAX_DESCRIPTION:
                new = skillmd.set_field(_remove_keeping_comments(text, key), "description", joined)
                check = read_front_matter(new).data
                if check is not None and key not in check and check.get("description") == joined:
                    text = new
                    changes.append(f"appended {hf.host}'s 'when_to_use' to the description (every runtime now "
                                   "sees it)")
                    continue
        moved = _move_to_metadata(text, existing, key, value)
        if moved is None:
            continue
        new, mkey = moved
        changes.append(f"moved {hf.host}'s '{key}' to metadata.{mkey}: {hf.effect}")
        text = new
        existing[mkey] = value
    return text, changes


def host_fields_left(text: str) -> list[str]:
    """One line per host-runtime field that plain --fix leaves at the top level, and why."""
    data = read_front_matter(text).data or {}
    out = []
    for key in data:
        hf = host_field(key) if key not in ALLOWED_FIELDS else None
        if hf is not None:
            out.append(f"'{key}' stays at the top level: {hf.host} reads it there ({hf.does}); under metadata it "
                       "would be ignored. It is not portable (skills-ref refuses it): to trade it away, run "
                       "--fix-id portable-host-fields")
    return out


def _comment_of(text: str, key: str) -> str:
    """The trailing '# …' of `key`'s line when its value is empty (set_field would drop it)."""
    sp = skillmd.split(text)
    for line in skillmd.fm_lines(sp):
        # an empty value, or only a block-scalar header (`|`, `>-`) that holds nothing
        m = re.match(rf"^{re.escape(key)}\s*:\s*(?:[|>][-+0-9]*\s*)?(#.*)$", line)
        if m:
            return m.group(1)
    return ""


def _set_keeping_comment(text: str, key: str, value: str) -> str:
    comment = _comment_of(text, key)
    new = skillmd.set_field(text, key, value)
    if comment and comment not in new:
        sp = skillmd.split(new)
        fm = skillmd.fm_lines(sp)
        for i, line in enumerate(fm):
            if re.match(rf"^{re.escape(key)}\s*:", line):
                fm[i] = f"{line}  {comment}"
                break
        new = skillmd._rebuild(new, sp, fm)
    return new


def _hidden_key(text: str, key_lines: dict[str, int], key: str) -> bool:
    """A `key:` line with words that YAML reads as part of another value (e.g. an unclosed quote above it).

    Setting the key would replace that line and lose the user's words, so such a fix is left to the user.
    """
    if key in key_lines:
        return False
    pattern = re.compile(rf"^{re.escape(key)}\s*:\s*\S")
    return any(pattern.match(ln) for ln in skillmd.fm_lines(skillmd.split(text)))


def _fix_add_description(text: str) -> tuple[str, list[str]]:
    fmr = read_front_matter(text)
    if fmr.data is None:
        return text, []
    desc = fmr.data.get("description")
    if desc is not None and not (isinstance(desc, str) and not desc.strip()):
        return text, []  # non-empty or not a string: only the user can say what it should be
    if desc is None and _hidden_key(text, fmr.key_lines, "description"):
        return text, []
    body = skillmd.split(text).body
    value, source = _derive_description(body)
    return _set_keeping_comment(text, "description", value), [f"added a description from {source}: review it"]


def _fix_normalize_name(text: str, folder: str) -> tuple[str, list[str]]:
    fmr = read_front_matter(text)
    if fmr.data is None:
        return text, []
    name = fmr.data.get("name")
    if name is not None and not isinstance(name, str):
        return text, []  # a list or mapping: the user must decide
    if name is None and _hidden_key(text, fmr.key_lines, "name"):
        return text, []
    current = (name or "").strip()
    new = normalize_name(current) or normalize_name(folder) or "skill"
    if new == name:
        return text, []
    out = _set_keeping_comment(text, "name", new)
    if name is None or not current:
        return out, [f"set name to '{new}' (from the folder name)"]
    return out, [f"normalised name '{current}' to '{new}'"]


def fix_text(text: str, fix_id: str, folder_name: str) -> tuple[str, list[str]]:
    """Apply one fix-it to SKILL.md text; returns the new text and what changed (empty: nothing to do).

    Folder-level fixes (FOLDER_FIXES) return the text unchanged: apply_fixes does them.
    """
    new, changes = _fix_text(text, fix_id, folder_name)
    return new, [" ".join(c.replace("\r", "\n").split("\n")) for c in changes]  # one line each


def _fix_text(text: str, fix_id: str, folder_name: str) -> tuple[str, list[str]]:
    try:
        if fix_id == "frontmatter":
            return _fix_frontmatter(text, folder_name)
        if fix_id == "dashes":
            return _fix_dashes(text)
        if fix_id == "duplicate-keys":
            return _fix_duplicate_keys(text)
        if fix_id == "quote-values":
            return _fix_quote_values(text)
        if fix_id == "block-style":
            return _fix_block_style(text)
        if fix_id == "move-to-metadata":
            return _fix_move_to_metadata(text)
        if fix_id == "add-description":
            return _fix_add_description(text)
        if fix_id == "normalize-name":
            return _fix_normalize_name(text, folder_name)
        if fix_id == "portable-host-fields":
            return _fix_portable_host_fields(text)
    except skillmd.FrontMatterError:
        return text, []
    if fix_id in FOLDER_FIXES:
        return text, []
    raise ValueError(f"unknown fix-it '{fix_id}'; known: {', '.join(FIX_ORDER + OPT_IN_FIXES)}")


def _wanted(text: str, folder: str) -> set[str]:
    fmr = read_front_matter(text)
    wanted = {p.fix for p in spec_problems(fmr, folder) if p.fix}
    if fmr.cut_line:
        wanted.add("dashes")
    first = text.lstrip("\ufeff \t\r\n").split("\n", 1)[0].rstrip()
    if fmr.data is None and first.startswith("---") and first != "---":
        wanted.add("frontmatter")
    return wanted


def fix_all_text(text: str, folder_name: str, only: Iterable[str] | None = None) -> tuple[str, list[str]]:
    """Every applicable text fix, repeated until nothing more changes."""
    allowed = set(only) if only is not None else set(FIX_ORDER)
    changes: list[str] = []
    for _ in range(4):
        progressed = False
        for fix_id in FIX_ORDER + OPT_IN_FIXES:
            if fix_id not in allowed or fix_id in FOLDER_FIXES or fix_id not in _wanted(text, folder_name):
                continue
            new, ch = fix_text(text, fix_id, folder_name)
            if new != text:
                text, progressed = new, True
                changes += ch
        if not progressed:
            break
    return text, changes


def apply_fixes(skill_dir: Path, only: Iterable[str] | None = None) -> FixReport:
    """Fix a skill folder in place: SKILL.md rewritten atomically, folder renamed to the name."""
    skill_dir = Path(skill_dir)
    report = FixReport(new_path=skill_dir)
    md = skill_md_entry(skill_dir) if skill_dir.is_dir() else None
    if md is None:
        report.skipped.append("missing SKILL.md: nothing to fix (create one with `skillstudio new` or the app)")
        return report
    if md.is_symlink():
        # issue 12: a fix that follows the link writes the link's target (anything readable) into the skill
        report.skipped.append(f"{md.name} is {describe(md)}: it is reported, never rewritten; replace the link "
                              "with the file itself, then run --fix again")
        return report
    try:
        text = read_text_file(md)  # never through a link, never a FIFO or device, bounded
    except (UnreadableFile, OSError) as exc:
        report.skipped.append(f"{md.name} is not rewritten: it is {why_unreadable(exc)}")
        return report
    folder = skill_dir.resolve().name
    new, report.changes = fix_all_text(text, folder, only)
    if new != text:
        atomic_write(md, new)
    report.skipped += host_fields_left(new)
    allowed = set(only) if only is not None else set(FIX_ORDER)
    if "rename-folder" in allowed or "normalize-name" in allowed:
        _rename(skill_dir, new, report)
    return report


def _rename(skill_dir: Path, text: str, report: FixReport) -> None:
    fmr = read_front_matter(text)
    name = (fmr.data or {}).get("name")
    if not isinstance(name, str):
        return
    name = unicodedata.normalize("NFKC", name.strip())
    if skill_dir.is_symlink():
        report.skipped.append("folder not renamed: it is a symbolic link (links are never followed by fixes)")
        return
    folder = skill_dir.resolve()
    if unicodedata.normalize("NFKC", folder.name) == name:
        return
    if [p for p in spec_problems(fmr, name) if p.code.startswith("spec.name")]:
        report.skipped.append(f"folder not renamed: the name '{name}' is not valid yet")
        return
    target = folder.with_name(name)
    if target.exists():
        report.skipped.append(f"folder not renamed: '{target.name}' already exists next to it")
        return
    folder.rename(target)
    report.new_path = skill_dir.with_name(name)
    report.changes.append(f"renamed folder '{folder.name}' to '{name}' to match the skill name")
