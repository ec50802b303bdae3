"""Validation: spec errors that agree with `skills-ref`, per-target warnings, and lint.

Errors (severity "error", codes `spec.*`) are exactly the rules of the Agent Skills reference
validator, so a skill we call valid is valid everywhere; the verdict is held to skills-ref's by the
conformance tests. Everything we add on top is a warning or info and never changes validity:
platform limits (`target.*`, with `Problem.target` set) and lint (`lint.*`, `triggers.*`).
Each problem carries a 1-based line where we know it and, where one exists, the id of a fix-it.
"""

from __future__ import annotations

import copy
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import semver

from skillstudio.bundle import openai_yaml
from skillstudio.bundle.fileio import (
    MAX_TEXT_BYTES,
    UnreadableFile,
    describe,
    read_regular,
    read_text_file,
    why_unreadable,
)
from skillstudio.bundle.hostfields import host_field
from skillstudio.bundle.invocation import explicit_only_reasons
from skillstudio.bundle.model import Skill, parse_skill_text
from skillstudio.bundle.problems import TARGETS, Problem
from skillstudio.bundle.specparse import FrontMatterRead, read_front_matter
from skillstudio.bundle.triggers import TRIGGERS_PATH
from skillstudio.errors import EnvironmentProblem

# the spec's limits, as skills-ref enforces them
ALLOWED_FIELDS = ("name", "description", "license", "compatibility", "allowed-tools", "metadata")
MAX_NAME = 64
MAX_DESCRIPTION = 1024
MAX_COMPATIBILITY = 500
# our lint thresholds
TRUNCATED_DESCRIPTION = 250
MAX_BODY_LINES = 500
MAX_BODY_TOKENS = 5000
MIN_NEGATIVE_CASES = 3
DUPLICATE_JACCARD = 0.8

_NEGATIVE_CLAUSE = re.compile(
    r"\b(?:do\s+not|don['’]?t|never|must\s+not|should\s+not)\s+(?:use|invoke|trigger|call|apply)\b"
    r"|\bnot\s+(?:for|when|to\s+be\s+used|intended|meant|designed|suitable)\b"
    r"|\b(?:avoid|instead\s+of|rather\s+than|except\s+(?:for|when)|excluding|out\s+of\s+scope)\b"
    r"|\buse\s+\S+(?:\s+\S+)?\s+instead\b",
    re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "in", "is", "it", "its", "of", "on", "or", "that", "the", "this", "to", "use", "used", "when", "with", "you", "your", "do", "not", "don", "t", "skill", "skills"])


def _p(severity: str, code: str, message: str, line: int | None = None, *, fix: str | None = None,
       target: str | None = None, file: str = "SKILL.md") -> Problem:
    return Problem(severity=severity, code=code, message=message, line=line, fix=fix, target=target,  # type: ignore[arg-type]
                   file=file)


# ------------------------------------------------------------------------------------------ spec

def _spec_name(name: Any, folder: str, line: int | None) -> list[Problem]:
    if not isinstance(name, str) or not name.strip():
        return [_p("error", "spec.name-empty", "'name' must be a non-empty string (lowercase letters, digits, "
                   "hyphens)", line, fix="normalize-name")]
    n = unicodedata.normalize("NFKC", name.strip())
    out = []
    if len(n) > MAX_NAME:
        out.append(_p("error", "spec.name-too-long", f"name is {len(n)} characters; the limit is {MAX_NAME}",
                      line, fix="normalize-name"))
    if n != n.lower():
        out.append(_p("error", "spec.name-case", f"name '{n}' must be lowercase", line, fix="normalize-name"))
    if n.startswith("-") or n.endswith("-"):
        out.append(_p("error", "spec.name-hyphen-edge", f"name '{n}' must not start or end with a hyphen",
                      line, fix="normalize-name"))
    if "--" in n:
        out.append(_p("error", "spec.name-double-hyphen", f"name '{n}' must not contain consecutive hyphens",
                      line, fix="normalize-name"))
    bad = sorted({c for c in n if not (c.isalnum() or c == "-")})
    if bad:
        shown = "".join(bad).replace(" ", "␠")
        out.append(_p("error", "spec.name-chars", f"name '{n}' has invalid characters ({shown}); only letters, "
                      "digits and hyphens are allowed", line, fix="normalize-name"))
    if unicodedata.normalize("NFKC", folder) != n:
        fix = "normalize-name" if out else "rename-folder"
        out.append(_p("error", "spec.name-folder", f"folder '{folder}' must have the same name as the skill "
                      f"('{n}')", line, fix=fix))
    return out


