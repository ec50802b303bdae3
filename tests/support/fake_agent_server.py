"""A scripted OpenAI-compatible HTTP server for agent-loop tests (a test double at the HTTP boundary).

Our code reaches it through the real openai SDK over a real socket. It answers `POST /responses`,
`POST /responses/compact` and `POST /chat/completions` with JSON in the wire shapes of
`openai.types.responses` / `openai.types.chat`, and records every request body so a test can check
exactly what was sent back to the "model" (shell outputs, compaction, redaction). Each test scripts
the model: a list of replies consumed one per request, or a function of the request body.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = dict[str, Any] | tuple[int, dict[str, Any]]
Handler = Callable[[str, dict[str, Any]], Reply]
_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}"


# ---------------------------------------------------------------- Responses wire shapes

def usage(input_tokens: int = 100, output_tokens: int = 20) -> dict[str, Any]:
    return {"input_tokens": input_tokens, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": output_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens}


def shell_call(*commands: str, call_id: str | None = None, timeout_ms: int | None = None,
               max_output_length: int | None = None, environment: str = "local") -> dict[str, Any]:
    return {"type": "shell_call", "id": _id("sh"), "call_id": call_id or _id("call"), "status": "completed",
            "action": {"commands": list(commands), "timeout_ms": timeout_ms, "max_output_length": max_output_length},
            "environment": {"type": environment} if environment == "local" else {"type": "container_reference",
                                                                                 "container_id": "cntr_1"}}


def shell_call_output(call_id: str, *outputs: tuple[str, str, int | None]) -> dict[str, Any]:
    """Hosted: what the container ran. Each output is (stdout, stderr, exit code or None for timeout)."""
    return {"type": "shell_call_output", "id": _id("sho"), "call_id": call_id, "status": "completed",
            "max_output_length": None,
            "output": [{"stdout": o, "stderr": e, "outcome": ({"type": "exit", "exit_code": c} if c is not None
                                                            else {"type": "timeout"})} for o, e, c in outputs]}


def message(text: str, phase: str | None = None) -> dict[str, Any]:
    m: dict[str, Any] = {"type": "message", "id": _id("msg"), "role": "assistant", "status": "completed",
                         "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}
    if phase:
        m["phase"] = phase
    return m


def reasoning() -> dict[str, Any]:
    return {"type": "reasoning", "id": _id("rs"), "summary": [], "encrypted_content": "opaque-reasoning"}


def compaction_item(content: str) -> dict[str, Any]:
    return {"type": "compaction", "id": _id("cmp"), "encrypted_content": content}


def response(output: list[dict[str, Any]], *, status: str = "completed", in_tokens: int = 100,
             out_tokens: int = 20, model: str = "gpt-test", incomplete_reason: str | None = None) -> dict[str, Any]:
    return {"id": _id("resp"), "object": "response", "created_at": 1764000000, "model": model, "status": status,
            "output": output, "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "error": None,
            "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
            "instructions": None, "metadata": {}, "temperature": 1.0, "top_p": 1.0, "store": False,
            "text": {"format": {"type": "text"}}, "usage": usage(in_tokens, out_tokens)}


def compacted(output: list[dict[str, Any]]) -> dict[str, Any]:
    """A `/responses/compact` reply (CompactedResponse)."""
    return {"id": _id("resp"), "object": "response.compaction", "created_at": 1764000000, "output": output,
            "usage": usage(50, 10)}


def error(status: int, message: str, code: str = "server_error") -> tuple[int, dict[str, Any]]:
    return status, {"error": {"message": message, "type": code, "code": code, "param": None}}


# ---------------------------------------------------------------- chat wire shapes

def chat(content: str | None = None, tool_calls: list[tuple[str, str, dict[str, Any] | str]] | None = None,
         *, prompt_tokens: int = 100, completion_tokens: int = 20, finish_reason: str | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        msg["tool_calls"] = [{"id": cid, "type": "function",
                              "function": {"name": name,
                                           "arguments": args if isinstance(args, str) else json.dumps(args)}}
                             for cid, name, args in tool_calls]
    return {"id": _id("chatcmpl"), "object": "chat.completion", "created": 1764000000, "model": "local-model",
            "choices": [{"index": 0, "message": msg, "logprobs": None,
                         "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop")}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}


def sse_events(resp: dict[str, Any]) -> list[dict[str, Any]]:
    """The Responses event stream that ends in `resp` (items added, deltas, done, completed)."""
    start = dict(resp, status="in_progress", output=[], usage=None)
    ev: list[dict[str, Any]] = [{"type": "response.created", "response": start},
                                {"type": "response.in_progress", "response": start}]
    for i, item in enumerate(resp["output"]):
        if item["type"] == "message":
            ev.append({"type": "response.output_item.added", "output_index": i,
                       "item": dict(item, status="in_progress", content=[])})
            text = item["content"][0]["text"]
            for k in range(0, len(text), 7):
                ev.append({"type": "response.output_text.delta", "output_index": i, "item_id": item["id"],
                           "content_index": 0, "delta": text[k:k + 7], "logprobs": []})
            ev.append({"type": "response.output_text.done", "output_index": i, "item_id": item["id"],
                       "content_index": 0, "text": text, "logprobs": []})
        elif item["type"] == "shell_call":
            ev.append({"type": "response.output_item.added", "output_index": i,
                       "item": dict(item, status="in_progress", action=dict(item["action"], commands=[]))})
            for ci, cmd in enumerate(item["action"]["commands"]):
                ev.append({"type": "response.shell_call_command.added", "output_index": i, "command_index": ci,
                           "command": ""})
                ev.append({"type": "response.shell_call_command.delta", "output_index": i, "command_index": ci,
                           "delta": cmd})
                ev.append({"type": "response.shell_call_command.done", "output_index": i, "command_index": ci,
                           "command": cmd})
        else:
            ev.append({"type": "response.output_item.added", "output_index": i, "item": item})
        ev.append({"type": "response.output_item.done", "output_index": i, "item": item})
    ev.append({"type": "response.completed" if resp["status"] == "completed" else "response.incomplete",
               "response": resp})
    for n, e in enumerate(ev):
        e["sequence_number"] = n
    return ev


# ---------------------------------------------------------------- the server

@dataclass
class Received:
    kind: str  # "responses" | "compact" | "chat"
    body: dict[str, Any]
    raw: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class Script:
    """Replies consumed in order per kind; an exhausted script answers 500 (and the test sees why)."""

    def __init__(self, responses: list[Reply | Callable[[dict[str, Any]], Reply]] | None = None,
                 chat: list[Reply | Callable[[dict[str, Any]], Reply]] | None = None,
                 compact: list[Reply | Callable[[dict[str, Any]], Reply]] | None = None) -> None:
        self.queues = {"responses": list(responses or []), "chat": list(chat or []), "compact": list(compact or [])}

    def __call__(self, kind: str, body: dict[str, Any]) -> Reply:
        q = self.queues[kind]
        if not q:
            return error(500, f"fake server: no scripted reply left for {kind}")
        nxt = q.pop(0)
        return nxt(body) if callable(nxt) else nxt


class FakeAgentServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.received: list[Received] = []
        self.lock = threading.Lock()
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                path = self.path.split("?")[0].rstrip("/")
                kind = {"/v1/responses": "responses", "/v1/responses/compact": "compact",
                        "/v1/chat/completions": "chat"}.get(path)
                if kind is None:
                    return self._send(404, {"error": {"message": f"no route {path}", "type": "not_found"}})
                body = json.loads(raw or b"{}")
                with outer.lock:
                    outer.received.append(Received(kind, body, raw, dict(self.headers)))
                try:
                    reply = outer.handler(kind, body)
                except Exception as exc:  # noqa: BLE001 - a broken script shows up as a 500 with the reason
                    reply = error(500, f"fake server script failed: {exc!r}")
                status, payload = reply if isinstance(reply, tuple) else (200, reply)
                if kind == "responses" and body.get("stream") and status == 200:
                    return self._stream(sse_events(payload))
                self._send(status, payload)

            def _stream(self, events: list[dict[str, Any]]) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                for e in events:
                    data = f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="fake-agent-server", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def bodies(self, kind: str = "responses") -> list[dict[str, Any]]:
        with self.lock:
            return [r.body for r in self.received if r.kind == kind]

    def raw_text(self) -> str:
        with self.lock:
            return "\n".join(r.raw.decode("utf-8", "replace") for r in self.received)

    def __enter__(self) -> FakeAgentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def outputs_sent(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The `shell_call_output` items of a Responses request body."""
    return [i for i in body.get("input") or [] if isinstance(i, dict) and i.get("type") == "shell_call_output"]
