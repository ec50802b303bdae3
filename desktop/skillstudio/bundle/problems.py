"""A problem found in a skill: what the problems panel lists, `validate --json` prints, fix-its act on.

`code` is a stable identifier (tests and suppressions use it); `fix` names the fix-it that can repair
it (see fixes.py), so the app can show a Fix button and the CLI's --fix knows what to apply.
A plain dataclass, not a pydantic model: importing pydantic was a quarter of a one-skill `validate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "info"]
TARGETS = ("openai", "codex", "claude")


@dataclass
class Problem:
    severity: Severity
    code: str  # e.g. "spec.unknown-field", "lint.no-negative-clause", "target.claude.angle-brackets"
    message: str  # one line: what is wrong and, where it helps, what to do
    file: str = "SKILL.md"  # relative to the skill folder
    line: int | None = None  # 1-based, when known
    target: str | None = None  # openai | codex | claude for platform-specific warnings
    fix: str | None = None  # id of a fix-it that repairs it

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        tgt = f" [{self.target}]" if self.target else ""
        return f"{where}: {self.severity}{tgt}: {self.message}"