def spec_problems(fmr: FrontMatterRead, folder: str) -> list[Problem]:
    """The spec errors of one SKILL.md, rule for rule as skills-ref checks them."""
    if fmr.data is None:
        fix = fmr.fix
        if fmr.error_code == "spec.not-mapping" and fmr.empty:
            fix = "frontmatter"
        return [_p("error", fmr.error_code or "spec.yaml", fmr.error or "front matter cannot be read",
                   fmr.error_line, fix=fix)]
    data, lines = fmr.data, fmr.key_lines
    out: list[Problem] = []
    for key in data:
        if key not in ALLOWED_FIELDS:
            hf = host_field(key)
            if hf is not None:
                out.append(_p("error", "spec.unknown-field", f"field '{key}' is {hf.host}'s, not the Agent Skills "
                              f"spec's, so skills-ref refuses the skill. {hf.host} reads it here ({hf.does}), so "
                              f"--fix leaves it; the portable fix (--fix-id portable-host-fields) {hf.action}: "
                              f"{hf.effect}", lines.get(key), fix="portable-host-fields"))
                continue
            out.append(_p("error", "spec.unknown-field", f"unknown field '{key}': the spec allows only "
                          f"{', '.join(ALLOWED_FIELDS)}; move it under metadata", lines.get(key),
                          fix="move-to-metadata"))
    if "name" not in data:
        out.append(_p("error", "spec.name-missing", "missing required field 'name'", 2, fix="normalize-name"))
    else:
        out += _spec_name(data["name"], folder, lines.get("name"))
    desc = data.get("description")
    if "description" not in data:
        out.append(_p("error", "spec.description-missing", "missing required field 'description' (what the "
                      "skill does and when to use it)", 2, fix="add-description"))
    elif not isinstance(desc, str) or not desc.strip():
        out.append(_p("error", "spec.description-empty", "'description' must be a non-empty string",
                      lines.get("description"), fix="add-description" if isinstance(desc, str) else None))
    elif len(desc) > MAX_DESCRIPTION:
        out.append(_p("error", "spec.description-too-long", f"description is {len(desc)} characters; the "
                      f"limit is {MAX_DESCRIPTION}", lines.get("description")))
    if "compatibility" in data:
        comp = data["compatibility"]
        if not isinstance(comp, str):
            out.append(_p("error", "spec.compatibility-type", "'compatibility' must be a string",
                          lines.get("compatibility")))
        elif len(comp) > MAX_COMPATIBILITY:
            out.append(_p("error", "spec.compatibility-too-long", f"compatibility is {len(comp)} characters; "
                          f"the limit is {MAX_COMPATIBILITY}", lines.get("compatibility")))
    return out


# --------------------------------------------------------------------------------------- targets

