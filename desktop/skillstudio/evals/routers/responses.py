"""OpenAI Responses router: the whole catalog offered through the `shell` tool (local environment).

Streaming (default) decides as soon as the first shell command that reads a skill settles — or the
first answer text appears — and closes the stream, saving time and tokens. Non-streaming reads the
finished `output`. Both feed the same item-level rule (`decide_items`), so the outcome is identical.

The streamed hot path is lean on purpose (a 16-way run was CPU-bound on small machines): one
shared httpx.AsyncClient per run (pool sized to the concurrency, keep-alive), the request body
pre-serialised once per run with only the prompt spliced in, and a minimal SSE reader yielding
plain JSON events. Non-streaming requests go through the SDK client. The tests hold the event and
item shapes to the SDK's own types.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import openai

from skillstudio.evals.decision import skill_read_by
from skillstudio.evals.routers import RouteRequest, RouterError, RouteResult
from skillstudio.evals.routers._openai_errors import body_message, status_error, to_router_error
from skillstudio.evals.routers.sse import SSEFormatError, sse_json
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


def _count_tokens(text: str) -> int:
    """o200k_base count (offline); ~4 characters a token if the vocabulary is unavailable."""
    from skillstudio.bundle import tokens
    from skillstudio.errors import EnvironmentProblem

    try:
        return tokens.count(text)
    except EnvironmentProblem:
        return max(1, len(text) // 4)


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
                 timeout: float = 60.0, concurrency: int = 16) -> None:
        self.model = model
        self.stream = stream
        self.timeout = timeout
        self.client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
        self.base_url = str(self.client.base_url).rstrip("/")
        self.concurrency = concurrency
        self._http: httpx.AsyncClient | None = None  # the streaming transport, made on first use
        self._catalog: list[tuple[str, str]] = []
        self._tools: list[dict[str, Any]] = []
        self._tools_tokens: int | None = None  # counted once per run, only if a stream stops early
        self._tools_counting: asyncio.Future[int] | None = None
        self._body_head = b""  # the streamed body up to the prompt, serialised once per run

    def set_concurrency(self, n: int) -> None:
        """Size the connection pool to the requests in flight (the runner calls this)."""
        self.concurrency = max(1, n)

    def _http_client(self) -> httpx.AsyncClient:
        if self._http is None:
            n = max(1, self.concurrency)
            headers = {"Authorization": f"Bearer {self.client.api_key}", "Content-Type": "application/json",
                       "Accept": "text/event-stream", "Accept-Encoding": "identity", "User-Agent": "skillstudio"}
            if self.client.organization:  # as the SDK would send them (OPENAI_ORG_ID / OPENAI_PROJECT_ID)
                headers["OpenAI-Organization"] = self.client.organization
            if self.client.project:
                headers["OpenAI-Project"] = self.client.project
            self._http = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout), http2=False, trust_env=True,
                limits=httpx.Limits(max_connections=n, max_keepalive_connections=n, keepalive_expiry=30.0),
                headers=headers)
        return self._http

    def prepare(self, suite: Suite) -> None:
        self._catalog = [(e.name, e.path) for e in suite.catalog]
        self._tools = [{"type": "shell",
                        "environment": {"type": "local", "skills": [e.as_param() for e in suite.catalog]}}]
        self._tools_tokens = None
        self._tools_counting = None
        if self.stream:  # early stops need a local token estimate: load the vocabulary (~0.4 s of CPU,
            # once per process) in a worker thread now, while the first requests wait on the network
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                tools_json = json.dumps(self._tools, ensure_ascii=False)
                self._tools_counting = loop.run_in_executor(None, _count_tokens, tools_json)
        # Same members as request_body() plus "stream"; the prompt is the last member, spliced in per request.
        head = json.dumps({"model": self.model, "tools": self._tools, "store": False, "stream": True},
                          ensure_ascii=False)
        self._body_head = (head[:-1] + ', "input": ').encode("utf-8")

    def stream_body(self, prompt: str) -> bytes:
        return self._body_head + json.dumps(prompt, ensure_ascii=False).encode("utf-8") + b"}"

    async def estimate_usage(self, prompt: str, visible_output: str) -> dict[str, int]:
        """Usage of a stream closed before the server reported it: a local ESTIMATE, flagged as such.

        Input = the catalog (tools JSON) + the prompt, counted with o200k_base; the server's own
        instructions are not included, so this is a lower bound. Output = the visible text we saw
        (the first command), not reasoning tokens: also a lower bound. The vocabulary loads once,
        off the event loop, so the requests in flight do not wait for it.
        """
        if self._tools_tokens is None:
            if self._tools_counting is None:  # prepared outside a running loop
                self._tools_counting = asyncio.ensure_future(
                    asyncio.to_thread(_count_tokens, json.dumps(self._tools, ensure_ascii=False)))
            self._tools_tokens = await self._tools_counting
        return {"input_tokens": self._tools_tokens + _count_tokens(prompt),
                "output_tokens": _count_tokens(visible_output) if visible_output else 0, "estimated": 1}

    def request_body(self, req: RouteRequest) -> dict[str, Any]:
        return {"model": self.model, "input": req.case.prompt, "tools": self._tools, "store": False}

    async def route(self, req: RouteRequest) -> RouteResult:
        start = time.perf_counter()
        try:
            if self.stream:
                result = await self._route_stream(req.case.prompt, start)
                if result.usage is None:
                    result.usage = await self.estimate_usage(req.case.prompt, result.first_command or "")
                return result
            response = await self.client.post("/responses", body=self.request_body(req), cast_to=object)
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

    async def _route_stream(self, prompt: str, start: float) -> RouteResult:
        http = self._http_client()
        try:
            resp = await http.send(http.build_request("POST", self.base_url + "/responses",
                                                      content=self.stream_body(prompt)), stream=True)
        except httpx.TimeoutException:
            raise RouterError("request timed out", retryable=True) from None
        except httpx.TransportError as exc:
            raise RouterError(f"connection failed: {exc.__class__.__name__}: {exc}", retryable=True) from None
        if resp.status_code >= 400:
            try:
                raw = await resp.aread()
            except httpx.HTTPError:
                raw = b""
            finally:
                await resp.aclose()
            raise status_error(resp.status_code, resp.headers, body_message(raw, resp.reason_phrase))
        plain = resp.headers.get("content-encoding", "identity") == "identity"  # asked for; skip the decoders
        events = sse_json(resp.aiter_raw() if plain else resp.aiter_bytes())
        types: list[str] = []
        ttft: float | None = None
        first_index: int | None = None  # output_index of the first shell call / answer message
        first_kind: str | None = None
        commands: dict[int, str] = {}
        result: RouteResult | None = None
        early_usage: dict[str, int] | None = None  # a server may report usage on response.created
        try:
            async for event in events:
                etype = str(_get(event, "type"))
                types.append(etype)
                if etype in _NOT_OUTPUT and early_usage is None:
                    early_usage = _usage(_get(event, "response"))
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
        except (httpx.HTTPError, SSEFormatError) as exc:  # the connection died mid-stream
            raise RouterError(f"stream dropped: {exc.__class__.__name__}: {exc}", retryable=True) from None
        finally:
            await events.aclose()
            await resp.aclose()  # early stop: closing the connection ends the generation server-side
        if result is None:
            raise RouterError("stream dropped: it ended before the response completed", retryable=True)
        result.ttft_s = ttft
        if result.usage is None:
            result.usage = early_usage
        result.latency_s = time.perf_counter() - start
        result.raw_events_summary = _summarise(types)
        return result

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        await self.client.close()


def _failed(response: Any) -> RouterError:
    err = _get(response, "error")
    code = str(_get(err, "code") or "")
    return RouterError(f"response failed {code}: {_get(err, 'message')}",
                       retryable=code in ("", "server_error", "rate_limit_exceeded"))
