"""How a trigger is observed: follow the model until it decides (CONTRACT, "How a trigger is observed").

Real models look around before they read a skill (`ls -la`, `pwd && ls`, `rg -l invoice .`), so the
first shell call is not the decision. A run is a short conversation, the same for every router:

- `settle` reads one model turn's items in order: the first shell call that reads under a skill's
  path decides (*read*); an answer before any shell call ends the run (*answered*); shell calls that
  read no skill are *exploration*. It works on a finished turn and on a turn still streaming (then it
  says "not settled yet" until it can no longer change), so streamed and whole responses agree.
- `follow` runs the turns: exploration is executed in the sandbox (`explore.py`) and its output goes
  back as the call's output; an answer without a read is no skill; reaching the turn budget is
  *undecided* (no skill, flagged). Every turn's usage and time count.

Routers only speak their wire format (a `Dialogue`); the rule lives here and in `decision.py`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from skillstudio.evals.decision import PathRule

if TYPE_CHECKING:
    from skillstudio.evals.routers import RouteResult

DEFAULT_MAX_TURNS = 4
RULE = "follow until decided"  # the rule new runs are judged by (stored with every run)
LEGACY_RULE = "first-call rule"  # runs stored before it: verdict from the first shell call only
OUTPUT_KEEP = 2000  # characters of each exploring command's output kept in the trajectory

# Per-run categories (the case's skill decides between "direct"/"explored" and "other_skill").
DIRECT, EXPLORED, OTHER_SKILL, ANSWERED, UNDECIDED, FIRST_CALL = (
    "direct", "explored", "other_skill", "answered", "undecided", "first_call_rule")
CATEGORIES = (DIRECT, EXPLORED, OTHER_SKILL, ANSWERED, UNDECIDED, FIRST_CALL)


@dataclass
class Call:
    """One shell call (or a chat tool call) of a turn, with the commands it amounts to."""

    call_id: str
    commands: list[str]
    done: bool = True  # False while the call is still streaming (its commands may grow)
    label: str | None = None  # how people see it ("read_file: x"); default: the commands joined
    exec_commands: list[str] | None = None  # what the sandbox runs, when not `commands` themselves

    def text(self) -> str:
        return self.label or " && ".join(self.commands)


@dataclass
class Entry:
    """One output item as the rule sees it: a call, an answer, something else, or not known yet."""

    kind: Literal["call", "answer", "other", "pending"]
    call: Call | None = None


@dataclass
class Settled:
    kind: Literal["read", "answer", "explore"]
    skill: str | None = None
    explore: list[Call] = field(default_factory=list)  # exploring calls before the settle point, in order
    decisive: Call | None = None  # the call that read the skill


def settle(entries: Sequence[Entry], rule: PathRule, *, complete: bool) -> Settled | None:
    """The turn's verdict from its items in order, or None while it can still change."""
    explore: list[Call] = []
    for e in entries:
        if e.kind == "call" and e.call is not None:
            hit = rule.read_by(e.call.commands)
            if hit is not None:  # later commands of a streaming call cannot change the first skill read
                return Settled("read", hit, explore, e.call)
            if not e.call.done:
                return None
            explore.append(e.call)
        elif e.kind == "answer":
            if not explore:
                return Settled("answer")
        elif e.kind == "pending":
            return None
    if not complete:
        return None
    return Settled("explore", explore=explore) if explore else Settled("answer")


@dataclass
class CallOutput:
    stdout: str
    stderr: str
    exit_code: int
    timed_out: bool = False

    def wire(self) -> dict[str, Any]:
        """One entry of a Responses `shell_call_output.output` (stdout, stderr, outcome)."""
        outcome: dict[str, Any] = {"type": "timeout"} if self.timed_out else {"type": "exit",
                                                                              "exit_code": self.exit_code}
        return {"stdout": self.stdout, "stderr": self.stderr, "outcome": outcome}


@dataclass
class TurnOut:
    """What one model turn gave: its verdict, the items to send back, usage and timing."""

    settled: Settled
    usage: dict[str, int] | None = None
    ttft_s: float | None = None
    early_stop: bool = False
    events: list[str] = field(default_factory=list)


@dataclass
class Step:
    """One line of a run's trajectory (kept in results, reports and run history)."""

    turn: int
    kind: Literal["explore", "read", "answer"]
    commands: list[str] = field(default_factory=list)
    output: str = ""
    exit_code: int | None = None
    skill: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "", [])}


class Dialogue(Protocol):
    """A router's conversation in its own wire format."""

    async def turn(self) -> TurnOut:
        """Send the conversation so far; raise RouterError on transport trouble."""

    def reply(self, call: Call, outputs: list[CallOutput]) -> None:
        """Add an exploring call's outputs to the conversation."""