def target_problems(data: dict[str, Any], lines: dict[str, int], targets: Sequence[str]) -> list[Problem]:
    out: list[Problem] = []
    desc = data.get("description")
    desc = desc if isinstance(desc, str) else ""
    if "codex" in targets and "compatibility" in data:
        out.append(_p("warning", "target.codex.compatibility", "Codex's skill validator (skill-creator's "
                      "quick_validate) rejects 'compatibility' and Codex ignores it; say what the skill needs in "
                      "the description or body if Codex users must know", lines.get("compatibility"),
                      target="codex"))
    if "codex" in targets and ("<" in desc or ">" in desc):
        out.append(_p("warning", "target.codex.angle-brackets", "Codex's skill validator rejects '<' and '>' in "
                      "the description; write them out in words", lines.get("description"), target="codex"))
    name = data.get("name")
    if "codex" in targets and isinstance(name, str) and name.strip() and not re.fullmatch(r"[a-z0-9-]+",
                                                                                           name.strip()):
        out.append(_p("warning", "target.codex.name-ascii", "Codex's skill validator accepts only a-z, 0-9 and "
                      "'-' in names", lines.get("name"), target="codex"))
    for key in data:
        hf = host_field(key) if key not in ALLOWED_FIELDS else None
        if hf is None:
            continue
        if "claude" in targets:
            out.append(_p("info", "target.claude.host-field", f"'{key}' is read by {hf.host}: {hf.does}",
                          lines.get(key), target="claude"))
        t = "codex" if "codex" in targets else "openai" if "openai" in targets else None
        if t is not None:  # one warning: what Codex and the OpenAI API do is the same
            out.append(_p("warning", f"target.{t}.host-field", f"'{key}' ({hf.host}: {hf.does}) is not "
                          f"portable: {hf.elsewhere}", lines.get(key), target=t))
    if "claude" in targets and ("<" in desc or ">" in desc):
        out.append(_p("warning", "target.claude.angle-brackets", "Claude's skill validator rejects '<' and '>' "
                      "in the description; write them out in words", lines.get("description"), target="claude"))
    if "claude" in targets:
        name = data.get("name")
        if isinstance(name, str) and re.search(r"anthropic|claude", name, re.IGNORECASE):
            out.append(_p("warning", "target.claude.reserved-name", "Claude refuses skill names containing "
                          "'anthropic' or 'claude'", lines.get("name"), target="claude"))
    if "claude" in targets and len(desc.strip()) > TRUNCATED_DESCRIPTION:
        out.append(_p("warning", "target.claude.description-truncated", f"description is {len(desc.strip())} "
                      f"characters; skill menus show only the first {TRUNCATED_DESCRIPTION}, so put the "
                      "trigger words first", lines.get("description"), target="claude"))
    return out


def codex_metadata_problems(skill: Skill, targets: Sequence[str]) -> list[Problem]:
    """agents/openai.yaml as Codex reads it (warnings for the codex/openai targets; see openai_yaml.py)."""
    target = "codex" if "codex" in targets else "openai" if "openai" in targets else None
    if target is None or not skill.path.is_dir():
        return []
    meta = openai_yaml.read(skill.path)
    if meta is None:
        return []
    return [_p("warning", f"target.{target}.openai-yaml", f.message, f.line, target=target,
               file=openai_yaml.OPENAI_YAML) for f in meta.findings]


# ------------------------------------------------------------------------------------------ lint

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_INLINE_CODE = re.compile(r"`+[^`]*`+")
_INLINE_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def _links(body: str) -> Iterable[tuple[int, str]]:
    """(0-based line in body, target) of Markdown links and images outside code."""
    in_fence = False
    if "](" not in body and "]:" not in body:
        return
    for i, line in enumerate(body.split("\n")):
        if ("```" in line or "~~~" in line) and _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or ("](" not in line and "]:" not in line):
            continue
        plain = _INLINE_CODE.sub("", line) if "`" in line else line
        for m in _INLINE_LINK.finditer(plain):
            yield i, m.group(1)
        ref = _REF_DEF.match(plain)
        if ref:
            yield i, ref.group(1)


def link_problems(skill: Skill) -> list[Problem]:
    out: list[Problem] = []
    links = list(_links(skill.body))
    if not links:
        return out
    known = {f.rel_path for f in skill.files} | {"SKILL.md", "skill.md"}
    dirs = {f.rsplit("/", 1)[0] for f in known if "/" in f}
    for i, target in links:
        t = target[1:-1] if target.startswith("<") and target.endswith(">") else target
        if not t or t.startswith(("#", "//")) or _SCHEME.match(t):
            continue
        t = unquote(t.split("#", 1)[0].split("?", 1)[0])
        if not t:
            continue
        line = skill.body_first_line + i + 1
        if t.startswith("/") or os.path.isabs(t):
            out.append(_p("warning", "lint.link-outside", f"link '{target}' is an absolute path; bundles move, "
                          "so link relative to SKILL.md", line))
            continue
        rel = os.path.normpath(t).replace(os.sep, "/")
        if rel == ".." or rel.startswith("../"):
            out.append(_p("warning", "lint.link-outside", f"link '{target}' points outside the skill folder; "
                          "it will not be there when the bundle is shipped", line))
            continue
        if rel in known or rel in dirs or (rel == "." or (skill.path / rel).exists()):
            continue
        out.append(_p("warning", "lint.broken-link", f"link '{target}' points to a file that is not in the "
                      "bundle", line))
    return out


