"""OpenAI Responses router: the whole catalog offered through the `shell` tool (local environment).

The request goes through the SDK's client (auth, base URL, SSE decoding, API errors) with the body
we build ourselves and the events kept as plain JSON: the typed `responses.create` path re-walks the
whole catalog and validates every event against large models, about 10 ms of CPU per request, which
made a 16-way run CPU-bound on small machines. The tests hold these shapes to the SDK's own types.

Streaming (default) decides as soon as the first shell command that reads a skill settles — or the
first answer text appears — and closes the stream, saving time and tokens. Non-streaming reads the
finished `output`. Both feed the same item-level rule (`decide_items`), so the outcome is identical.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import openai

from skillstudio.evals.decision import skill_read_by
from skillstudio.evals.routers import RouteRequest, RouterError, RouteResult
from skillstudio.evals.routers._openai_errors import to_router_error
from skillstudio.evals.suite import Suite

_NOT_OUTPUT = {"response.created", "response.in_progress", "response.queued"}


def _get(obj: Any, key: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def _commands(item: Any) -> list[str]:
    action = _get(item, "action")
    cmds = _get(action, "commands") if action is not None else None
    return [str(c) for c in cmds or []]


def _is_answer(item: Any) -> bool:
    """A message that is not mere commentary before acting: the model answered without a skill."""
    return _get(item, "type") == "message" and _get(item, "phase") != "commentary"


def decide_items(items: list[Any], catalog: list[tuple[str, str]]) -> tuple[bool, str | None, str | None]:
    """(decided, selected, first_command) from output items in order.

    The first shell call decides by the paths it reads; an answer message first means no skill.
    Reasoning, commentary and any other item types are passed over.
    """
    for item in items:
        kind = _get(item, "type")
        if kind == "shell_call":
            cmds = _commands(item)
            return True, skill_read_by(cmds, catalog), " && ".join(cmds) if cmds else None
        if _is_answer(item):
            return True, None, None
    return False, None, None


def _usage(response: Any) -> dict[str, int] | None:
    u = _get(response, "usage")
    if u is None:
        return None
    return {"input_tokens": int(_get(u, "input_tokens", 0) or 0),
            "output_tokens": int(_get(u, "output_tokens", 0) or 0)}


def _summarise(types: list[str]) -> list[str]:
    out: list[str] = []
    last, count = None, 0
    for t in [*types, None]:
        if t == last:
            count += 1
            continue
        if last is not None:
            out.append(last if count == 1 else f"{last} x{count}")
        last, count = t, 1
    return out


class ResponsesRouter:
    kind = "responses"
    is_estimate = False

    def __init__(self, *, model: str, api_key: str, base_url: str | None = None, stream: bool = True,
                 timeout: float = 60.0) -> None:
        self.model = model
        self.stream = stream
        self.client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
        self.base_url = str(self.client.base_url).rstrip("/")
        self._catalog: list[tuple[str, str]] = []
        self._tools: list[dict[str, Any]] = []

    def prepare(self, suite: Suite) -> None:
        self._catalog = [(e.name, e.path) for e in suite.catalog]
        self._tools = [{"type": "shell",
                        "environment": {"type": "local", "skills": [e.as_param() for e in suite.catalog]}}]

    def request_body(self, req: RouteRequest) -> dict[str, Any]:
        return {"model": self.model, "input": req.case.prompt, "tools": self._tools, "store": False}

    async def route(self, req: RouteRequest) -> RouteResult:
        body = self.request_body(req)
        start = time.perf_counter()
        try:
            if self.stream:
                return await self._route_stream(body, start)
            response = await self.client.post("/responses", body=body, cast_to=object)
        except RouterError:
            raise
        except (openai.APIError, Exception) as exc:  # noqa: BLE001 - mapped or re-raised below
            raise to_router_error(exc) from None
        if _get(response, "status") == "failed":
            raise _failed(response)
        output = list(_get(response, "output") or [])
        _, selected, first = decide_items(output, self._catalog)
        return RouteResult(selected=selected, first_command=first, ttft_s=None,
                           latency_s=time.perf_counter() - start, usage=_usage(response),
                           raw_events_summary=[str(_get(i, "type")) for i in output])

    async def _route_stream(self, body: dict[str, Any], start: float) -> RouteResult:
        stream = await self.client.post("/responses", body={**body, "stream": True}, cast_to=object,
                                        stream=True, stream_cls=openai.AsyncStream[object])
        types: list[str] = []
        ttft: float | None = None
        first_index: int | None = None  # output_index of the first shell call / answer message
        first_kind: str | None = None
        commands: dict[int, str] = {}
        result: RouteResult | None = None
        try:
            async for event in stream:
                etype = str(_get(event, "type"))
                types.append(etype)
                if ttft is None and etype not in _NOT_OUTPUT:
                    ttft = time.perf_counter() - start
                if etype == "response.output_item.added" and first_index is None:
                    item = _get(event, "item")
                    if _get(item, "type") == "shell_call" or _is_answer(item):
                        first_index, first_kind = int(_get(event, "output_index")), str(_get(item, "type"))
                elif etype == "response.shell_call_command.done" and first_kind == "shell_call" \
                        and _get(event, "output_index") == first_index:
                    commands[int(_get(event, "command_index"))] = str(_get(event, "command"))
                    ordered = [commands[i] for i in sorted(commands)]
                    if sorted(commands) == list(range(len(commands))):
                        hit = skill_read_by(ordered, self._catalog)
                        if hit is not None:  # later commands cannot change the first skill read
                            result = RouteResult(hit, " && ".join(ordered), early_stop=True)
                elif etype == "response.output_text.delta" and first_kind == "message" \
                        and _get(event, "output_index") == first_index:
                    result = RouteResult(None, None, early_stop=True)
                elif etype == "response.output_item.done" and _get(event, "output_index") == first_index:
                    decided, selected, first = decide_items([_get(event, "item")], self._catalog)
                    if decided:
                        result = RouteResult(selected, first, early_stop=True)
                elif etype in ("response.completed", "response.incomplete"):
                    response = _get(event, "response")
                    _, selected, first = decide_items(list(_get(response, "output") or []), self._catalog)
                    result = RouteResult(selected, first, usage=_usage(response))
                elif etype == "response.failed":
                    raise _failed(_get(event, "response"))
                elif etype == "error":
                    code = str(_get(event, "code") or "")
                    raise RouterError(f"stream error {code}: {_get(event, 'message')}",
                                      retryable=code in ("", "server_error", "rate_limit_exceeded"))
                if result is not None:
                    break
        except RouterError:
            raise
        except (openai.APIError, httpx.HTTPError) as exc:  # the connection died mid-stream
            cause = exc.__cause__ or exc
            raise RouterError(f"stream dropped: {cause}", retryable=True) from None
        finally:
            await stream.close()
        if result is None:
            raise RouterError("stream dropped: it ended before the response completed", retryable=True)
        result.ttft_s = ttft
        result.latency_s = time.perf_counter() - start
        result.raw_events_summary = _summarise(types)
        return result

    async def aclose(self) -> None:
        await self.client.close()


def _failed(response: Any) -> RouterError:
    err = _get(response, "error")
    code = str(_get(err, "code") or "")
    return RouterError(f"response failed {code}: {_get(err, 'message')}",
                       retryable=code in ("", "server_error", "rate_limit_exceeded"))
