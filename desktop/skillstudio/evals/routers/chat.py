"""OpenAI-compatible chat router (Ollama, vLLM, LM Studio, any `/chat/completions` server).

Such servers have no Responses `shell` tool, so the catalog goes into the system prompt the way
Codex renders it (`- <name>: <description> (file: <path>/SKILL.md)`) and the model gets one
function tool to read a file. A run follows the model until it decides, by the same rule as the
Responses router (`trajectory.follow`): a `read_file` of a path under a skill's folder decides
that skill; a `read_file` of any other path is exploration, answered from the run's sandboxed
data folder (a folder is listed); an answer without a tool call is no skill.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import time
from typing import Any

import httpx
import openai

from skillstudio.evals.decision import PathRule
from skillstudio.evals.routers import RouteRequest, RouterError, RouteResult
from skillstudio.evals.routers._openai_errors import to_router_error
from skillstudio.evals.suite import Suite, SuiteCase
from skillstudio.evals.trajectory import (
    DEFAULT_MAX_TURNS,
    Call,
    CallOutput,
    Entry,
    Sandbox,
    Settled,
    TurnOut,
    follow,
    settle,
)

READ_FILE_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "read_file",
        "description": "Read a text file from the local file system and return its contents "
                       "(a folder is listed). Relative paths are read from the working folder.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string", "description": "Path of the file or folder to read."}},
            "required": ["path"],
            "additionalProperties": False,
        },
    },
}


def system_prompt(suite: Suite) -> str:
    lines = [
        "## Skills",
        "A skill is a set of local instructions stored in a SKILL.md file. These skills are available:",
    ]
    lines += [f"- {e.name}: {e.description} (file: {e.path}/SKILL.md)" for e in suite.catalog]
    lines += [
        "",
        "How to use skills:",
        "- If the user's task clearly matches a skill's description, first read its SKILL.md with the "
        "read_file tool, then follow it.",
        "- If no skill matches, do not read any skill; just help the user directly.",
    ]
    return "\n".join(lines)


def _get(obj: Any, key: str, default: Any = None) -> Any:
    return obj.get(key, default) if isinstance(obj, dict) else getattr(obj, key, default)


def _usage(u: Any) -> dict[str, int] | None:
    if not u:
        return None
    return {"input_tokens": int(_get(u, "prompt_tokens", 0) or 0),
            "output_tokens": int(_get(u, "completion_tokens", 0) or 0)}


def commands_of_tool_call(name: str, arguments: str) -> list[str]:
    """A tool call as the shell commands it amounts to, for the shared decision rule."""
    try:
        args = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return [arguments]
    if not isinstance(args, dict):
        return [str(args)]
    if isinstance(args.get("path"), str):
        return [f"cat {shlex.quote(args['path'])}"]
    cmd = args.get("command") or args.get("commands") or args.get("cmd")
    if isinstance(cmd, list):
        return [" ".join(str(c) for c in cmd)]
    if isinstance(cmd, str):
        return [cmd]
    return [json.dumps(args)]


def _call(index: int, call_id: str, name: str, arguments: str) -> Call:
    cmds = commands_of_tool_call(name, arguments)
    run = None
    try:
        args = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        args = None
    if isinstance(args, dict) and isinstance(args.get("path"), str):
        p = shlex.quote(args["path"] or ".")
        run = [f"if [ -d {p} ]; then ls -la -- {p}; else cat -- {p}; fi"]
    return Call(call_id or f"call_{index}", cmds, label=f"{name}: {' && '.join(cmds)}", exec_commands=run)


def _settle_calls(calls: list[Call], rule: PathRule) -> Settled:
    """A finished chat turn: its tool calls in order, or an answer when it made none."""
    s = settle([Entry("call", c) for c in calls] or [Entry("answer")], rule, complete=True)
    assert s is not None
    return s


class _Conversation:
    """One run's chat messages: system, user, then assistant tool calls and tool results."""

    def __init__(self, router: ChatRouter, req: RouteRequest, start: float) -> None:
        self.router = router
        self.start = start
        self.messages: list[dict[str, Any]] = list(router.request_body(req)["messages"])

    async def turn(self) -> TurnOut:
        r = self.router
        body = {"model": r.model, "messages": self.messages, "tools": [READ_FILE_TOOL], "tool_choice": "auto"}
        out, message = await (r._stream_turn(body, self.start) if r.stream else r._whole_turn(body))
        self.messages.append(message)
        return out

    def reply(self, call: Call, outputs: list[CallOutput]) -> None:
        text = "".join(o.stdout + o.stderr for o in outputs)
        self.messages.append({"role": "tool", "tool_call_id": call.call_id, "content": text})


class ChatRouter:
    kind = "chat"
    is_estimate = False

    def __init__(self, *, model: str, api_key: str, base_url: str | None = None, timeout: float = 60.0,
                 stream: bool = True, max_turns: int = DEFAULT_MAX_TURNS, sandbox: str = "subprocess") -> None:
        self.model = model
        self.stream = stream
        self.max_turns = max_turns
        self.sandbox = sandbox
        self.turn_timeout: float | None = None  # per model turn (the runner sets it from --timeout)
        self.client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
        self.base_url = str(self.client.base_url).rstrip("/")
        self._rule = PathRule([])
        self._explorer: Any | None = None
        self._system = ""

    def prepare(self, suite: Suite) -> None:
        from skillstudio.evals.explore import Explorer

        self._rule = PathRule((e.name, e.path) for e in suite.catalog)
        self._explorer = Explorer(suite.catalog, self.sandbox)
        self._system = system_prompt(suite)

    def request_body(self, req: RouteRequest) -> dict[str, Any]:
        return {"model": self.model,
                "messages": [{"role": "system", "content": self._system},
                             {"role": "user", "content": req.case.prompt}],
                "tools": [READ_FILE_TOOL], "tool_choice": "auto"}

    def session(self, case: SuiteCase) -> Sandbox:
        assert self._explorer is not None, "prepare() first"
        return self._explorer.session(case)

    async def route(self, req: RouteRequest) -> RouteResult:
        start = time.perf_counter()
        return await follow(_Conversation(self, req, start), max_turns=self.max_turns,
                            sandbox=lambda: self.session(req.case), start=start,
                            turn_timeout=self.turn_timeout)

    async def _whole_turn(self, body: dict[str, Any]) -> tuple[TurnOut, dict[str, Any]]:
        try:
            completion = await self.client.post("/chat/completions", body=body, cast_to=object)
        except (openai.APIError, Exception) as exc:  # noqa: BLE001 - mapped
            raise to_router_error(exc) from None
        choices = _get(completion, "choices") or []
        if not choices:
            raise RouterError("the server returned no choices", retryable=True)
        message = _get(choices[0], "message") or {}
        raw = list(_get(message, "tool_calls") or [])
        calls = [_call(i, str(_get(c, "id") or ""), str(_get(_get(c, "function"), "name") or ""),
                       str(_get(_get(c, "function"), "arguments") or "")) for i, c in enumerate(raw)]
        events = [f"tool_call:{c.label.split(':')[0]}" for c in calls if c.label] or ["message"]
        echo = {"role": "assistant", "content": _get(message, "content"),
                **({"tool_calls": [{"id": c.call_id, "type": "function",
                                    "function": {"name": str(_get(_get(t, "function"), "name") or ""),
                                                 "arguments": str(_get(_get(t, "function"), "arguments") or "")}}
                                   for c, t in zip(calls, raw, strict=True)]} if calls else {})}
        return TurnOut(_settle_calls(calls, self._rule), _usage(_get(completion, "usage")), events=events), echo

    async def _stream_turn(self, body: dict[str, Any], start: float) -> tuple[TurnOut, dict[str, Any]]:
        """Streams for time-to-first-token. Tool calls settle in order: once call k+1 starts, calls
        0..k are complete, so a read among them closes the stream early; text alone decides nothing
        until the end, because a model may talk first and call the tool after."""
        stream = await self.client.post(
            "/chat/completions", body={**body, "stream": True, "stream_options": {"include_usage": True}},
            cast_to=object, stream=True, stream_cls=openai.AsyncStream[object])
        ttft: float | None = None
        parts: dict[int, dict[str, str]] = {}  # tool call index -> id, name, arguments
        text = ""
        finished = early = False
        settled: Settled | None = None
        usage = None

        def calls_upto(n: int) -> list[Call]:
            return [_call(i, parts[i]["id"], parts[i]["name"], parts[i]["arguments"]) for i in sorted(parts) if i < n]

        try:
            async for chunk in stream:
                if _get(chunk, "usage"):
                    usage = _usage(_get(chunk, "usage"))
                for choice in _get(chunk, "choices") or []:
                    delta = _get(choice, "delta") or {}
                    if ttft is None and (_get(delta, "content") or _get(delta, "tool_calls")):
                        ttft = time.perf_counter() - start
                    text += str(_get(delta, "content") or "")
                    for tc in _get(delta, "tool_calls") or []:
                        idx = int(_get(tc, "index") or 0)
                        if idx not in parts:
                            if parts:  # a new call: the earlier ones are complete
                                s = settle([Entry("call", c) for c in calls_upto(idx)], self._rule, complete=False)
                                if s is not None:
                                    settled, early = s, True
                                    break
                            parts[idx] = {"id": "", "name": "", "arguments": ""}
                        fn = _get(tc, "function") or {}
                        parts[idx]["id"] += str(_get(tc, "id") or "")
                        parts[idx]["name"] += str(_get(fn, "name") or "")
                        parts[idx]["arguments"] += str(_get(fn, "arguments") or "")
                    if early:
                        break
                    if _get(choice, "finish_reason"):
                        finished = True
                if early:
                    break
        except (openai.APIError, httpx.HTTPError) as exc:
            raise RouterError(f"stream dropped: {exc.__cause__ or exc}", retryable=True) from None
        finally:
            await stream.close()
        if not (finished or early or usage is not None):
            raise RouterError("stream dropped: it ended before the answer finished", retryable=True)
        calls = calls_upto(1 << 30)
        if settled is None:
            settled = _settle_calls(calls, self._rule)
        events = [f"tool_call:{parts[i]['name']}" for i in sorted(parts)] or ["message"]
        echo: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            echo["tool_calls"] = [{"id": c.call_id, "type": "function",
                                   "function": {"name": parts[i]["name"], "arguments": parts[i]["arguments"]}}
                                  for i, c in zip(sorted(parts), calls, strict=True)]
        return TurnOut(settled, usage, ttft, early, events), echo

    async def aclose(self) -> None:
        if self._explorer is not None:
            await asyncio.to_thread(self._explorer.close)
        await self.client.close()
