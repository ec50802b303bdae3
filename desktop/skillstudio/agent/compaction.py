"""Keeping long runs inside the context window, visibly.

`TokenMeter` says how big the context is: the API's `usage.input_tokens` of the last request when
the server reported it, else a tiktoken estimate of the items we would send. Three strategies:

- `server`: OpenAI server-side compaction — every request carries
  `context_management: [{"type": "compaction", "compact_threshold": N}]`; when a response holds a
  `compaction` item, items before the latest one are dropped (user messages kept), as the API's
  compaction guide recommends for stateless input chaining.
- `endpoint`: when the meter crosses the threshold, `POST /responses/compact` replaces the input
  with what it returns (the user messages and one compaction item).
- `client`: for providers without either (chat-compatible servers): older turns are summarised by
  the model into one message; the task, the loaded skills' SKILL.md and the most recent turns are
  kept verbatim.

Every compaction becomes an event with the token counts before and after.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from skillstudio.bundle import tokens

Mode = Literal["auto", "server", "endpoint", "client", "off"]
MODES = ("auto", "server", "endpoint", "client", "off")
SUMMARY_PREFIX = "[Summary of the earlier steps of this task, written when the context was compacted]\n"
SKILL_PREFIX = "[Kept through compaction: the skill you loaded]\n"
SUMMARY_INSTRUCTIONS = (
    "You are compacting the context of a long-running agent task. Summarise the steps below so the "
    "agent can continue without them: what was done, the exact results that matter (numbers, file "
    "names, identifiers, exit codes), what failed and what remains to do. Be complete but concise; "
    "do not invent anything.")


@dataclass
class CompactionSettings:
    mode: Mode = "auto"
    threshold: int = 200_000  # tokens of context that trigger a compaction
    keep_recent_turns: int = 2

    def resolved(self, provider: str) -> Mode:
        if self.mode != "auto":
            return self.mode
        return "server" if provider == "responses" else "client"


def estimate(value: Any) -> int:
    """tiktoken count of what would be sent (JSON for structured items)."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return tokens.count(text)


class TokenMeter:
    """Context size: API usage of the last request where present, otherwise an estimate."""

    def __init__(self) -> None:
        self.last_input_tokens: int | None = None
        self.source = "estimate"

    def observe(self, usage: dict[str, int] | None) -> None:
        if usage and usage.get("input_tokens"):
            self.last_input_tokens = int(usage["input_tokens"]) + int(usage.get("output_tokens", 0) or 0)

    def context_tokens(self, items: Any) -> int:
        """The larger of the estimate of `items` and the last usage (which includes tools and instructions)."""
        est = estimate(items)
        if self.last_input_tokens is not None and self.last_input_tokens >= est:
            self.source = "api"
            return self.last_input_tokens
        self.source = "estimate"
        return est

    def reset(self) -> None:
        self.last_input_tokens = None


def _get(obj: Any, key: str, default: Any = None) -> Any:
    return obj.get(key, default) if isinstance(obj, dict) else getattr(obj, key, default)


def drop_before_latest_compaction(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Input items after server-side compaction: user messages, the latest compaction item, what follows."""
    last = max((i for i, it in enumerate(items) if _get(it, "type") == "compaction"), default=None)
    if last is None:
        return items, 0
    kept = [it for it in items[:last] if _get(it, "role") == "user" and _get(it, "type", "message") == "message"]
    new = kept + items[last:]
    return new, len(items) - len(new)


def render_items(items: list[dict[str, Any]]) -> str:
    """A plain-text rendering of Responses items or chat messages, for the summariser."""
    out: list[str] = []
    for it in items:
        kind, role = it.get("type"), it.get("role")
        if kind == "shell_call":
            out += [f"$ {c}" for c in (it.get("action") or {}).get("commands", [])]
        elif kind == "shell_call_output":
            out += _render_outputs(it.get("output") or [])
        elif role == "tool":
            try:
                result = json.loads(it.get("content") or "")
            except (TypeError, ValueError):
                result = None
            if isinstance(result, dict) and isinstance(result.get("output"), list):
                out += _render_outputs(result["output"])
            else:
                out.append(f"[tool result]\n{it.get('content', '')}")
        elif role == "assistant" and it.get("tool_calls"):
            for call in it["tool_calls"]:
                out += _render_call(call["function"]["name"], call["function"]["arguments"])
            if it.get("content"):
                out.append(f"assistant: {it['content']}")
        elif role in ("user", "assistant", "system", "developer") or kind == "message":
            content = it.get("content")
            if isinstance(content, list):
                content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            out.append(f"{role or 'assistant'}: {content}")
        elif kind == "compaction":
            out.append("[earlier context, compacted by the server]")
    return "\n".join(out)


def _render_outputs(outputs: list[dict[str, Any]]) -> list[str]:
    lines = []
    for o in outputs:
        outcome = o.get("outcome") or {}
        code = outcome.get("exit_code") if outcome.get("type") == "exit" else "timeout"
        lines.append(f"[exit {code}]\n{o.get('stdout', '')}{o.get('stderr', '')}".rstrip())
    return lines


def _render_call(name: str, arguments: str) -> list[str]:
    try:
        args = json.loads(arguments)
    except (TypeError, ValueError):
        args = None
    if name == "shell" and isinstance(args, dict) and isinstance(args.get("commands"), list):
        return [f"$ {c}" for c in args["commands"]]
    return [f"[tool call {name}] {arguments}"]


def client_compact(turns: list[list[dict[str, Any]]], summary: str | None, keep_recent: int,
                   summarise: Callable[[str], str]) -> tuple[list[list[dict[str, Any]]], str] | None:
    """Summarise all but the last `keep_recent` turns (and the previous summary) into one text.

    Returns (the turns kept verbatim, the new summary), or None when there is nothing old enough.
    """
    keep = max(1, keep_recent)
    if len(turns) <= keep:
        return None
    older, recent = turns[:-keep], turns[-keep:]
    text = render_items([it for turn in older for it in turn])
    if summary:
        text = f"Earlier summary:\n{summary}\n\nSteps since then:\n{text}"
    return recent, summarise(text).strip()
