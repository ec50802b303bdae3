"""Each trigger case's last result, for the cases editor: what the last run said about this prompt.

The source is the workspace's last saved run (`services.trigger_runs.load_saved`), then each report a
finished run emits. A case is matched by (prompt, expect) within its skill; a report without any case
of the skill says nothing about it (a run of other skills only), so the editor keeps what it had.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from skillstudio.bundle import skillmd
from skillstudio.bundle.model import find_skill_md
from skillstudio.errors import SkillStudioError

if TYPE_CHECKING:  # the run history and its models load when a run is first shown, not at start-up
    from skillstudio.services.trigger_runs import TriggerReport

_WORDS = {"pass": "✓ pass", "fail": "✗ fail", "error": "! error", "not_run": "– not run",
          "explicit_only": "explicit-only"}


@dataclass(frozen=True)
class LastResult:
    status: str  # pass | fail | error | not_run | explicit_only
    trigger_rate: float | None
    runs: int
    triggered: int
    run_label: str = ""  # which run said so

    def text(self) -> str:
        """`✓ pass 100%`, `✗ fail 20%`, `explicit-only`: the status, and the rate where it was measured."""
        word = _WORDS.get(self.status, self.status)
        if self.trigger_rate is None or self.status not in ("pass", "fail"):
            return word
        return f"{word} {round(self.trigger_rate * 100)}%"

    def tooltip(self) -> str:
        rate = "" if self.trigger_rate is None else f": triggered in {self.triggered} of {self.runs} runs"
        return f"Last run{f' ({self.run_label})' if self.run_label else ''}: {self.status.replace('_', '-')}{rate}"


def short_label(report: TriggerReport) -> str:
    """`2026-11-24 09:12 · gpt-5.4`: when and with what (the Trigger Tests panel has the full label)."""
    when = str(report.started_at or "")[:16].replace("T", " ")
    who = "offline estimate" if report.estimate else report.model
    return " · ".join(x for x in (when, who) if x)


def latest_report(workspace: Path) -> TriggerReport | None:
    """The workspace's last saved run, or None (no history, or one that cannot be read)."""
    from skillstudio.evals.store import RunStore
    from skillstudio.services.trigger_runs import load_saved

    state = workspace / ".skillstudio"
    if not state.is_dir():
        return None
    store = RunStore(state)
    try:
        history = store.list()
        return load_saved(store, history[-1], with_requests=False).report if history else None
    except SkillStudioError:
        return None


def skill_names(skill_dir: Path) -> set[str]:
    """The names a run may use for this skill: its folder and its front matter's `name`."""
    names = {skill_dir.name}
    md = find_skill_md(skill_dir)
    if md is not None:
        try:
            name = skillmd.load_front_matter(md.read_text(encoding="utf-8"))[0].get("name")
        except (OSError, ValueError, SkillStudioError):  # a broken SKILL.md: the folder name still matches
            name = None
        if isinstance(name, str):
            names.add(name)
    return names


def results_for(report: TriggerReport, skill_dir: Path, label: str = "") -> dict[tuple[str, str], LastResult] | None:
    """(prompt, expect) -> result for this skill's cases; None when the report has none of them."""
    names = skill_names(skill_dir)
    out = {(c.prompt, c.expect): LastResult(c.status, c.trigger_rate, c.runs, c.triggered, label)
           for c in report.cases if c.skill in names}
    return out or None
