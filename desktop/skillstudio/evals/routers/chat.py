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

    def __init__(self, *, model: str, api_key: str, base_url: str | None = None, timeout: float = 60.0) -> None:
        self.model = model
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
            completion = await self.client.chat.completions.create(**body)
        except (openai.APIError, Exception) as exc:  # noqa: BLE001 - mapped or re-raised
            raise to_router_error(exc) from None
        latency = time.perf_counter() - start
        if not completion.choices:
            raise RouterError("the server returned no choices", retryable=True)
        message = completion.choices[0].message
        usage = None
        if completion.usage is not None:
            usage = {"input_tokens": completion.usage.prompt_tokens,
                     "output_tokens": completion.usage.completion_tokens}
        calls = message.tool_calls or []
        if not calls:
            return RouteResult(None, None, None, latency, usage, ["message"])
        call = calls[0]
        fn = getattr(call, "function", None)
        name = getattr(fn, "name", "") or ""
        cmds = commands_of_tool_call(name, getattr(fn, "arguments", "") or "")
        return RouteResult(skill_read_by(cmds, self._catalog), f"{name}: {' && '.join(cmds)}", None, latency,
                           usage, [f"tool_call:{name}"])

    async def aclose(self) -> None:
        await self.client.close()
