"""OpenAI Responses router: the whole catalog offered through the `shell` tool (local environment).

A run follows the model until it decides (`trajectory.follow`): each turn's items go through the
one rule (`trajectory.settle`); exploring shell calls run in the sandbox and go back as
`shell_call_output` items, until a call reads a skill, the model answers, or the turn budget ends.
Streaming (default) closes a turn's stream as soon as it is settled — a call that reads a skill, or
answer text before any call — saving time and tokens; a turn that explores is read to its end (its
calls are all needed). Non-streaming reads the finished `output`. Both feed the same item-level
rule, so the outcome is identical.

Later turns resend the conversation statelessly (`store: false`): the prompt, the model's shell
calls and messages, and our outputs. Reasoning items are not resent: without stored state or
encrypted content the server could not resolve them, and the calls alone carry the conversation.

The streamed hot path is lean on purpose (a 16-way run was CPU-bound on small machines): one
connection pool per run (`transport.py`: httpcore's own pool, sized to the concurrency, keep-alive;
the httpx client when a proxy is configured), the first turn's body
pre-serialised once per run with only the prompt spliced in, and a minimal SSE reader yielding
plain JSON events. Non-streaming requests go through the SDK client, which is imported and made
only then: a streamed run never loads the SDK (its types cost ~0.5 s of start-up). Usage comes from
the API's usage fields; a stream closed before they came is estimated with the o200k vocabulary
only when the model has a price (a cost is estimated), else it stays unknown. The tests hold the
event and item shapes to the SDK's own types.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import TYPE_CHECKING, Any

from skillstudio.evals.decision import PathRule
from skillstudio.evals.routers import RouteRequest, RouterError, RouteResult
from skillstudio.evals.routers._openai_errors import body_message, status_error, to_router_error
from skillstudio.evals.routers.sse import SSEFormatError, sse_json
from skillstudio.evals.routers.transport import STREAM_ERRORS, StreamTransport
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

if TYPE_CHECKING:
    import openai

OPENAI_BASE_URL = "https://api.openai.com/v1"  # the SDK's default, when neither argument nor env names one
_DROPPED: tuple[type[Exception], ...] = (*STREAM_ERRORS, SSEFormatError)  # while a stream is read
_UNREADABLE: tuple[type[Exception], ...] = (*STREAM_ERRORS, RouterError)  # an error reply's body
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


def entry_of_item(item: Any) -> Entry:
    """A finished output item as the rule sees it."""
    kind = _get(item, "type")
    if kind == "shell_call":
        return Entry("call", Call(str(_get(item, "call_id") or _get(item, "id") or ""), _commands(item)))
    if _is_answer(item):
        return Entry("answer")
    return Entry("other")


def settle_output(items: list[Any], rule: PathRule) -> Settled:
    """The verdict of a finished turn (non-streamed responses, Batch output lines)."""
    s = settle([entry_of_item(i) for i in items], rule, complete=True)
    assert s is not None  # a complete turn always settles
    return s


def _message_text(item: Any) -> str:
    parts = _get(item, "content") or []
    if isinstance(parts, str):
        return parts
    return "".join(str(_get(p, "text") or _get(p, "refusal") or "") for p in parts)


def echo_item(item: Any) -> dict[str, Any] | None:
    """An output item as it is sent back in the next turn's input (None: not sent back)."""
    kind = _get(item, "type")
    if kind == "shell_call":
        action = {"commands": _commands(item)}
        for k in ("timeout_ms", "max_output_length"):
            v = _get(_get(item, "action"), k)
            if v is not None:
                action[k] = v
        return {"type": "shell_call", "call_id": str(_get(item, "call_id") or ""), "action": action,
                "status": "completed"}
    if kind == "message":
        return {"role": "assistant", "content": _message_text(item)}
    return None


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


def _priced(model: str) -> bool:
    """True when the price table knows `model`: its cost is shown, so usage must be counted."""
    from skillstudio.evals.metrics import load_prices

    return model in load_prices()


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