def _body_problems(skill: Skill) -> list[Problem]:
    out: list[Problem] = []
    n_lines = skill.body.count("\n") + 1 if skill.body else 0
    if n_lines > MAX_BODY_LINES:
        out.append(_p("warning", "lint.body-long", f"body is {n_lines} lines; keep it under {MAX_BODY_LINES} and "
                      "move detail into references/ files the skill links to", skill.body_first_line + 1))
    n_tokens = 0
    # Every token covers at least one UTF-8 byte, so a body of at most MAX_BODY_TOKENS bytes cannot break
    # the rule: the vocabulary (~0.3 s, ~78 MiB to load) is only loaded for a body that might. The other
    # bound is no use: o200k's longest token is 128 bytes, so only a body over 640,000 bytes is sure to
    # break the rule without counting; everything in between must be counted.
    if len(skill.body) > MAX_BODY_TOKENS and len(skill.body.encode("utf-8", "surrogatepass")) > MAX_BODY_TOKENS:
        try:
            from skillstudio.bundle.tokens import count

            n_tokens = count(skill.body)
        except EnvironmentProblem:
            n_tokens = 0  # no vocabulary: the token rule cannot be checked; the tokens command says why
    if n_tokens > MAX_BODY_TOKENS:
        out.append(_p("warning", "lint.body-tokens", f"body is {n_tokens:,} tokens; keep it under "
                      f"{MAX_BODY_TOKENS:,} (it is loaded whole whenever the skill triggers)",
                      skill.body_first_line + 1))
    return out


def lint_problems(skill: Skill, data: dict[str, Any], lines: dict[str, int]) -> list[Problem]:
    out: list[Problem] = []
    desc = data.get("description")
    if isinstance(desc, str) and desc.strip() and not _NEGATIVE_CLAUSE.search(desc):
        out.append(_p("warning", "lint.no-negative-clause", "description does not say when NOT to use the skill "
                      "(add e.g. \"Do not use for …\") so neighbouring skills do not steal its prompts",
                      lines.get("description")))
    meta = data.get("metadata")
    version = meta.get("version") if isinstance(meta, dict) else None
    if not data:
        pass  # front matter unreadable: the spec error says so; nothing to lint in it
    elif version is None:
        out.append(_p("info", "lint.no-version", "no metadata.version; add a semver version (e.g. \"0.1.0\") "
                      "so releases can be pinned", lines.get("metadata")))
    elif not (isinstance(version, str) and semver.Version.is_valid(version.strip().removeprefix("v"))):
        out.append(_p("warning", "lint.version-semver", f"metadata.version '{version}' is not semantic "
                      "versioning (MAJOR.MINOR.PATCH, e.g. 1.2.0)", lines.get("metadata")))
    out += _body_problems(skill)
    out += link_problems(skill)
    out += _trigger_problems(skill)
    return out


def _trigger_problems(skill: Skill) -> list[Problem]:
    tfile = TRIGGERS_PATH.as_posix()
    if skill.cases_error:
        # our own file, not the spec's: an error all the same (issue 11), as `skillstudio test` refuses to run
        # it. Real-world skills without our triggers.yaml are unaffected, so validity still agrees with skills-ref.
        m = re.search(r"line (\d+)", skill.cases_error)
        msg = skill.cases_error.removeprefix(f"{tfile}: ")
        msg = re.sub(r" \(line \d+\)", "", msg)
        return [_p("error", "triggers.invalid", f"{msg} (trigger cases cannot be run until this is fixed)",
                   int(m.group(1)) if m else None, file=tfile)]
    tpath = TRIGGERS_PATH.as_posix()
    if not any(f.rel_path == tpath for f in skill.files) and not (skill.path / TRIGGERS_PATH).exists():
        return [_p("warning", "lint.no-trigger-cases", f"no {tfile}: add trigger and no_trigger cases so the "
                   "skill's routing can be tested", None, file=tfile)]
    out: list[Problem] = []
    neg = sum(1 for c in skill.cases if c.expect == "no_trigger")
    if neg < MIN_NEGATIVE_CASES:
        out.append(_p("warning", "lint.few-negative-cases", f"only {neg} no_trigger case(s); add at least "
                      f"{MIN_NEGATIVE_CASES} near misses (prompts that belong to other skills)", None, file=tfile))
    pos = sum(1 for c in skill.cases if c.expect == "trigger")
    reasons = explicit_only_reasons(skill) if pos else []
    if reasons:
        out.append(_p("warning", "lint.explicit-only-trigger-cases", f"the skill is explicit-only "
                      f"({'; '.join(reasons)}), so no model picks it by itself: its {pos} trigger case(s) are "
                      "reported as explicit-only, not tested. Keep no_trigger cases, or drop the declaration if "
                      "the model should choose it", None, file=tfile))
    return out


