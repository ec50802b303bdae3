"""The agent loop: ask the model, run its shell calls in the sandbox, send the outputs back, repeat.

It stops at the model's final message or at a limit (turns, tool calls, tokens, wall time, cost:
outcome `limit_cost`, priced with the same table as trigger tests), or when
the cancel token fires — always with the transcript kept. Each step is recorded in the transcript
and handed to `on_event` as it happens (the CLI prints it, the app's worker forwards it to the GUI
thread; never touch the UI from `on_event`: streaming deltas arrive from the request thread). A pinned
run refuses to execute a call that reaches into another skill and fails loudly (`routing_violation`).
The same loop drives local providers (Responses, chat) and hosted runs (the container runs the calls;
we only record them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from skillstudio.agent.providers import (
    CompactionStep,
    MessageStep,
    ModelError,
    OutputStep,
    ShellStep,
    Turn,
)
from skillstudio.agent.routing import Routing
from skillstudio.agent.shell import CommandResult, ShellRunner
from skillstudio.agent.transcript import Transcript
from skillstudio.bundle.model import find_skill_md
from skillstudio.cancel import CancelToken
from skillstudio.errors import Cancelled, SkillStudioError

EventSink = Callable[[dict[str, Any]], None]


@dataclass
class RunLimits:
    max_turns: int = 40  # model requests
    max_tool_calls: int = 200
    max_tokens: int | None = None  # input + output tokens over the whole run
    max_wall_s: float = 1800.0
    max_cost_usd: float | None = None  # USD over the whole run, priced by resources/prices.json


def price_of(model: str) -> dict[str, float]:
    """USD per 1M input/output tokens for `model` (evals.metrics.load_prices); a clear error if unknown."""
    from skillstudio import userdirs
    from skillstudio.evals.metrics import load_prices

    prices = load_prices().get(model)
    if not prices:
        raise SkillStudioError(f"no price for model {model!r}: a cost limit cannot be kept",
                               f"add it to {userdirs.config_dir() / 'prices.json'} "
                               '({"models": {"MODEL": {"input": USD, "output": USD}}}) or run without a cost limit',
                               setting="max-cost")
    return prices


def run_cost(usage: dict[str, int], prices: dict[str, float]) -> float:
    return (usage.get("input_tokens", 0) * prices.get("input", 0.0)
            + usage.get("output_tokens", 0) * prices.get("output", 0.0)) / 1e6


class Provider(Protocol):
    kind: str
    model: str
    base_url: str

    def request(self) -> Turn: ...
    def add_results(self, step: ShellStep, results: list[CommandResult]) -> None: ...
    def add_error(self, step: ShellStep, message: str) -> None: ...
    def keep_skill(self, name: str, path: str, text: str) -> None: ...
    def maybe_compact(self) -> CompactionStep | None: ...
    def close(self) -> None: ...


def interruptible(fn: Callable[[], Any], cancel: CancelToken, on_cancel: Callable[[], None] | None = None) -> Any:
    """Run a blocking call in a daemon thread so a cancel returns at once (the reply is dropped)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=work, name="agent-model-request", daemon=True).start()
    while not done.wait(0.05):
        if cancel.cancelled:
            if on_cancel is not None:
                on_cancel()
            raise Cancelled()
    if "error" in box:
        raise box["error"]
    return box.get("value")