class Sandbox(Protocol):
    """One run's sandbox: a fresh data folder seeded from the case's fixture."""

    async def run(self, commands: list[str]) -> list[CallOutput]: ...

    def close(self) -> None: ...


def _shorten(text: str, keep: int = OUTPUT_KEEP) -> str:
    if len(text) <= keep:
        return text
    return text[: keep - 40] + f"\n…[{len(text) - keep + 40} chars not kept]"


def _add_usage(total: dict[str, int] | None, usage: dict[str, int] | None) -> dict[str, int] | None:
    if usage is None:
        return total
    out = dict(total or {"input_tokens": 0, "output_tokens": 0})
    out["input_tokens"] += int(usage.get("input_tokens", 0))
    out["output_tokens"] += int(usage.get("output_tokens", 0))
    if usage.get("estimated"):
        out["estimated"] = 1
    return out


async def _turn(dialogue: Dialogue, timeout_s: float | None) -> TurnOut:
    if timeout_s is None:
        return await dialogue.turn()
    from skillstudio.evals.routers import RouterError

    try:
        async with asyncio.timeout(timeout_s):
            return await dialogue.turn()
    except TimeoutError:
        raise RouterError(f"timed out after {timeout_s:g} s", retryable=True) from None


async def follow(dialogue: Dialogue, *, max_turns: int, sandbox: Callable[[], Sandbox], start: float,
                 first: TurnOut | None = None, turn_timeout: float | None = None) -> RouteResult:
    """Run turns until the model decides; `first` is a turn already answered (Batch's first turn).

    The sandbox is made only when the model explores, so a direct read costs nothing extra. On the
    last allowed turn exploring calls are not run: the run is undecided whatever they would show.
    """
    from skillstudio.evals.routers import RouteResult

    steps: list[Step] = []
    usage: dict[str, int] | None = None
    ttft: float | None = None
    events: list[str] = []
    first_command: str | None = None
    box: Sandbox | None = None
    early = False
    outcome, selected, turns = "undecided", None, max_turns
    try:
        for n in range(1, max(1, max_turns) + 1):
            t = first if (n == 1 and first is not None) else await _turn(dialogue, turn_timeout)
            usage = _add_usage(usage, t.usage)
            if n == 1:
                ttft = t.ttft_s
            events += ([f"turn {n}"] if n > 1 else []) + t.events
            early = t.early_stop
            s = t.settled
            calls = [*s.explore, *([s.decisive] if s.decisive else [])]
            if first_command is None and calls:
                first_command = calls[0].text()
            if s.kind == "read":
                steps += [Step(n, "explore", c.commands, "(not run: a later call of this turn read a skill)")
                          for c in s.explore]
                assert s.decisive is not None
                steps.append(Step(n, "read", s.decisive.commands, skill=s.skill))
                outcome, selected, turns = "read", s.skill, n
                break
            if s.kind == "answer":
                steps.append(Step(n, "answer"))
                outcome, turns = "answered", n
                break
            if n >= max_turns:
                steps += [Step(n, "explore", c.commands, "(not run: the turn budget is reached)") for c in s.explore]
                break
            if box is None:
                box = sandbox()
            for c in s.explore:
                outs = await box.run(c.exec_commands or c.commands)
                text = "".join(o.stdout + o.stderr for o in outs)
                steps.append(Step(n, "explore", c.commands, _shorten(text),
                                  outs[-1].exit_code if outs else None))
                dialogue.reply(c, outs)
    finally:
        if box is not None:
            box.close()
    return RouteResult(selected=selected, first_command=first_command, ttft_s=ttft,
                       latency_s=time.perf_counter() - start, usage=usage, raw_events_summary=events,
                       early_stop=early, outcome=outcome, turns=turns, trajectory=[s.to_json() for s in steps])


def category(result: RouteResult | None, skill: str | None) -> str | None:
    """The run's category for a case of `skill`: direct, explored, other_skill, answered, undecided.

    Results stored before the rule changed carry no outcome: they are "first_call_rule".
    """
    if result is None:
        return None
    if result.outcome is None:
        return FIRST_CALL
    if result.outcome == "undecided":
        return UNDECIDED
    if result.outcome == "answered" or result.selected is None:
        return ANSWERED
    if skill is not None and result.selected != skill:
        return OTHER_SKILL
    return DIRECT if (result.turns or 1) <= 1 else EXPLORED


def label(cat: str | None, turns: int | None = None) -> str:
    """Words for people: "after exploring (2 turns)", "read another skill first", ..."""
    if cat == EXPLORED:
        n = max(1, (turns or 2) - 1)
        return f"after exploring ({n} turn{'s' if n != 1 else ''})"
    return {DIRECT: "direct", OTHER_SKILL: "read another skill first", ANSWERED: "answered",
            UNDECIDED: "undecided", FIRST_CALL: LEGACY_RULE}.get(cat or "", "—")