# ------------------------------------------------------------------------------------- workspace

def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS and len(w) > 1)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


class WorkspaceContext:
    """What validating one skill needs to know about the others: the catalog size, who overlaps whom.

    Near-duplicates are found with the AllPairs prefix filter (index only the rarest words of each
    description), so a 1,000-skill workspace costs milliseconds, not a million comparisons.
    """

    def __init__(self, skills: Sequence[Skill], threshold: float = DUPLICATE_JACCARD) -> None:
        self.threshold = threshold
        self.skills = list(skills)
        self.catalog_chars = sum(len(s.name) + len(s.description) for s in self.skills)
        self._words = {id(s): _words(s.description) for s in self.skills}
        self._dups: dict[int, list[tuple[Skill, float]]] = {}
        self._names: frozenset[str] | None = None
        self._find_duplicates()

    def _find_duplicates(self) -> None:
        freq: dict[str, int] = {}
        for ws in self._words.values():
            for w in ws:
                freq[w] = freq.get(w, 0) + 1
        index: dict[str, list[int]] = {}
        order = sorted(range(len(self.skills)), key=lambda i: len(self._words[id(self.skills[i])]))
        t = self.threshold
        for i in order:
            s = self.skills[i]
            ranked = sorted(self._words[id(s)], key=lambda w: (freq[w], w))
            if not ranked:
                continue
            prefix = len(ranked) - int(t * len(ranked) + 1e-9) + 1
            cands: set[int] = set()
            for w in ranked[:prefix]:
                cands.update(index.get(w, ()))
            mine = self._words[id(s)]
            min_len = t * len(mine)
            for j in cands:
                o = self.skills[j]
                theirs = self._words[id(o)]
                if len(theirs) < min_len:  # size filter: too small to reach the threshold
                    continue
                score = jaccard(mine, theirs)
                if score >= t:
                    self._dups.setdefault(id(s), []).append((o, score))
                    self._dups.setdefault(id(o), []).append((s, score))
            for w in ranked[:prefix]:
                index.setdefault(w, []).append(i)

    def names(self) -> frozenset[str]:
        if self._names is None:
            self._names = frozenset(s.name for s in self.skills)
        return self._names

    def duplicates_of(self, skill: Skill) -> list[tuple[Skill, float]]:
        """Other skills whose descriptions are near-duplicates of this one's (works for an edited copy too)."""
        if id(skill) in self._words:
            return self._dups.get(id(skill), [])
        mine = _words(skill.description)
        out = []
        for o in self.skills:
            if o.path == skill.path:
                continue
            score = jaccard(mine, self._words[id(o)])
            if score >= self.threshold:
                out.append((o, score))
        return out

    def catalog_chars_with(self, skill: Skill) -> int:
        """Catalog size with `skill` standing in for the workspace's copy of it (live editing)."""
        if id(skill) in self._words:
            return self.catalog_chars
        same = [o for o in self.skills if o.path == skill.path]
        return self.catalog_chars - sum(len(o.name) + len(o.description) for o in same) + \
            len(skill.name) + len(skill.description)