class _Conversation:
    """One run's conversation in the Responses wire format (stateless input chaining)."""

    def __init__(self, router: ResponsesRouter, prompt: str, start: float) -> None:
        self.router = router
        self.prompt = prompt
        self.start = start
        self.items: list[dict[str, Any]] = []  # after the prompt: echoed calls/messages and our outputs

    def body(self) -> dict[str, Any]:
        r = self.router
        if not self.items:
            return {"model": r.model, "input": self.prompt, "tools": r._tools, "store": False}
        return {"model": r.model, "input": [{"role": "user", "content": self.prompt}, *self.items],
                "tools": r._tools, "store": False}

    def add_output(self, items: list[Any]) -> None:
        self.items += [e for e in (echo_item(i) for i in items) if e is not None]

    async def turn(self) -> TurnOut:
        r = self.router
        if not r.stream:
            out, items = await r._whole_turn(self.body())
        else:
            content = r.stream_body(self.prompt) if not self.items else \
                json.dumps({**self.body(), "stream": True}, ensure_ascii=False).encode("utf-8")
            out, items = await r._stream_turn(content, self.start)
            if out.usage is None and r.estimating_usage:
                s = out.settled
                seen = s.decisive.text() if s.decisive else ""
                sent = self.prompt if not self.items else json.dumps(self.body()["input"], ensure_ascii=False)
                out.usage = await r.estimate_usage(sent, seen)
        self.add_output(items)
        return out

    def reply(self, call: Call, outputs: list[CallOutput]) -> None:
        self.items.append({"type": "shell_call_output", "call_id": call.call_id,
                           "output": [o.wire() for o in outputs]})