class AgentRun:
    """One run. `run()` returns the transcript; it never raises for model or tool trouble."""

    def __init__(self, provider: Provider, routing: Routing, transcript: Transcript, *,
                 shell: ShellRunner | None = None, limits: RunLimits | None = None,
                 on_event: EventSink | None = None, cancel: CancelToken | None = None) -> None:
        self.provider = provider
        self.routing = routing
        self.t = transcript
        self.shell = shell
        self.limits = limits or RunLimits()
        self.on_event = on_event
        self.cancel = cancel or CancelToken()
        self._start = time.monotonic()
        self._prices = price_of(provider.model) if self.limits.max_cost_usd is not None else None
        if hasattr(provider, "on_delta"):
            provider.on_delta = self._delta
        self._live_call = ""
        if shell is not None and on_event is not None:
            shell.on_output = self._live_output

    def _live_output(self, index: int, stream: str, text: str) -> None:
        self._delta("output_delta", {"call_id": self._live_call, "command_index": index, "stream": stream,
                                     "text": text})

    def _delta(self, kind: str, data: dict[str, Any]) -> None:
        """Streaming deltas: shown live (from the request thread), not stored — the items are."""
        if self.on_event is not None and not self.cancel.cancelled:
            self.on_event({"kind": kind, "turn": self.t.turns + 1, **data})

    # -- recording ----------------------------------------------------------------------------

    def _emit(self, kind: str, data: dict[str, Any]) -> None:
        event = self.t.add_event(kind, data)
        if self.on_event is not None:
            self.on_event(event)

    def _item(self, item: dict[str, Any]) -> None:
        recorded = self.t.add_item(item)
        if self.on_event is not None:
            self.on_event({"kind": "item", "item": recorded})

    def _compaction(self, kind: str, step: CompactionStep) -> None:
        data = {"strategy": kind, "before_tokens": step.before_tokens, "after_tokens": step.after_tokens,
                "dropped_items": step.dropped_items, "turn": self.t.turns, "after_item": len(self.t.items)}
        self.t.compaction_events.append(data)
        self.t.add_usage(step.usage)
        self._emit("compaction", data)

    def _loaded(self, names: list[str]) -> None:
        new = [n for n in names if n not in self.t.skills_loaded]
        self.t.note_skills(names)
        for name in new:
            skill = next((s for s in self.routing.offered if s.name == name), None)
            md = find_skill_md(skill.source) if skill is not None else None
            if skill is not None and md is not None:
                self.provider.keep_skill(name, skill.path, md.read_text(encoding="utf-8", errors="replace"))
            self._emit("skill_loaded", {"skill": name})

    # -- the loop -----------------------------------------------------------------------------

    def _limit_reached(self) -> str | None:
        lim, t = self.limits, self.t
        if t.turns >= lim.max_turns:
            return f"max turns reached ({lim.max_turns})"
        if lim.max_tokens is not None and t.usage["input_tokens"] + t.usage["output_tokens"] >= lim.max_tokens:
            return f"max tokens reached ({lim.max_tokens})"
        if time.monotonic() - self._start >= lim.max_wall_s:
            return f"max wall time reached ({lim.max_wall_s:g}s)"
        return None

    def run(self) -> Transcript:
        self._emit("started", {"model": self.provider.model, "provider": self.provider.kind,
                               "routing": self.routing.record()})
        try:
            self._loop()
        except Cancelled:
            self.t.finish("cancelled", "stopped by the user")
        except ModelError as exc:
            self.t.finish("error", str(exc))
        except SkillStudioError as exc:  # the sandbox broke mid-run (data folder gone, Docker stopped)
            self.t.finish("error", str(exc))
        finally:
            if self.shell is not None:
                self.t.secrets_seen_in_output = sorted(self.shell.secrets_seen)
        for v in self.routing.violations(self.t.skills_loaded, self.t.outcome == "completed"):
            if v not in self.t.violations:
                self.t.violations.append(v)
        if self.t.violations and self.t.outcome == "completed":
            self.t.finish("routing_violation", self.t.violations[0])
        self._emit("finished", {"outcome": self.t.outcome, "reason": self.t.stop_reason,
                                "usage": dict(self.t.usage), "compactions": len(self.t.compaction_events),
                                "violations": self.t.violations})
        return self.t

    def _loop(self) -> None:
        while True:
            self.cancel.raise_if_cancelled()
            reason = self._limit_reached()
            if reason:
                self.t.finish("limit", reason)
                return
            if self._prices is not None and self.limits.max_cost_usd is not None:
                cost = run_cost(self.t.usage, self._prices)
                if cost >= self.limits.max_cost_usd:
                    self.t.finish("limit_cost", f"max cost reached (${cost:.4f} of ${self.limits.max_cost_usd:g})")
                    return
            step = interruptible(self.provider.maybe_compact, self.cancel)
            if step is not None:
                self._compaction(self.provider_compaction_kind(), step)
            self._emit("request", {"turn": self.t.turns + 1})
            turn: Turn = interruptible(self.provider.request, self.cancel)
            self.t.turns += 1
            self.t.add_usage(turn.usage)
            self._emit("usage", {"turn": self.t.turns, "usage": turn.usage or {}, "total": dict(self.t.usage),
                                 **self._context()})
            ran_local = False
            last_text: str | None = None
            for s in turn.steps:
                if isinstance(s, CompactionStep):
                    self._compaction("server", s)
                elif isinstance(s, MessageStep):
                    self._item({"type": "message", "text": s.text, **({"phase": s.phase} if s.phase else {})})
                    if s.phase != "commentary":
                        last_text = s.text
                elif isinstance(s, OutputStep):
                    self._hosted_output(s)
                elif isinstance(s, ShellStep):
                    if s.remote:
                        self._record_call(s)
                        continue
                    ran_local = True
                    if not self._local_call(s):
                        return
            if last_text is not None:
                self.t.final = last_text
            if turn.status == "incomplete":
                self.t.finish("limit", f"the model stopped early: {turn.reason}")
                return
            if not ran_local:
                if last_text is None and not self.t.final:
                    self.t.finish("error", "the model ended its turn without a final message")
                else:
                    self.t.finish("completed")
                return

    def _context(self) -> dict[str, Any]:
        """The token meter: how big the next request's context is (API usage, else tiktoken)."""
        meter, conv = getattr(self.provider, "meter", None), getattr(self.provider, "conv", None)
        if meter is None or conv is None:
            return {}
        return {"context_tokens": meter.context_tokens(conv.items()), "context_source": meter.source}

    def provider_compaction_kind(self) -> str:
        return str(getattr(self.provider, "mode", "client"))

    def _record_call(self, s: ShellStep) -> None:
        touched = self.routing.touched(s.commands)
        self._item({"type": "shell_call", "commands": s.commands, "call_id": s.call_id, "timeout_ms": s.timeout_ms,
                    "max_output_length": s.max_output_length, "skills": touched, "turn": self.t.turns})
        self.t.tool_calls += 1
        self._loaded(touched)

    def _local_call(self, s: ShellStep) -> bool:
        """Run one call; False when the run must stop (limit, routing violation, cancel)."""
        assert self.shell is not None, "a local provider needs a ShellRunner"
        if self.t.tool_calls >= self.limits.max_tool_calls:
            self.t.finish("limit", f"max tool calls reached ({self.limits.max_tool_calls})")
            return False
        violation = self.routing.violation_before_running(s.commands)
        self._record_call(s)
        if violation is not None:
            self.t.finish("routing_violation", violation)
            self._emit("routing_violation", {"message": violation})
            return False
        if s.error is not None:
            self.provider.add_error(s, s.error)
            self._item({"type": "shell_call_output", "stdout": "", "stderr": s.error, "exit_code": 126,
                        "call_id": s.call_id, "outputs": []})
            return True
        self._live_call = s.call_id
        results = self.shell.run_call(s.commands, timeout_ms=s.timeout_ms, max_output_length=s.max_output_length,
                                      cancel=self.cancel)
        self.provider.add_results(s, results)
        last = results[-1] if results else None
        self._item({"type": "shell_call_output", "stdout": "".join(r.stdout for r in results),
                    "stderr": "".join(r.stderr for r in results),
                    "exit_code": last.exit_code if last else None, "timed_out": any(r.timed_out for r in results),
                    "truncated": any(r.truncated for r in results), "call_id": s.call_id,
                    "outputs": [r.record() for r in results]})
        if self.cancel.cancelled:
            raise Cancelled()
        return True

    def _hosted_output(self, s: OutputStep) -> None:
        outs: list[dict[str, Any]] = []
        for o in s.output:
            outcome = o.get("outcome") or {}
            timed_out = outcome.get("type") == "timeout"
            outs.append({"stdout": str(o.get("stdout") or ""), "stderr": str(o.get("stderr") or ""),
                         "exit_code": 124 if timed_out else outcome.get("exit_code"), "timed_out": timed_out})
        last = outs[-1] if outs else None
        self._item({"type": "shell_call_output", "stdout": "".join(o["stdout"] for o in outs),
                    "stderr": "".join(o["stderr"] for o in outs), "exit_code": last["exit_code"] if last else None,
                    "timed_out": any(o["timed_out"] for o in outs), "call_id": s.call_id, "outputs": outs,
                    "remote": True})