def workspace_problems(skill: Skill, ctx: WorkspaceContext, targets: Sequence[str]) -> list[Problem]:
    from skillstudio.bundle.tokens import CODEX_BUDGET_CHARS

    out: list[Problem] = []
    for other, score in ctx.duplicates_of(skill):
        out.append(_p("warning", "lint.duplicate-description", f"description is a near-duplicate of "
                      f"'{other.name}' ({score:.0%} of the words shared): the two will compete for the same "
                      "prompts; say what sets each apart"))
    names = ctx.names()
    for i, case in enumerate(skill.cases):
        route = case.route_to
        if route is None or route == "none":
            continue
        if route == skill.name:
            out.append(_p("warning", "triggers.route-self", f"case {i + 1} routes to this skill itself; route_to "
                          "names the skill a near miss belongs to instead (or none)", file=TRIGGERS_PATH.as_posix()))
        elif route not in names:
            out.append(_p("warning", "triggers.route-unknown", f"case {i + 1}: route_to '{route}' is not a skill of "
                          "this workspace, so the miss cannot be scored as misrouted", file=TRIGGERS_PATH.as_posix()))
    chars = ctx.catalog_chars_with(skill)
    if "codex" in targets and chars > CODEX_BUDGET_CHARS:
        out.append(_p("warning", "target.codex.catalog-budget", f"the workspace's skill list is {chars:,} "
                      f"characters; Codex keeps only ~{CODEX_BUDGET_CHARS:,} (about 2% of the context), so some "
                      "descriptions will be cut: shorten them", target="codex"))
    return out


# ------------------------------------------------------------------------------------------- API

def _skill_text(skill: Skill) -> str | Problem:
    """The SKILL.md text to judge, or the one error that says what the file is and why it is not read.

    A file the loader refused as text (binary, not UTF-8) is read again here, bounded, so the spec
    verdict stays skills-ref's; a link, a FIFO or device, or a file over the text limit is never read.
    """
    md = skill.skill_md
    if md is None:
        return _p("error", "spec.missing-skill-md", "missing SKILL.md", None, fix=None)
    try:
        st = os.lstat(md)
    except OSError as exc:
        return _p("error", "spec.unreadable", f"cannot read {md.name}: {exc.strerror or exc}")
    if stat.S_ISLNK(st.st_mode) and not skill.text:
        what = describe(md, root=skill.path) or describe(md)
        return _p("error", "file.skill-md-link", f"{md.name} is {what}: it was not read. A bundle must "
                  "carry its own SKILL.md: replace the link with the file itself")
    if not stat.S_ISLNK(st.st_mode) and not stat.S_ISREG(st.st_mode):
        return _p("error", "file.skill-md-special", f"{md.name} is {describe(md)}; make it a plain text file")
    if not stat.S_ISLNK(st.st_mode) and st.st_size > MAX_TEXT_BYTES:
        return _p("error", "file.skill-md-too-large", f"{md.name} is {st.st_size / 1e6:.1f} MB, over the "
                  f"{MAX_TEXT_BYTES // 1_000_000} MB Skill Studio reads, so it was not checked; a runtime loads the "
                  "whole body into the model's context when the skill triggers: move the bulk into references/")
    if skill.text or not (skill.parse_error or "").startswith("cannot read"):
        return skill.text
    try:
        raw = read_regular(md, MAX_TEXT_BYTES)
    except (UnreadableFile, OSError) as exc:
        return _p("error", "spec.unreadable", f"cannot read {md.name}: it is {why_unreadable(exc)}")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _p("error", "spec.not-utf8", f"{md.name} is not valid UTF-8 (byte {exc.start}); "
                  "save it as UTF-8", 1 + raw[: exc.start].count(b"\n"))


def _link_warning(skill: Skill) -> list[Problem]:
    md = skill.skill_md
    if md is None or not md.is_symlink():
        return []
    return [_p("warning", "file.skill-md-link", f"{md.name} is a symbolic link to {os.readlink(md)} here (it was "
               "read through the link); pack refuses links and --fix never rewrites through one: replace it with "
               "the file itself")]


_FLOW_LINE = re.compile(r"^(\s*)([^\s#:][^:]*?)\s*:\s+([\[{].*)$")


