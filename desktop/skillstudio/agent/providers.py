"""The model side of the agent loop: the Responses API (shell tool) and chat-compatible servers.

A provider owns the conversation state in its own wire format and turns each model response into
`Step`s the loop understands. Responses: stateless input chaining (`store: false`), the shell
tool's `local` environment with the offered skills, `shell_call_output` items sent back. Chat
(`/chat/completions`, for local models): one `shell` function tool with the same arguments and a
system prompt listing the skills. Both keep the conversation as a head (task, kept skills, summary)
plus turns, so compaction can drop or summarise whole turns without splitting a call from its output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from skillstudio.agent import compaction as cp
from skillstudio.agent.shell import CommandResult


class ModelError(Exception):
    """The model server failed (after the SDK's retries); the run stops with outcome `error`."""


@dataclass
class ShellStep:
    call_id: str
    commands: list[str]
    timeout_ms: int | None = None
    max_output_length: int | None = None
    remote: bool = False  # hosted: the container already ran it
    error: str | None = None  # a malformed call (chat arguments that are not JSON)


@dataclass
class OutputStep:
    """A shell call's output that the hosted container produced."""

    call_id: str
    output: list[dict[str, Any]]
    max_output_length: int | None = None


@dataclass
class MessageStep:
    text: str
    phase: str | None = None


@dataclass
class CompactionStep:
    before_tokens: int
    after_tokens: int
    dropped_items: int
    usage: dict[str, int] | None = None  # tokens the compaction request itself cost (client / endpoint)


Step = ShellStep | OutputStep | MessageStep | CompactionStep


@dataclass
class Turn:
    steps: list[Step] = field(default_factory=list)
    usage: dict[str, int] | None = None
    status: str = "completed"
    reason: str = ""


def get(obj: Any, key: str, default: Any = None) -> Any:
    return obj.get(key, default) if isinstance(obj, dict) else getattr(obj, key, default)


def api_call(fn: Any, *args: Any, **kw: Any) -> Any:
    """Call the SDK; map its errors to ModelError with a one-line message."""
    import httpx
    import openai

    from skillstudio.evals.routers._openai_errors import to_router_error

    try:
        return fn(*args, **kw)
    except (openai.APIError, httpx.HTTPError) as exc:
        raise ModelError(str(to_router_error(exc))) from None


def _message_text(item: dict[str, Any]) -> str:
    parts = item.get("content") or []
    if isinstance(parts, str):
        return parts
    return "".join(str(p.get("text") or p.get("refusal") or "") for p in parts if isinstance(p, dict))


def _usage(obj: Any) -> dict[str, int] | None:
    u = get(obj, "usage")
    if u is None:
        return None
    if get(u, "input_tokens") is not None:
        return {"input_tokens": int(get(u, "input_tokens") or 0), "output_tokens": int(get(u, "output_tokens") or 0)}
    return {"input_tokens": int(get(u, "prompt_tokens") or 0), "output_tokens": int(get(u, "completion_tokens") or 0)}


_NOT_INPUT = ("id", "created_by")


def as_input(item: dict[str, Any]) -> dict[str, Any]:
    """An output item as we send it back (stateless chaining: no server ids)."""
    return {k: v for k, v in item.items() if k not in _NOT_INPUT}


def parse_output(output: list[dict[str, Any]], *, remote: bool = False) -> list[Step]:
    steps: list[Step] = []
    for it in output:
        kind = it.get("type")
        if kind == "shell_call":
            action = it.get("action") or {}
            commands = [str(c) for c in action.get("commands") or []]
            steps.append(ShellStep(str(it.get("call_id") or it.get("id") or ""), commands,
                                   action.get("timeout_ms"), action.get("max_output_length"), remote=remote))
        elif kind == "shell_call_output":
            steps.append(OutputStep(str(it.get("call_id") or ""), list(it.get("output") or []),
                                    it.get("max_output_length")))
        elif kind == "message":
            steps.append(MessageStep(_message_text(it), it.get("phase")))
        elif kind == "compaction":
            steps.append(CompactionStep(0, 0, 0))
    return steps


class Conversation:
    """Head (never dropped) + summary + turns; `items()` is what goes to the model."""

    def __init__(self, head: list[dict[str, Any]]) -> None:
        self.head = head
        self.summary: str | None = None
        self.turns: list[list[dict[str, Any]]] = []
        self.kept_skills: set[str] = set()

    def new_turn(self) -> None:
        self.turns.append([])

    def add(self, item: dict[str, Any]) -> None:
        if not self.turns:
            self.new_turn()
        self.turns[-1].append(item)

    def summary_item(self) -> list[dict[str, Any]]:
        return [{"role": "user", "content": cp.SUMMARY_PREFIX + self.summary}] if self.summary else []

    def items(self) -> list[dict[str, Any]]:
        return [*self.head, *self.summary_item(), *(it for t in self.turns for it in t)]

    def keep_skill(self, name: str, path: str, text: str) -> None:
        """After a client-side compaction the loaded skill's instructions stay in the head."""
        if name in self.kept_skills:
            return
        self.kept_skills.add(name)
        self.head.append({"role": "user", "content": f"{cp.SKILL_PREFIX}{path}/SKILL.md:\n{text}"})


class ResponsesProvider:
    """The Responses API with the shell tool; the loop runs the calls locally."""

    kind = "responses"

    def __init__(self, client: Any, model: str, prompt: str, tools: list[dict[str, Any]],
                 instructions: str | None, settings: cp.CompactionSettings, *, stateful: bool = False,
                 stream: bool = False) -> None:
        self.client = client
        self.stream = stream  # SSE: text and command deltas reach `on_delta` while the model writes
        self.on_delta: Callable[[str, dict[str, Any]], None] | None = None
        self.stateful = stateful  # store: true + previous_response_id: only new items are sent
        self.last_id: str | None = None
        self.new_items: list[dict[str, Any]] = []
        self.model = model
        self.base_url = str(client.base_url).rstrip("/")
        self.tools = tools
        self.instructions = instructions
        self.settings = settings
        self.mode = settings.resolved(self.kind)
        if stateful and self.mode in ("client", "endpoint"):
            from skillstudio.errors import SkillStudioError

            raise SkillStudioError(f"{self.mode} compaction rewrites the input, which a stored conversation cannot",
                                   "use server compaction (the default) or stateless requests")
        self.conv = Conversation([{"role": "user", "content": prompt}])
        self.meter = cp.TokenMeter()
        self.pending_skills: list[tuple[str, str, str]] = []
        self.summary_usage: dict[str, int] | None = None

    # -- state -------------------------------------------------------------------------------

    def body(self) -> dict[str, Any]:
        b: dict[str, Any] = {"model": self.model, "input": self.conv.items(), "tools": self.tools,
                             "store": False, "include": ["reasoning.encrypted_content"]}
        if self.stateful:
            b["store"] = True
            del b["include"]
            if self.last_id is not None:
                b["previous_response_id"] = self.last_id
                b["input"] = list(self.new_items)
        if self.instructions:
            b["instructions"] = self.instructions
        if self.mode == "server":
            b["context_management"] = [{"type": "compaction", "compact_threshold": self.settings.threshold}]
        return b

    def request(self) -> Turn:
        before = self.conv.items()
        response = api_call(self._stream, self.body()) if self.stream else \
            api_call(self.client.responses.create, **self.body())
        output = [i.model_dump(mode="json", exclude_unset=True, warnings=False) if not isinstance(i, dict) else i
                  for i in (get(response, "output") or [])]
        status = str(get(response, "status") or "completed")
        if status == "failed":
            err = get(response, "error")
            raise ModelError(f"the response failed: {get(err, 'code')}: {get(err, 'message')}")
        usage = _usage(response)
        self.meter.observe(usage)
        self.last_id, self.new_items = get(response, "id"), []
        self.conv.new_turn()
        for it in output:
            self.conv.add(as_input(it))
        steps = parse_output(output)
        if any(isinstance(s, CompactionStep) for s in steps):
            steps = [self._server_compacted(before, s) if isinstance(s, CompactionStep) else s for s in steps]
        reason = ""
        if status == "incomplete":
            reason = str(get(get(response, "incomplete_details"), "reason") or "incomplete")
        return Turn(steps, usage, status, reason)

    def _stream(self, body: dict[str, Any]) -> Any:
        final: Any = None
        with self.client.responses.create(**body, stream=True) as events:
            for ev in events:
                kind = get(ev, "type")
                if kind == "response.output_text.delta":
                    self._delta("text_delta", {"output_index": get(ev, "output_index"), "delta": get(ev, "delta")})
                elif kind == "response.shell_call_command.delta":
                    self._delta("command_delta", {"output_index": get(ev, "output_index"),
                                                  "command_index": get(ev, "command_index"), "delta": get(ev, "delta")})
                elif kind == "response.output_item.added":
                    self._delta("item_started", {"output_index": get(ev, "output_index"),
                                                 "type": get(get(ev, "item"), "type")})
                elif kind in ("response.completed", "response.incomplete", "response.failed"):
                    final = get(ev, "response")
                elif kind == "error":
                    raise ModelError(f"stream error {get(ev, 'code')}: {get(ev, 'message')}")
        if final is None:
            raise ModelError("the stream ended before the response completed")
        return final

    def _delta(self, kind: str, data: dict[str, Any]) -> None:
        if self.on_delta is not None:
            self.on_delta(kind, data)

    def _server_compacted(self, before: list[dict[str, Any]], step: CompactionStep) -> CompactionStep:
        flat = self.conv.items()
        new, dropped = cp.drop_before_latest_compaction(flat)
        last = max(i for i, it in enumerate(new) if it.get("type") == "compaction")
        self.conv.head, self.conv.summary, self.conv.turns = new[:last], None, [new[last:]]
        self.meter.reset()
        return CompactionStep(cp.estimate(before), cp.estimate(self.conv.items()), dropped)

    def add_results(self, step: ShellStep, results: list[CommandResult]) -> None:
        item: dict[str, Any] = {"type": "shell_call_output", "call_id": step.call_id,
                                "output": [r.wire() for r in results]}
        if step.max_output_length is not None:
            item["max_output_length"] = step.max_output_length
        self.conv.add(item)
        self.new_items.append(item)

    def add_error(self, step: ShellStep, message: str) -> None:
        item = {"type": "shell_call_output", "call_id": step.call_id,
                "output": [{"stdout": "", "stderr": message, "outcome": {"type": "exit", "exit_code": 126}}]}
        self.conv.add(item)
        self.new_items.append(item)

    def keep_skill(self, name: str, path: str, text: str) -> None:
        self.pending_skills.append((name, path, text))

    # -- compaction ---------------------------------------------------------------------------

    def maybe_compact(self) -> CompactionStep | None:
        if self.mode not in ("endpoint", "client"):
            return None
        items = self.conv.items()
        if self.meter.context_tokens(items) < self.settings.threshold:
            return None
        before = cp.estimate(items)
        if self.mode == "endpoint":
            res = api_call(self.client.responses.compact, model=self.model, input=items)
            out = [as_input(i.model_dump(mode="json", exclude_unset=True, warnings=False)
                            if not isinstance(i, dict) else i) for i in (get(res, "output") or [])]
            self.conv.head, self.conv.summary, self.conv.turns = out, None, []
            self.meter.reset()
            return CompactionStep(before, cp.estimate(self.conv.items()), max(0, len(items) - len(out)), _usage(res))
        return self._client_compact(items, before)

    def _summarise(self, text: str) -> str:
        res = api_call(self.client.responses.create, model=self.model, store=False,
                       input=[{"role": "user", "content": f"{cp.SUMMARY_INSTRUCTIONS}\n\n{text}"}])
        self.summary_usage = _usage(res)
        output = get(res, "output") or []
        texts = [_message_text(i if isinstance(i, dict) else i.model_dump(mode="json")) for i in output
                 if get(i, "type") == "message"]
        return "\n".join(texts)

    def _client_compact(self, items: list[dict[str, Any]], before: int) -> CompactionStep | None:
        done = cp.client_compact(self.conv.turns, self.conv.summary, self.settings.keep_recent_turns, self._summarise)
        if done is None:
            return None
        recent, summary = done
        n_before = len(items)
        for name, path, text in self.pending_skills:
            self.conv.keep_skill(name, path, text)
        self.conv.turns, self.conv.summary = recent, summary
        self.meter.reset()
        return CompactionStep(before, cp.estimate(self.conv.items()), n_before - len(self.conv.items()),
                              self.summary_usage)

    def close(self) -> None:
        self.client.close()


SHELL_FUNCTION: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "shell",
        "description": ("Run shell commands (bash) in a sandbox. The working directory /data is writable; "
                        "skills are read-only under /skills. Returns stdout, stderr and the outcome of each command."),
        "parameters": {
            "type": "object",
            "properties": {
                "commands": {"type": "array", "items": {"type": "string"}, "description": "Commands, run in order."},
                "timeout_ms": {"type": "integer", "description": "Time limit for all commands, in milliseconds."},
                "max_output_length": {"type": "integer", "description": "Characters of output kept per command."},
            },
            "required": ["commands"],
        },
    },
}


