"""Codex's `agents/openai.yaml`: UI metadata, invocation policy and tool dependencies of a skill.

Read the way Codex reads it (openai/codex `core/src/skills/loader.rs`): the file is optional and
"fails open" — if it is not valid YAML, or a value has the wrong type, Codex ignores the *whole
file* (so a broken `policy` silently makes a guarded skill implicit again); a value that is too
long, an icon outside `assets/` or a colour that is not `#RRGGBB` is dropped on its own. We report
each of these as a warning for the `codex` / `openai` targets, and check what Codex does not:
icons exist inside the skill (no link leaving it), unknown keys (typos Codex would ignore).

Schema (as of Codex's loader and OpenAI's skill-creator reference):
    interface: {display_name, short_description, icon_small, icon_large, brand_color, default_prompt}
    policy: {allow_implicit_invocation: bool}
    dependencies: {tools: [{type: mcp, value, description, transport, command, url}]}
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from skillstudio.bundle import safeyaml
from skillstudio.bundle.fileio import UnreadableFile, read_text_file, why_unreadable

OPENAI_YAML = "agents/openai.yaml"
MAX_BYTES = 64 * 1024
MAX_NAME_LEN = 64
MAX_TEXT_LEN = 1024
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
INTERFACE_FIELDS = ("display_name", "short_description", "icon_small", "icon_large", "brand_color", "default_prompt")
TOOL_FIELDS = ("type", "value", "description", "transport", "command", "url")
_TEXT_LIMITS = {"display_name": MAX_NAME_LEN, "short_description": MAX_TEXT_LEN, "default_prompt": MAX_TEXT_LEN}
_TOOL_LIMITS = {"type": MAX_NAME_LEN, "transport": MAX_NAME_LEN, "value": MAX_TEXT_LEN, "description": MAX_TEXT_LEN,
                "command": MAX_TEXT_LEN, "url": MAX_TEXT_LEN}


@dataclass
class Finding:
    message: str
    line: int | None = None
    ignored_whole_file: bool = False  # Codex drops the file entirely because of this


@dataclass
class CodexMetadata:
    """What Codex takes from agents/openai.yaml (None fields: absent or dropped), and why not."""

    present: bool = False
    display_name: str | None = None
    short_description: str | None = None
    icon_small: str | None = None
    icon_large: str | None = None
    brand_color: str | None = None
    default_prompt: str | None = None
    allow_implicit_invocation: bool | None = None  # None: not set (Codex's default is true)
    tools: list[dict[str, str]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    usable: bool = True  # False when Codex ignores the whole file


def _line_of(text: str, key: str) -> int | None:
    m = re.search(rf"(?m)^\s*{re.escape(key)}\s*:", text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _single_line(v: str) -> str:
    return " ".join(v.split())


def _icon(skill_dir: Path, key: str, value: str, line: int | None, out: CodexMetadata) -> str | None:
    p = PurePosixPath(value.replace("\\", "/"))
    if p.is_absolute() or re.match(r"^[A-Za-z]:", value):
        out.findings.append(Finding(f"interface.{key} '{value}' is an absolute path; Codex ignores it (write "
                                    "'./assets/<file>')", line))
        return None
    parts = [x for x in p.parts if x != "."]
    if ".." in parts:
        out.findings.append(Finding(f"interface.{key} '{value}' contains '..'; Codex ignores it", line))
        return None
    if not parts or parts[0] != "assets":
        out.findings.append(Finding(f"interface.{key} '{value}' is not under assets/; Codex ignores icons "
                                    "elsewhere (move it to assets/)", line))
        return None
    cur = skill_dir
    for part in parts:
        cur = cur / part
        if cur.is_symlink():
            out.findings.append(Finding(f"interface.{key}: {cur.relative_to(skill_dir).as_posix()} is a symbolic "
                                        "link; bundles carry no links, so the icon will be missing", line))
            return None
    if not cur.is_file():
        out.findings.append(Finding(f"interface.{key}: '{value}' does not exist in the skill", line))
        return None
    return "/".join(parts)


def _strings(section: dict[str, Any], name: str, text: str, out: CodexMetadata) -> dict[str, str] | None:
    """The string fields of a section; a wrong type drops the whole file (serde fails the parse)."""
    got: dict[str, str] = {}
    for k, v in section.items():
        if v is None:
            continue
        if not isinstance(v, str):
            out.findings.append(Finding(f"{name}.{k} must be a string (quote it), not {type(v).__name__}: Codex "
                                        f"ignores the whole {OPENAI_YAML}", _line_of(text, k), True))
            return None
        got[k] = v
    return got


def parse(text: str, skill_dir: Path) -> CodexMetadata:
    """Check openai.yaml `text` of the skill in `skill_dir` as Codex would load it."""
    out = CodexMetadata(present=True)
    try:
        data = safeyaml.safe_load(text)
    except yaml.YAMLError as exc:
        what, line = safeyaml.problem(exc)
        out.findings.append(Finding(f"invalid YAML: {what}; Codex ignores the whole file", line, True))
        out.usable = False
        return out
    if data is None:
        return out
    if not isinstance(data, dict):
        out.findings.append(Finding("must be a YAML mapping (interface:, policy:, dependencies:); Codex ignores "
                                    "the whole file", 1, True))
        out.usable = False
        return out
    for k in data:
        if k not in ("interface", "policy", "dependencies"):
            out.findings.append(Finding(f"unknown key '{k}' (Codex reads interface, policy and dependencies; it "
                                        "ignores this one)", _line_of(text, str(k))))
    iface = data.get("interface")
    if iface is not None and not isinstance(iface, dict):
        out.findings.append(Finding("interface must be a mapping; Codex ignores the whole file",
                                    _line_of(text, "interface"), True))
    elif isinstance(iface, dict):
        for k in iface:
            if k not in INTERFACE_FIELDS:
                out.findings.append(Finding(f"unknown key interface.{k} (known: {', '.join(INTERFACE_FIELDS)}); "
                                            "Codex ignores it", _line_of(text, str(k))))
        vals = _strings({k: v for k, v in iface.items() if k in INTERFACE_FIELDS}, "interface", text, out)
        if vals is not None:
            for k, v in vals.items():
                line = _line_of(text, k)
                if k in _TEXT_LIMITS:
                    s = _single_line(v)
                    if not s:
                        out.findings.append(Finding(f"interface.{k} is empty; Codex ignores it", line))
                    elif len(s) > _TEXT_LIMITS[k]:
                        out.findings.append(Finding(f"interface.{k} is {len(s)} characters; Codex ignores it over "
                                                    f"{_TEXT_LIMITS[k]}", line))
                    else:
                        setattr(out, k, s)
                elif k == "brand_color":
                    if _COLOR.match(v.strip()):
                        out.brand_color = v.strip()
                    else:
                        out.findings.append(Finding(f"interface.brand_color '{v}' is not a #RRGGBB colour; Codex "
                                                    "ignores it", line))
                elif k in ("icon_small", "icon_large") and v.strip():
                    setattr(out, k, _icon(skill_dir, k, v.strip(), line, out))
    policy = data.get("policy")
    if policy is not None and not isinstance(policy, dict):
        out.findings.append(Finding("policy must be a mapping; Codex ignores the whole file",
                                    _line_of(text, "policy"), True))
    elif isinstance(policy, dict):
        for k, v in policy.items():
            line = _line_of(text, str(k))
            if k != "allow_implicit_invocation":
                out.findings.append(Finding(f"unknown key policy.{k} (known: allow_implicit_invocation); Codex "
                                            "ignores it", line))
            elif v is not None and not isinstance(v, bool):
                out.findings.append(Finding(f"policy.allow_implicit_invocation must be true or false (unquoted), not "
                                            f"{v!r}: Codex ignores the whole file, so the skill stays implicitly "
                                            "invocable", line, True))
            else:
                out.allow_implicit_invocation = v
    deps = data.get("dependencies")
    if deps is not None and not isinstance(deps, dict):
        out.findings.append(Finding("dependencies must be a mapping with a 'tools' list; Codex ignores the whole "
                                    "file", _line_of(text, "dependencies"), True))
    elif isinstance(deps, dict):
        tools = deps.get("tools")
        if tools is not None and not isinstance(tools, list):
            out.findings.append(Finding("dependencies.tools must be a list; Codex ignores the whole file",
                                        _line_of(text, "tools"), True))
        for i, tool in enumerate(tools or []):
            where = f"dependencies.tools[{i + 1}]"
            if not isinstance(tool, dict):
                out.findings.append(Finding(f"{where} must be a mapping (type, value, …); Codex ignores the whole "
                                            "file", _line_of(text, "tools"), True))
                continue
            vals = _strings({k: v for k, v in tool.items() if k in TOOL_FIELDS}, where, text, out)
            for k in tool:
                if k not in TOOL_FIELDS:
                    out.findings.append(Finding(f"unknown key {where}.{k} (known: {', '.join(TOOL_FIELDS)})",
                                                _line_of(text, str(k))))
            if vals is None:
                continue
            missing = [k for k in ("type", "value") if not _single_line(vals.get(k, ""))]
            if missing:
                out.findings.append(Finding(f"{where} has no {' or '.join(missing)}; Codex skips this dependency",
                                            _line_of(text, "tools")))
                continue
            long = [k for k, v in vals.items() if len(_single_line(v)) > _TOOL_LIMITS[k]]
            if long:
                out.findings.append(Finding(f"{where}.{long[0]} is longer than {_TOOL_LIMITS[long[0]]} characters; "
                                            "Codex drops it", _line_of(text, long[0])))
            if vals["type"].strip() != "mcp":
                out.findings.append(Finding(f"{where}.type '{vals['type']}': only 'mcp' dependencies are supported",
                                            _line_of(text, "type")))
            out.tools.append({k: _single_line(v) for k, v in vals.items()})
    out.usable = not any(f.ignored_whole_file for f in out.findings)
    if not out.usable:
        out.allow_implicit_invocation = None
    return out


def read(skill_dir: Path) -> CodexMetadata | None:
    """agents/openai.yaml of a skill folder, checked; None when the skill has none."""
    skill_dir = Path(skill_dir)
    path = skill_dir / OPENAI_YAML
    if not os.path.lexists(path):
        return None
    try:
        text = read_text_file(path, MAX_BYTES, root=skill_dir)
    except (UnreadableFile, OSError) as exc:
        return CodexMetadata(present=True, usable=False,
                             findings=[Finding(f"not read: it is {why_unreadable(exc)}", None, True)])
    return parse(text, skill_dir)