def _flow_style_message(p: Problem, text: str) -> None:
    """strictyaml says "Found ugly disallowed JSONesque flow mapping": say what that means and what to write."""
    lines = text.replace("\r\n", "\n").split("\n")
    line = lines[p.line - 1] if p.line and 0 < p.line <= len(lines) else ""
    m = _FLOW_LINE.match(line)
    head = ("is YAML flow style ([...] or {...}). It is valid YAML, but the reference validator skills-ref reads "
            "front matter with strict YAML, which refuses flow style, so the skill is invalid there")
    if not m:
        p.message = (f"a value {head}. Write it in block style: one '  key: value' or '  - item' line per entry "
                     "(--fix does it)")
        return
    indent, key, flow = m.groups()
    shown = f"{key.strip()}: {flow.strip()}"
    items = [x.strip().strip("'\"") for x in flow.strip()[1:-1].split(",") if x.strip()]
    if key.strip() == "allowed-tools" and not indent and flow.startswith("["):
        how = f"allowed-tools: {' '.join(items)}" if items else "allowed-tools: Read Grep"
        advice = f"write it as a space-separated string: '{how}'"
    elif flow.startswith("{"):
        advice = f"write it in block style: '{key.strip()}:' then one indented 'key: value' line per entry"
    else:
        advice = f"write it in block style: '{key.strip()}:' then one indented '- item' line per item"
    p.message = f"'{shown}' {head}; {advice} (--fix does it)"


def validate_skill(skill: Skill, *, targets: Sequence[str] = TARGETS,
                   workspace: WorkspaceContext | Sequence[Skill] | Any | None = None) -> list[Problem]:
    """Every problem of one skill, errors first. `workspace` (a Workspace, its skills, or a context)
    enables the catalog-wide checks (near-duplicate descriptions, Codex's catalog budget)."""
    targets = tuple(t for t in targets if t in TARGETS)
    text = _skill_text(skill)
    if isinstance(text, Problem):
        return [text]
    fmr = read_front_matter(text)
    problems = spec_problems(fmr, skill.path.resolve().name if skill.path.name in ("", ".", "..") else skill.path.name)
    for p in problems:
        if p.code == "spec.yaml" and p.fix == "block-style":
            _flow_style_message(p, text)
    problems += _link_warning(skill)
    if fmr.cut_line:
        problems.append(_p("warning", "lint.frontmatter-cut", f"'---' inside line {fmr.cut_line} ends the front "
                           "matter there for skills-ref and other runtimes; the rest is read as body. Write "
                           "it as '—'", fmr.cut_line, fix="dashes"))
    data = fmr.data or {}
    problems += target_problems(data, fmr.key_lines, targets)
    problems += codex_metadata_problems(skill, targets)
    problems += lint_problems(skill, data, fmr.key_lines)
    ctx = workspace_context(workspace)
    if ctx is not None:
        problems += workspace_problems(skill, ctx, targets)
    if skill.skill_md is not None and skill.skill_md.name != "SKILL.md":
        for p in problems:
            if p.file == "SKILL.md":
                p.file = skill.skill_md.name
    order = {"error": 0, "warning": 1, "info": 2}
    problems.sort(key=lambda p: (order[p.severity], p.file.startswith("evals/"), p.line or 0))
    return problems


def workspace_context(workspace: Any) -> WorkspaceContext | None:
    if workspace is None or isinstance(workspace, WorkspaceContext):
        return workspace
    skills = getattr(workspace, "skills", workspace)
    return WorkspaceContext(list(skills))


def validate_workspace(skills: Sequence[Skill], *, targets: Sequence[str] = TARGETS) -> list[list[Problem]]:
    """Problems of every skill, with the workspace-wide checks computed once."""
    ctx = WorkspaceContext(skills)
    return [validate_skill(s, targets=targets, workspace=ctx) for s in skills]


def validate_text(skill_dir: Path | Skill, text: str, workspace: Any = None, *,
                  targets: Sequence[str] = TARGETS) -> list[Problem]:
    """Problems of SKILL.md `text` as the editor holds it, without saving (the live problems panel)."""
    if isinstance(skill_dir, Skill):
        skill = copy.copy(skill_dir)
    else:
        from skillstudio.bundle.model import load_skill

        skill = load_skill(Path(skill_dir))
    if skill.skill_md is None:
        skill.skill_md = skill.path / "SKILL.md"
    parse_skill_text(skill, text)
    return validate_skill(skill, targets=targets, workspace=workspace)


def is_valid(problems: Iterable[Problem]) -> bool:
    return not any(p.severity == "error" for p in problems)


def read_skill_md(path: Path) -> str:
    """SKILL.md text for fix-its (errors as ValueError with a one-line message)."""
    return read_text_file(path)