def chat_system_prompt(skills: list[dict[str, str]], instructions: str | None) -> str:
    lines = ["You can run shell commands with the `shell` tool.", "", "## Skills",
             "A skill is a folder of instructions (SKILL.md), scripts and files. These skills are available:"]
    lines += [f"- {s['name']}: {s['description']} (file: {s['path']}/SKILL.md)" for s in skills]
    lines += ["", "If the task matches a skill, first read its SKILL.md with the shell tool, then follow it.",
              "When you are done, answer with a final message and no tool call."]
    if instructions:
        lines += ["", instructions]
    return "\n".join(lines)


class ChatProvider:
    """An OpenAI-compatible `/chat/completions` server with a `shell` function tool."""

    kind = "chat"

    def __init__(self, client: Any, model: str, prompt: str, skills: list[dict[str, str]],
                 instructions: str | None, settings: cp.CompactionSettings) -> None:
        self.client = client
        self.model = model
        self.base_url = str(client.base_url).rstrip("/")
        self.settings = settings
        self.mode = settings.resolved(self.kind)
        if self.mode in ("server", "endpoint"):
            from skillstudio.errors import SkillStudioError

            raise SkillStudioError(f"{self.mode} compaction needs the Responses API",
                                   "use client-side compaction with a chat-compatible server", setting="compaction")
        self.conv = Conversation([{"role": "system", "content": chat_system_prompt(skills, instructions)},
                                  {"role": "user", "content": prompt}])
        self.meter = cp.TokenMeter()
        self.pending_skills: list[tuple[str, str, str]] = []
        self.summary_usage: dict[str, int] | None = None

    def body(self) -> dict[str, Any]:
        return {"model": self.model, "messages": self.conv.items(), "tools": [SHELL_FUNCTION], "tool_choice": "auto"}

    def request(self) -> Turn:
        completion = api_call(self.client.chat.completions.create, **self.body())
        if not completion.choices:
            raise ModelError("the server returned no choices")
        choice = completion.choices[0]
        msg = choice.message
        usage = _usage(completion)
        self.meter.observe(usage)
        calls = list(msg.tool_calls or [])
        item: dict[str, Any] = {"role": "assistant", "content": msg.content or ""}
        if calls:
            item["tool_calls"] = [{"id": c.id, "type": "function",
                                   "function": {"name": c.function.name, "arguments": c.function.arguments or "{}"}}
                                  for c in calls]
        self.conv.new_turn()
        self.conv.add(item)
        steps: list[Step] = []
        if msg.content and calls:
            steps.append(MessageStep(msg.content, "commentary"))
        for c in calls:
            steps.append(self._shell_step(c.id, c.function.name, c.function.arguments or "{}"))
        if not calls:
            steps.append(MessageStep(msg.content or ""))
        status = "incomplete" if choice.finish_reason == "length" else "completed"
        return Turn(steps, usage, status, "max output tokens" if status == "incomplete" else "")

    @staticmethod
    def _shell_step(call_id: str, name: str, arguments: str) -> ShellStep:
        try:
            args = json.loads(arguments)
        except json.JSONDecodeError:
            return ShellStep(call_id, [], error=f"arguments are not JSON: {arguments[:200]}")
        if name != "shell" or not isinstance(args, dict):
            return ShellStep(call_id, [], error=f"unknown tool {name!r}; use the shell tool")
        cmds = args.get("commands", args.get("command"))
        if isinstance(cmds, str):
            cmds = [cmds]
        if not isinstance(cmds, list) or not cmds:
            return ShellStep(call_id, [], error="give `commands` as a list of strings")
        t, m = args.get("timeout_ms"), args.get("max_output_length")
        return ShellStep(call_id, [str(c) for c in cmds], t if isinstance(t, int) else None,
                         m if isinstance(m, int) else None)

    def add_results(self, step: ShellStep, results: list[CommandResult]) -> None:
        self.conv.add({"role": "tool", "tool_call_id": step.call_id,
                       "content": json.dumps({"output": [r.wire() for r in results]}, ensure_ascii=False)})

    def add_error(self, step: ShellStep, message: str) -> None:
        self.conv.add({"role": "tool", "tool_call_id": step.call_id, "content": json.dumps({"error": message})})

    def keep_skill(self, name: str, path: str, text: str) -> None:
        self.pending_skills.append((name, path, text))

    def _summarise(self, text: str) -> str:
        completion = api_call(self.client.chat.completions.create, model=self.model,
                              messages=[{"role": "user", "content": f"{cp.SUMMARY_INSTRUCTIONS}\n\n{text}"}])
        self.summary_usage = _usage(completion)
        return str(completion.choices[0].message.content or "") if completion.choices else ""

    def maybe_compact(self) -> CompactionStep | None:
        if self.mode != "client":
            return None
        items = self.conv.items()
        if self.meter.context_tokens(items) < self.settings.threshold:
            return None
        before = cp.estimate(items)
        done = cp.client_compact(self.conv.turns, self.conv.summary, self.settings.keep_recent_turns, self._summarise)
        if done is None:
            return None
        recent, summary = done
        for name, path, text in self.pending_skills:
            self.conv.keep_skill(name, path, text)
        self.conv.turns, self.conv.summary = recent, summary
        self.meter.reset()
        return CompactionStep(before, cp.estimate(self.conv.items()), len(items) - len(self.conv.items()),
                              self.summary_usage)

    def close(self) -> None:
        self.client.close()
