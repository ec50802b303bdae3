"""The transcript of one agent run: what CONTRACT's `run --json` prints, plus what an auditor needs.

The CONTRACT part (`final`, `skills_loaded`, `items` of shell_call / shell_call_output / message,
`usage`, `compactions` as a count) comes first; extra fields follow (run id, model, routing, the
skills' versions and digests, the policy, events with timings, compaction details, outcome,
"secret exposed" flags). Every string is redacted as it is added and again when saved, so no secret
value reaches `.skillstudio/runs/agent/`. Saved atomically as JSON; exportable as Markdown.
"""

from __future__ import annotations

import json
import secrets as _random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from skillstudio.bundle.fileio import atomic_write
from skillstudio.bundle.statedir import ensure_state_dir

RUNS_DIR = Path(".skillstudio") / "runs" / "agent"  # beside (not among) the trigger-test runs in runs/


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S") + "-" + _random.token_hex(3)


def redact_value(value: Any, redactor: Any | None) -> Any:
    """Redact every string inside a JSON-like value."""
    if not redactor:
        return value
    if isinstance(value, str):
        return redactor.redact(value)
    if isinstance(value, list):
        return [redact_value(v, redactor) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v, redactor) for k, v in value.items()}
    return value


@dataclass
class Transcript:
    prompt: str
    model: str = ""
    provider: str = "responses"  # "responses" | "chat"
    mode: str = "local"  # "local" | "hosted"
    base_url: str = ""
    sandbox: str = ""
    run_id: str = field(default_factory=new_run_id)
    routing: dict[str, Any] = field(default_factory=dict)
    skills: list[dict[str, Any]] = field(default_factory=list)
    policy: list[str] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    compaction_events: list[dict[str, Any]] = field(default_factory=list)
    final: str = ""
    skills_loaded: list[str] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=lambda: {"input_tokens": 0, "output_tokens": 0})
    outcome: str = "running"  # completed | limit | limit_cost | cancelled | error | routing_violation
    stop_reason: str = ""
    violations: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # names granted to the run (never values)
    secret_exposed: bool = False  # a secret was handed raw to the tool (--secret-env)
    secrets_seen_in_output: list[str] = field(default_factory=list)  # raw values caught by redaction
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    ended_at: str = ""
    turns: int = 0
    tool_calls: int = 0
    redactor: Any = field(default=None, repr=False, compare=False)
    saved_to: Path | None = field(default=None, repr=False, compare=False)
    _t0: float = field(default_factory=time.monotonic, repr=False, compare=False)

    def elapsed(self) -> float:
        return round(time.monotonic() - self._t0, 3)

    def add_item(self, item: dict[str, Any]) -> dict[str, Any]:
        item = redact_value(dict(item, t=self.elapsed()), self.redactor)
        self.items.append(item)
        return item

    def add_event(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        event = redact_value({"kind": kind, "t": self.elapsed(), **data}, self.redactor)
        self.events.append(event)
        return event

    def add_usage(self, usage: dict[str, int] | None) -> None:
        for k in ("input_tokens", "output_tokens"):
            self.usage[k] = self.usage.get(k, 0) + int((usage or {}).get(k, 0) or 0)

    def note_skills(self, names: list[str]) -> None:
        self.skills_loaded += [n for n in names if n not in self.skills_loaded]

    def finish(self, outcome: str, reason: str = "") -> None:
        self.outcome = outcome
        self.stop_reason = reason
        self.ended_at = datetime.now(UTC).isoformat(timespec="seconds")

    def to_json(self) -> dict[str, Any]:
        """CONTRACT keys first, then the extras; redacted."""
        contract = {"final": self.final, "skills_loaded": list(self.skills_loaded),
                    "items": [dict(i) for i in self.items], "usage": dict(self.usage),
                    "compactions": len(self.compaction_events)}
        extra = {"run_id": self.run_id, "prompt": self.prompt, "model": self.model, "provider": self.provider,
                 "mode": self.mode, "base_url": self.base_url, "sandbox": self.sandbox,
                 "routing": self.routing, "skills": self.skills, "policy": self.policy,
                 "outcome": self.outcome, "stop_reason": self.stop_reason, "violations": self.violations,
                 "compaction_events": self.compaction_events, "turns": self.turns, "tool_calls": self.tool_calls,
                 "secrets": self.secrets, "secret_exposed": self.secret_exposed,
                 "secrets_seen_in_output": self.secrets_seen_in_output,
                 "timings": {"started_at": self.started_at, "ended_at": self.ended_at, "wall_s": self.elapsed()},
                 "events": self.events}
        return redact_value({**contract, **extra}, self.redactor)  # type: ignore[no-any-return]

    def to_markdown(self) -> str:
        return markdown(self.to_json())

    def save(self, workspace_state_dir: Path) -> Path:
        """Write `<state>/runs/agent/<run_id>.json` atomically; returns the path."""
        folder = ensure_state_dir(Path(workspace_state_dir)) / "runs" / "agent"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.run_id}.json"
        atomic_write(path, json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")
        self.saved_to = path
        return path


def markdown(d: dict[str, Any]) -> str:
    """A saved (or live) transcript as Markdown, for reviews and tickets."""
    pin = f" {d['routing']['pin']}" if d['routing'].get('pin') else ""
    lines = [f"# Run {d['run_id']}", "", f"- prompt: {d['prompt']}",
             f"- model: {d['model']} ({d['provider']}, {d['mode']})",
             f"- routing: {d['routing'].get('mode', 'auto')}" + pin,
             f"- outcome: {d['outcome']}" + (f" ({d['stop_reason']})" if d['stop_reason'] else ""),
             f"- skills loaded: {', '.join(d['skills_loaded']) or 'none'}",
             f"- usage: {d['usage']['input_tokens']} in / {d['usage']['output_tokens']} out, "
             f"{d['compactions']} compaction(s)", ""]
    for v in d["violations"]:
        lines.append(f"> **Routing violation:** {v}")
    marks: dict[int, list[str]] = {}
    for c in d["compaction_events"]:
        marks.setdefault(int(c.get("after_item", len(d["items"]))), []).append(
            f"> ⟲ compaction ({c['strategy']}): {c['before_tokens']} → {c['after_tokens']} tokens")
    for index, item in enumerate([*d["items"], None]):
        lines += marks.get(index, [])
        if item is None:
            break
        if item["type"] == "shell_call":
            lines += ["```console", *[f"$ {c}" for c in item["commands"]], "```"]
        elif item["type"] == "shell_call_output":
            body = (item.get("stdout") or "") + (item.get("stderr") or "")
            lines += [f"exit {item.get('exit_code')}" + (" (timeout)" if item.get("timed_out") else ""),
                      "```text", body.rstrip("\n"), "```"]
        elif item["type"] == "message":
            lines += ["", item.get("text", ""), ""]
    return "\n".join(lines) + "\n"


def load(path: Path) -> dict[str, Any]:
    """A saved transcript as JSON (the viewer replays `items` and `events` in order)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def list_runs(workspace: Path) -> list[Path]:
    """Saved transcripts of a workspace, newest first."""
    folder = Path(workspace) / RUNS_DIR
    return sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []
