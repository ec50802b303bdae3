"""OpenAI-compatible chat router (Ollama, vLLM, LM Studio, any `/chat/completions` server).

Such servers have no Responses `shell` tool, so the catalog goes into the system prompt the way
Codex renders it (`- <name>: <description> (file: <path>/SKILL.md)`) and the model gets one
function tool to read a file. The first tool call decides, through the same path rule as the
Responses router: a `read_file` of a path under a skill's folder triggers that skill.
"""

from __future__ import annotations

import json
import shlex
import time
from typing import Any

import httpx
import openai

from skillstudio.evals.decision import skill_read_by
from skillstudio.evals.routers import RouteRequest, RouterError, RouteResult
from skillstudio.evals.routers._openai_errors import to_router_error
from skillstudio.evals.suite import Suite

READ_FILE_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "read_file",
        "description": "Read a text file from the local file system and return its contents.",
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string", "description": "Absolute path of the file to read."}},
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


class ChatRouter:
    kind = "chat"
    is_estimate = False

    def __init__(self, *, model: str, api_key: str, base_url: str | None = None, timeout: float = 60.0,
                 stream: bool = True) -> None:
        self.model = model
        self.stream = stream
        self.client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
        self.base_url = str(self.client.base_url).rstrip("/")
        self._catalog: list[tuple[str, str]] = []
        self._system = ""

    def prepare(self, suite: Suite) -> None:
        self._catalog = [(e.name, e.path) for e in suite.catalog]
        self._system = system_prompt(suite)

    def request_body(self, req: RouteRequest) -> dict[str, Any]:
        return {"model": self.model,
                "messages": [{"role": "system", "content": self._system},
                             {"role": "user", "content": req.case.prompt}],
                "tools": [READ_FILE_TOOL], "tool_choice": "auto"}

    async def route(self, req: RouteRequest) -> RouteResult:
        body = self.request_body(req)
        start = time.perf_counter()
        try:
            if self.stream:
                return await self._route_stream(body, start)
            completion = await self.client.post("/chat/completions", body=body, cast_to=object)
        except RouterError:
            raise
        except (openai.APIError, Exception) as exc:  # noqa: BLE001 - mapped or re-raised
            raise to_router_error(exc) from None
        latency = time.perf_counter() - start
        choices = _get(completion, "choices") or []
        if not choices:
            raise RouterError("the server returned no choices", retryable=True)
        message = _get(choices[0], "message") or {}
        calls = [(str(_get(_get(c, "function"), "name") or ""), str(_get(_get(c, "function"), "arguments") or ""))
                 for c in _get(message, "tool_calls") or []]
        return self._result(calls[0] if calls else None, None, latency, _usage(_get(completion, "usage")))

    def _result(self, call: tuple[str, str] | None, ttft: float | None, latency: float,
                usage: dict[str, int] | None, early: bool = False) -> RouteResult:
        if call is None:
            return RouteResult(None, None, ttft, latency, usage, ["message"], early)
        name, arguments = call
        cmds = commands_of_tool_call(name, arguments)
        return RouteResult(skill_read_by(cmds, self._catalog), f"{name}: {' && '.join(cmds)}", ttft, latency, usage,
                           [f"tool_call:{name}"], early)

    async def _route_stream(self, body: dict[str, Any], start: float) -> RouteResult:
        """Streams for time-to-first-token. The first tool call decides, so the stream is closed early
        only once a second tool call starts (the first one's arguments are then complete); text alone
        decides nothing until the end, because a model may talk first and call the tool after."""
        stream = await self.client.post(
            "/chat/completions", body={**body, "stream": True, "stream_options": {"include_usage": True}},
            cast_to=object, stream=True, stream_cls=openai.AsyncStream[object])
        ttft: float | None = None
        name, args = "", ""
        have_call = finished = early = False
        usage = None
        try:
            async for chunk in stream:
                if _get(chunk, "usage"):
                    usage = _usage(_get(chunk, "usage"))
                for choice in _get(chunk, "choices") or []:
                    delta = _get(choice, "delta") or {}
                    if ttft is None and (_get(delta, "content") or _get(delta, "tool_calls")):
                        ttft = time.perf_counter() - start
                    for tc in _get(delta, "tool_calls") or []:
                        if (_get(tc, "index") or 0) > 0:
                            early = True
                            break
                        have_call = True
                        fn = _get(tc, "function") or {}
                        name += str(_get(fn, "name") or "")
                        args += str(_get(fn, "arguments") or "")
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
        return self._result((name, args) if have_call else None, ttft, time.perf_counter() - start, usage, early)

    async def aclose(self) -> None:
        await self.client.close()
