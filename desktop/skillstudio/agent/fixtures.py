"""Turning a run into tests: a trigger case, or a regression fixture that replays its shell calls.

A trigger case appends the run's prompt to a skill's `evals/triggers.yaml` (expect `trigger` when the
run loaded that skill, else `no_trigger`), keeping the file's comments and layout: the new item is
appended as text and the result re-parsed; if that cannot be done safely nothing is written.
A regression fixture (`.skillstudio/fixtures/<name>.json`) keeps the prompt, the skills' digests
and every shell call with its outputs; `replay` runs the same commands in the sandbox again — no
model needed — and reports every command whose exit code or stdout changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillstudio.bundle.fileio import atomic_write
from skillstudio.bundle.triggers import TRIGGERS_PATH, TriggerCase, TriggersError, dump_cases, parse_cases
from skillstudio.errors import SkillStudioError

FIXTURES_DIR = Path(".skillstudio") / "fixtures"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")


def save_trigger_case(workspace: Path, doc: dict[str, Any], skill: str, *, expect: str | None = None,
                      why: str | None = None) -> TriggerCase:
    """Append the run's prompt as a case of `skill`; returns the case written."""
    folder = Path(workspace) / skill
    if not (folder / "SKILL.md").is_file() and not (folder / "skill.md").is_file():
        raise SkillStudioError(f"no skill {skill!r} in {workspace}", "give the name of a skill of this workspace")
    expect = expect or ("trigger" if skill in (doc.get("skills_loaded") or []) else "no_trigger")
    case = TriggerCase(prompt=str(doc.get("prompt") or ""), expect=expect, why=why)  # type: ignore[arg-type]
    if not case.prompt.strip():
        raise SkillStudioError("the run has no prompt", "pick a saved run of `skillstudio run`")
    path = folder / TRIGGERS_PATH
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        cases = parse_cases(text, str(path)) if text.strip() else []
    except TriggersError as exc:
        raise SkillStudioError(f"{path} is broken: {exc}", "fix it first (skillstudio validate shows where)") from None
    if any(c.prompt.strip() == case.prompt.strip() for c in cases):
        raise SkillStudioError(f"{skill} already has a case with this prompt", "edit it in evals/triggers.yaml")
    new_text = _appended(text, case) if cases else dump_cases([case])
    try:
        ok = parse_cases(new_text, str(path)) == [*cases, case]
    except TriggersError:
        ok = False
    if not ok:
        raise SkillStudioError(f"cannot append to {path} without rewriting it", "add the case by hand or in the app")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, new_text)
    return case


def _appended(text: str, case: TriggerCase) -> str:
    """The file with one more list item, indented like the existing ones (comments untouched)."""
    m = re.search(r"^(\s*)-\s+prompt\s*:", text, re.M)
    indent = m.group(1) if m else "  "
    item = dump_cases([case]).split("\n", 1)[1]  # drop the "cases:" line
    item_lines = [ln for ln in item.splitlines() if ln.strip()]
    base = len(item_lines[0]) - len(item_lines[0].lstrip())
    body = "\n".join(indent + ln[base:] for ln in item_lines) + "\n"
    newline = "\r\n" if "\r\n" in text else "\n"
    if newline != "\n":
        body = body.replace("\n", newline)
    return text + ("" if text.endswith(("\n", "\r")) else newline) + body


# ----------------------------------------------------------------------------- regression fixtures

def save_fixture(workspace: Path, doc: dict[str, Any], name: str) -> Path:
    if not _NAME_RE.match(name):
        raise SkillStudioError(f"bad fixture name {name!r}", "use letters, digits, '.', '_' and '-'")
    calls: list[dict[str, Any]] = []
    for item in doc.get("items") or []:
        if item.get("type") == "shell_call" and not item.get("remote"):
            calls.append({"call_id": item.get("call_id"), "commands": list(item.get("commands") or []), "outputs": []})
        elif item.get("type") == "shell_call_output" and calls and not item.get("remote"):
            calls[-1]["outputs"] = [{k: o.get(k) for k in ("command", "stdout", "stderr", "exit_code", "timed_out")}
                                    for o in item.get("outputs") or []]
    if not calls:
        raise SkillStudioError("the run has no local shell calls to replay", "pick a local run that ran commands")
    fixture = {"fixture": name, "from_run": doc.get("run_id"), "prompt": doc.get("prompt"),
               "skills": doc.get("skills") or [], "calls": calls, "final": doc.get("final")}
    path = Path(workspace) / FIXTURES_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(fixture, indent=2, ensure_ascii=False) + "\n")
    return path


@dataclass
class Mismatch:
    command: str
    field: str  # "exit_code" | "stdout" | "timed_out"
    expected: Any
    got: Any

    def line(self) -> str:
        exp, got = (repr(self.expected)[:120], repr(self.got)[:120])
        return f"{self.command[:100]}: {self.field} was {exp}, now {got}"


def replay(fixture_path: Path, shell: Any) -> list[Mismatch]:
    """Run the fixture's commands again through `shell` (a ShellRunner); empty list = unchanged."""
    try:
        fixture = json.loads(Path(fixture_path).read_text(encoding="utf-8"))
        calls = fixture["calls"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SkillStudioError(f"cannot read fixture {fixture_path}: {exc}", "save it again from a run") from None
    out: list[Mismatch] = []
    for call in calls:
        results = shell.run_call(call["commands"])
        for want, got in zip(call["outputs"], results, strict=False):
            for fld in ("exit_code", "timed_out", "stdout"):
                if want.get(fld) is not None and want.get(fld) != getattr(got, fld):
                    out.append(Mismatch(got.command, fld, want.get(fld), getattr(got, fld)))
        if len(results) < len(call["outputs"]):
            out.append(Mismatch(" && ".join(call["commands"]), "commands run", len(call["outputs"]), len(results)))
    return out