class ResponsesRouter:
    kind = "responses"
    is_estimate = False

    def __init__(self, *, model: str, api_key: str, base_url: str | None = None, stream: bool = True,
                 timeout: float = 60.0, concurrency: int = 16, max_turns: int = DEFAULT_MAX_TURNS,
                 sandbox: str = "subprocess", count_tokens: bool | None = None) -> None:
        self.model = model
        self.stream = stream
        self.timeout = timeout
        self.api_key = api_key
        # as the SDK resolves them: the argument, else OPENAI_BASE_URL / OPENAI_ORG_ID / OPENAI_PROJECT_ID
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL).rstrip("/")
        self.organization = os.environ.get("OPENAI_ORG_ID") or None
        self.project = os.environ.get("OPENAI_PROJECT_ID") or None
        self._client: openai.AsyncOpenAI | None = None  # the SDK client, made for non-streamed turns only
        # estimate the usage of streams closed early: True, False, or None = when the model has a price
        self.count_tokens = count_tokens
        self.estimating_usage = bool(count_tokens)
        self.concurrency = concurrency
        self.max_turns = max_turns
        self.sandbox = sandbox
        self.turn_timeout: float | None = None  # per model turn (the runner sets it from --timeout)
        self._http: StreamTransport | None = None  # the streaming transport, made on first use
        self._rule = PathRule([])
        self._explorer: Any | None = None
        self._tools: list[dict[str, Any]] = []
        self._tools_tokens: int | None = None  # counted once per run, only if a stream stops early
        self._tools_counting: asyncio.Future[int] | None = None
        self._body_head = b""  # the streamed body up to the prompt, serialised once per run

    @property
    def client(self) -> openai.AsyncOpenAI:
        """The SDK client (non-streamed turns, Batch): imported and made on first use."""
        if self._client is None:
            import openai

            self._client = openai.AsyncOpenAI(api_key=self.api_key, base_url=self.base_url, max_retries=0,
                                              timeout=self.timeout, organization=self.organization,
                                              project=self.project)
        return self._client

    def set_concurrency(self, n: int) -> None:
        """Size the connection pool to the requests in flight (the runner calls this)."""
        self.concurrency = max(1, n)

    def _http_client(self) -> StreamTransport:
        if self._http is None:
            headers = {"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json",
                       "Accept": "text/event-stream", "Accept-Encoding": "identity", "User-Agent": "skillstudio"}
            if self.organization:  # as the SDK would send them (OPENAI_ORG_ID / OPENAI_PROJECT_ID)
                headers["OpenAI-Organization"] = self.organization
            if self.project:
                headers["OpenAI-Project"] = self.project
            self._http = StreamTransport(self.base_url, headers, self.timeout, self.concurrency)
        return self._http

    def prepare(self, suite: Suite) -> None:
        from skillstudio.evals.explore import Explorer

        self._rule = PathRule((e.name, e.path) for e in suite.catalog)
        self._explorer = Explorer(suite.catalog, self.sandbox)
        self._tools = [{"type": "shell",
                        "environment": {"type": "local", "skills": [e.as_param() for e in suite.catalog]}}]
        self._tools_tokens = None
        self._tools_counting = None
        self.estimating_usage = self.stream and (_priced(self.model) if self.count_tokens is None
                                                 else self.count_tokens)
        if self.estimating_usage:  # early stops need a local token estimate: load the vocabulary (~0.4 s of
            # CPU, once per process) in a worker thread now, while the first requests wait on the network
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

    async def estimate_usage(self, sent: str, visible_output: str) -> dict[str, int]:
        """Usage of a stream closed before the server reported it: a local ESTIMATE, flagged as such.

        Input = the catalog (tools JSON) + what this turn sent (the prompt, or the conversation so
        far), counted with o200k_base; the server's own instructions are not included, so this is a
        lower bound. Output = the visible text we saw (the deciding command), not reasoning tokens:
        also a lower bound. The vocabulary loads once, off the event loop.
        """
        if self._tools_tokens is None:
            if self._tools_counting is None:  # prepared outside a running loop
                self._tools_counting = asyncio.ensure_future(
                    asyncio.to_thread(_count_tokens, json.dumps(self._tools, ensure_ascii=False)))
            self._tools_tokens = await self._tools_counting
        return {"input_tokens": self._tools_tokens + _count_tokens(sent),
                "output_tokens": _count_tokens(visible_output) if visible_output else 0, "estimated": 1}

    def request_body(self, req: RouteRequest) -> dict[str, Any]:
        """The first turn's request (the cache key's body and Batch's line body)."""
        return {"model": self.model, "input": req.case.prompt, "tools": self._tools, "store": False}

    def session(self, case: SuiteCase) -> Sandbox:
        assert self._explorer is not None, "prepare() first"
        return self._explorer.session(case)

    async def route(self, req: RouteRequest) -> RouteResult:
        start = time.perf_counter()
        conv = _Conversation(self, req.case.prompt, start)
        return await follow(conv, max_turns=self.max_turns, sandbox=lambda: self.session(req.case), start=start,
                            turn_timeout=self.turn_timeout)

    async def continue_run(self, case: SuiteCase, first_output: list[Any], first_usage: dict[str, int] | None,
                           start: float) -> RouteResult:
        """Follow a run whose first turn was answered elsewhere (a Batch output line)."""
        conv = _Conversation(self, case.prompt, start)
        first = TurnOut(settle_output(first_output, self._rule), first_usage,
                        events=[str(_get(i, "type")) for i in first_output])
        conv.add_output(first_output)
        return await follow(conv, max_turns=self.max_turns, sandbox=lambda: self.session(case), start=start,
                            first=first, turn_timeout=self.turn_timeout)

    async def _whole_turn(self, body: dict[str, Any]) -> tuple[TurnOut, list[Any]]:
        client = self.client
        try:
            response = await client.post("/responses", body=body, cast_to=object)
        except Exception as exc:  # noqa: BLE001 - SDK and transport errors, mapped below
            raise to_router_error(exc) from None
        if _get(response, "status") == "failed":
            raise _failed(response)
        output = list(_get(response, "output") or [])
        return TurnOut(settle_output(output, self._rule), _usage(response),
                       events=[str(_get(i, "type")) for i in output]), output

    async def _stream_turn(self, content: bytes, start: float) -> tuple[TurnOut, list[Any]]:
        resp = await self._http_client().post(self.base_url + "/responses", content)
        if resp.status >= 400:
            try:
                raw = await resp.read()
            except _UNREADABLE:
                raw = b""
            finally:
                await resp.aclose()
            raise status_error(resp.status, resp.headers, body_message(raw, resp.reason))
        try:
            events = sse_json(resp.chunks())
        except RouterError:
            await resp.aclose()
            raise
        types: list[str] = []
        ttft: float | None = None
        entries: dict[int, Entry] = {}  # by output_index
        commands: dict[int, dict[int, str]] = {}
        finished: dict[int, Any] = {}  # output_item.done items, by output_index
        settled: Settled | None = None
        usage: dict[str, int] | None = None
        output: list[Any] = []
        complete = False
        rule = self._rule
        try:
            async for event in events:
                etype = str(_get(event, "type"))
                types.append(etype)
                if etype in _NOT_OUTPUT:
                    if usage is None:  # a server may report usage on response.created
                        usage = _usage(_get(event, "response"))
                    continue
                if ttft is None:
                    ttft = time.perf_counter() - start
                oi = _get(event, "output_index")
                changed = False
                if etype == "response.output_item.added":
                    item = _get(event, "item")
                    kind = _get(item, "type")
                    if kind == "shell_call":
                        entries[int(oi)] = Entry("call", Call(str(_get(item, "call_id") or ""), [], done=False))
                    else:  # an answer counts from its first text (a message may still be commentary)
                        entries[int(oi)] = Entry("pending" if _is_answer(item) else "other")
                    changed = True
                elif etype == "response.shell_call_command.done":
                    got = commands.setdefault(int(oi), {})
                    got[int(_get(event, "command_index"))] = str(_get(event, "command"))
                    entry = entries.get(int(oi))
                    if entry is not None and entry.call is not None and sorted(got) == list(range(len(got))):
                        entry.call.commands = [got[i] for i in sorted(got)]
                        changed = True
                elif etype == "response.output_text.delta":
                    if entries.get(int(oi), Entry("other")).kind == "pending":
                        entries[int(oi)] = Entry("answer")
                        changed = True
                elif etype == "response.output_item.done":
                    item = _get(event, "item")
                    finished[int(oi)] = item
                    entries[int(oi)] = entry_of_item(item)
                    changed = True
                elif etype in ("response.completed", "response.incomplete"):
                    response = _get(event, "response")
                    output = list(_get(response, "output") or []) or [finished[i] for i in sorted(finished)]
                    usage = _usage(response) or usage
                    settled = settle_output(output, rule)
                    complete = True
                    break
                elif etype == "response.failed":
                    raise _failed(_get(event, "response"))
                elif etype == "error":
                    code = str(_get(event, "code") or "")
                    raise RouterError(f"stream error {code}: {_get(event, 'message')}",
                                      retryable=code in ("", "server_error", "rate_limit_exceeded"))
                if changed:
                    settled = settle([entries[i] for i in sorted(entries)], rule, complete=False)
                    if settled is not None:
                        break
        except RouterError:
            raise
        except _DROPPED as exc:  # the connection died mid-stream
            raise RouterError(f"stream dropped: {exc.__class__.__name__}: {exc}", retryable=True) from None
        finally:
            await events.aclose()
            await resp.aclose()  # early stop: closing the connection ends the generation server-side
        if settled is None:
            raise RouterError("stream dropped: it ended before the response completed", retryable=True)
        return TurnOut(settled, usage, ttft, early_stop=not complete, events=_summarise(types)), output

    async def aclose(self) -> None:
        if self._explorer is not None:
            await asyncio.to_thread(self._explorer.close)
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._client is not None:
            await self._client.close()
            self._client = None


def _failed(response: Any) -> RouterError:
    err = _get(response, "error")
    code = str(_get(err, "code") or "")
    return RouterError(f"response failed {code}: {_get(err, 'message')}",
                       retryable=code in ("", "server_error", "rate_limit_exceeded"))
