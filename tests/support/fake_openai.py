"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for trigger-test tests.

This is a test double at the HTTP boundary only: our code talks to it through the real openai SDK
over real sockets. It speaks the Responses wire format (JSON, and SSE with the event types and item
shapes of `openai.types.responses`) and `/chat/completions`. The "model" is a keyword table the
test writes: the first keyword found in the prompt names the skill it reads; no keyword → it
answers in text. Like real models it can look around first (`explore`: one shell call per turn —
`ls -la`, `rg -l invoice .`, `cat README.md` — before it reads or answers; the chat side reads
paths with `read_file`), and it sees what those calls returned (`outputs_seen`). Faults can be
injected per prompt: 429 with Retry-After, 500, a hang (timeout), a stream cut mid-chunk, a stream
that ends early, a refused key (401).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    """What the scripted model does. Keys of `keywords` are matched case-insensitively in the prompt."""

    keywords: list[tuple[str, str]] = field(default_factory=list)  # (keyword, skill name)
    command_style: str = "cat {path}/SKILL.md"
    reasoning_first: bool = True
    # prompt substring -> list of outcomes consumed one per call, e.g. ["crm-query", None, "crm-query"]
    sequences: dict[str, list[str | None]] = field(default_factory=dict)
    # prompt substring -> list of faults consumed one per call; a fault ending in "*" repeats forever.
    faults: dict[str, list[str]] = field(default_factory=dict)
    retry_after: str = "0"
    delay_s: float = 0.0  # per request, before the first byte
    jitter_by_prompt: bool = False  # vary the delay per prompt so completions arrive out of order
    text_deltas: int = 5
    refuse_key: str | None = None  # this API key gets 401
    chat_talk_first: bool = False  # chat: some text before the tool call, as chatty local models do
    # description optimizer: replies given in order to "improve the description" requests
    proposals: list[dict[str, Any]] = field(default_factory=list)
    batch_polls: int = 2  # retrieves before a batch reports "completed"
    # a model that reads descriptions: a skill whose "Do not use for A, B or C." names a phrase found in
    # the prompt is passed over (the next keyword decides), as a careful model would
    heeds_exclusions: bool = False
    models: list[str] = field(default_factory=lambda: ["gpt-5.4", "llama3.1"])  # GET /models
    # POST endpoints this server has ("responses", "completions"); None: all. A chat-only local server
    # (LM Studio, older Ollama) answers 404 on /responses.
    endpoints: tuple[str, ...] | None = None
    # prompt substring -> the shell commands of the exploring turns before it decides, one call per
    # turn (" ;; " splits one call into several commands); more turns than the budget = never decides
    explore: dict[str, list[str]] = field(default_factory=dict)
    # chat: prompt substring -> paths it reads with read_file, one per turn, before it decides
    chat_explore: dict[str, list[str]] = field(default_factory=dict)
    # a turn that explores may say something first (a commentary message before the call)
    explore_commentary: bool = False


class _State:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.lock = threading.RLock()
        self.calls: Counter[str] = Counter()  # by endpoint
        self.bodies: list[dict[str, Any]] = []
        self.prompt_calls: Counter[str] = Counter()
        self.fault_pos: Counter[str] = Counter()
        self.seq_pos: Counter[str] = Counter()
        self.disconnects = 0
        self.auth: list[str] = []  # Authorization headers seen, to check which key was used
        self.files: dict[str, tuple[str, bytes]] = {}  # id -> (purpose, content)
        self.batches: dict[str, dict[str, Any]] = {}
        self.batch_polls: Counter[str] = Counter()
        self.outputs_seen: list[tuple[str, str]] = []  # (prompt, a tool output sent back to the model)
        self.turns: Counter[int] = Counter()  # requests by model turn (1 = the prompt alone)

    def next_fault(self, prompt: str) -> str | None:
        with self.lock:
            for key, faults in self.script.faults.items():
                if key in prompt and faults:
                    i = self.fault_pos[key]
                    if i < len(faults):
                        self.fault_pos[key] += 1
                        return faults[i].rstrip("*")
                    if faults[-1].endswith("*"):
                        return faults[-1].rstrip("*")
        return None

    def choose(self, prompt: str, descriptions: dict[str, str] | None = None) -> str | None:
        with self.lock:
            for key, seq in self.script.sequences.items():
                if key in prompt:
                    i = self.seq_pos[key]
                    self.seq_pos[key] += 1
                    return seq[i % len(seq)]
        low = prompt.lower()
        for kw, skill in self.script.keywords:
            if kw.lower() in low:
                if self.script.heeds_exclusions and excluded(low, (descriptions or {}).get(skill, "")):
                    continue
                return skill
        return None


def excluded(prompt_lower: str, description: str) -> bool:
    """True when the description's "do not use for ..." sentence names a phrase that is in the prompt."""
    m = re.search(r"do not use (?:it )?for ([^.]*)", description, flags=re.I)
    if not m:
        return False
    phrases = [p.strip().lower() for p in re.split(r",|\bor\b|\band\b|;", m.group(1)) if p.strip()]
    return any(p in prompt_lower for p in phrases)


def _usage() -> dict[str, Any]:
    return {"input_tokens": 120, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": 30, "output_tokens_details": {"reasoning_tokens": 10}, "total_tokens": 150}


def _response(rid: str, model: str, tools: list[Any], output: list[Any], status: str) -> dict[str, Any]:
    return {"id": rid, "object": "response", "created_at": 1764000000, "model": model, "status": status,
            "output": output, "parallel_tool_calls": True, "tool_choice": "auto", "tools": tools,
            "error": None, "incomplete_details": None, "instructions": None, "metadata": {},
            "temperature": 1.0, "top_p": 1.0, "store": False, "text": {"format": {"type": "text"}},
            "usage": _usage() if status == "completed" else None}


def responses_prompt(body: dict[str, Any]) -> str:
    """The user's prompt of a Responses request (a string, or the first user message of a conversation)."""
    inp = body.get("input")
    if isinstance(inp, str):
        return inp
    for item in inp or []:
        if isinstance(item, dict) and item.get("role") == "user":
            content = item.get("content")
            return content if isinstance(content, str) else json.dumps(content)
    return json.dumps(inp)


def responses_turn(body: dict[str, Any]) -> int:
    """0 for the first turn; n after n shell calls were answered."""
    inp = body.get("input")
    if isinstance(inp, str):
        return 0
    return sum(1 for i in inp or [] if isinstance(i, dict) and i.get("type") == "shell_call_output")


def _explore_step(script: Script, table: dict[str, list[str]], prompt: str, turn: int) -> str | None:
    for key, steps in table.items():
        if key in prompt and turn < len(steps):
            return steps[turn]
    return None


def plan_output(state: _State, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The output items the scripted model produces for a Responses request."""
    prompt = responses_prompt(body)
    turn = responses_turn(body)
    with state.lock:
        state.turns[turn + 1] += 1
        if not isinstance(body.get("input"), str):
            for item in body.get("input") or []:
                if isinstance(item, dict) and item.get("type") == "shell_call_output":
                    text = "".join(o.get("stdout", "") + o.get("stderr", "") for o in item.get("output") or [])
                    if (prompt, text) not in state.outputs_seen:
                        state.outputs_seen.append((prompt, text))
    step = _explore_step(state.script, state.script.explore, prompt, turn)
    if step is not None:
        items: list[dict[str, Any]] = []
        if state.script.reasoning_first:
            items.append({"type": "reasoning", "id": f"rs_{turn}", "summary": []})
        if state.script.explore_commentary:
            items.append({"type": "message", "id": f"msg_c{turn}", "role": "assistant", "status": "completed",
                          "phase": "commentary",
                          "content": [{"type": "output_text", "text": "Let me look at the files first.",
                                       "annotations": [], "logprobs": []}]})
        items.append({"type": "shell_call", "id": f"sh_x{turn}", "call_id": f"call_x{turn}", "status": "completed",
                      "action": {"commands": step.split(" ;; "), "timeout_ms": None, "max_output_length": None},
                      "environment": {"type": "local"}})
        return items
    skills, descriptions = {}, {}
    for tool in body.get("tools") or []:
        env = tool.get("environment") or {}
        for s in env.get("skills") or []:
            skills[s["name"]] = s["path"]
            descriptions[s["name"]] = s.get("description", "")
    chosen = state.choose(prompt, descriptions)
    items: list[dict[str, Any]] = []
    if state.script.reasoning_first:
        items.append({"type": "reasoning", "id": "rs_1", "summary": []})
    if chosen and chosen in skills:
        cmds = [c.format(path=skills[chosen]) for c in state.script.command_style.split(" ;; ")]
        items.append({"type": "shell_call", "id": "sh_1", "call_id": "call_1", "status": "completed",
                      "action": {"commands": cmds, "timeout_ms": None, "max_output_length": None},
                      "environment": {"type": "local"}})
    else:
        items.append({"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                      "content": [{"type": "output_text", "text": "Here is a direct answer without any skill.",
                                   "annotations": [], "logprobs": []}]})
    return items


def sse_events(rid: str, body: dict[str, Any], output: list[dict[str, Any]], text_deltas: int) -> list[dict]:
    """The Responses event stream for `output`, as the API sends it."""
    model, tools = body.get("model", "m"), body.get("tools", [])
    ev: list[dict[str, Any]] = []
    ev.append({"type": "response.created", "response": _response(rid, model, tools, [], "in_progress")})
    ev.append({"type": "response.in_progress", "response": _response(rid, model, tools, [], "in_progress")})
    for i, item in enumerate(output):
        if item["type"] == "reasoning":
            ev.append({"type": "response.output_item.added", "output_index": i, "item": item})
            ev.append({"type": "response.output_item.done", "output_index": i, "item": item})
        elif item["type"] == "shell_call":
            start = dict(item, status="in_progress", action=dict(item["action"], commands=[]))
            ev.append({"type": "response.output_item.added", "output_index": i, "item": start})
            for ci, cmd in enumerate(item["action"]["commands"]):
                ev.append({"type": "response.shell_call_command.added", "output_index": i, "command_index": ci,
                           "command": ""})
                half = len(cmd) // 2
                for piece in (cmd[:half], cmd[half:]):
                    ev.append({"type": "response.shell_call_command.delta", "output_index": i,
                               "command_index": ci, "delta": piece})
                ev.append({"type": "response.shell_call_command.done", "output_index": i, "command_index": ci,
                           "command": cmd})
            ev.append({"type": "response.output_item.done", "output_index": i, "item": item})
        else:
            text = item["content"][0]["text"]
            start = dict(item, status="in_progress", content=[])
            ev.append({"type": "response.output_item.added", "output_index": i, "item": start})
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            ev.append({"type": "response.content_part.added", "output_index": i, "item_id": item["id"],
                       "content_index": 0, "part": part})
            words = re.findall(r"\S+\s*", text)
            step = max(1, len(words) // max(1, text_deltas))
            for w in range(0, len(words), step):
                ev.append({"type": "response.output_text.delta", "output_index": i, "item_id": item["id"],
                           "content_index": 0, "delta": "".join(words[w:w + step]), "logprobs": []})
            ev.append({"type": "response.output_text.done", "output_index": i, "item_id": item["id"],
                       "content_index": 0, "text": text, "logprobs": []})
            ev.append({"type": "response.content_part.done", "output_index": i, "item_id": item["id"],
                       "content_index": 0, "part": dict(part, text=text)})
            ev.append({"type": "response.output_item.done", "output_index": i, "item": item})
    ev.append({"type": "response.completed", "response": _response(rid, model, tools, output, "completed")})
    for n, e in enumerate(ev):
        e["sequence_number"] = n
    return ev


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # SSE is many small writes: no 40 ms Nagle/delayed-ACK stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    # ------------------------------------------------------------------ Files and Batches API
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        st = self.server.state
        parts = self.path.split("?")[0].strip("/").split("/")
        with st.lock:
            st.calls["GET " + "/".join(p for p in parts if not p.startswith(("batch_", "file-")))] += 1
        if len(parts) >= 3 and parts[-3] == "batches" or (len(parts) >= 2 and parts[-2] == "batches"):
            bid = parts[-1]
            batch = st.batches.get(bid)
            if batch is None:
                self._json(404, {"error": {"message": "no such batch"}})
                return
            with st.lock:
                st.batch_polls[bid] += 1
                if batch["status"] not in ("cancelled", "completed"):
                    batch["status"] = "completed" if st.batch_polls[bid] >= st.script.batch_polls else "in_progress"
                if batch["status"] in ("completed", "cancelled") and not batch.get("_finalized"):
                    self._finalize_batch(batch)
            self._json(200, {k: v for k, v in batch.items() if not k.startswith("_")})
            return
        if parts[-2:] == ["v1", "models"]:  # GET /v1/models, as OpenAI-compatible servers list them
            self._json(200, {"object": "list", "data": [{"id": m, "object": "model", "created": 1764000000,
                                                         "owned_by": "local"} for m in st.script.models]})
            return
        if len(parts) >= 2 and parts[-1] == "content" and parts[-2] in st.files:
            raw = st.files[parts[-2]][1]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
            return
        self._json(404, {"error": {"message": f"unknown endpoint {self.path}"}})

    def _upload(self, raw: bytes) -> None:
        from email import policy
        from email.parser import BytesParser

        st = self.server.state
        head = b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n"
        msg = BytesParser(policy=policy.default).parsebytes(head + raw)
        fields = {part.get_param("name", header="content-disposition"): part for part in msg.iter_parts()}
        content = fields["file"].get_payload(decode=True)
        purpose = fields["purpose"].get_payload(decode=True).decode()
        fid = f"file-{len(st.files) + 1}"
        st.files[fid] = (purpose, content)
        self._json(200, {"id": fid, "object": "file", "bytes": len(content), "created_at": 1764000000,
                         "filename": fields["file"].get_filename(), "purpose": purpose, "status": "processed"})

    def _finalize_batch(self, batch: dict[str, Any]) -> None:
        """Answer every line (all of them when completed, the first half when cancelled)."""
        st = self.server.state
        lines = [json.loads(x) for x in st.files[batch["input_file_id"]][1].decode().splitlines() if x.strip()]
        if batch["status"] == "cancelled":
            lines = lines[: len(lines) // 2]
        out, err = [], []
        for n, line in enumerate(lines):
            body = line["body"]
            prompt = body.get("input", "")
            fault = st.next_fault(prompt)
            if fault in ("500", "429", "timeout"):
                err.append({"id": f"batch_req_{n}", "custom_id": line["custom_id"],
                            "response": {"status_code": 500, "request_id": f"req_{n}",
                                         "body": {"error": {"message": "The server had an error",
                                                            "type": "server_error"}}}, "error": None})
                continue
            output = plan_output(st, body)
            resp = _response(f"resp_b{n}", body.get("model", "m"), body.get("tools", []), output, "completed")
            out.append({"id": f"batch_req_{n}", "custom_id": line["custom_id"],
                        "response": {"status_code": 200, "request_id": f"req_{n}", "body": resp}, "error": None})
        for key, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                fid = f"file-{len(st.files) + 1}"
                st.files[fid] = ("batch_output", "\n".join(json.dumps(r) for r in rows).encode() + b"\n")
                batch[key] = fid
        batch["request_counts"] = {"total": len(lines), "completed": len(out), "failed": len(err)}
        batch["_finalized"] = True

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        endpoint = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        if endpoint == "files":
            with st.lock:
                st.calls["files"] += 1
            self._upload(raw)
            return
        if "/batches" in self.path:
            with st.lock:
                st.calls["batches"] += 1
                if endpoint == "cancel":
                    batch = st.batches[self.path.rstrip("/").split("/")[-2]]
                    batch["status"] = "cancelled"
                    self._json(200, {k: v for k, v in batch.items() if not k.startswith("_")})
                    return
                req = json.loads(raw)
                bid = f"batch_{len(st.batches) + 1}"
                st.batches[bid] = {"id": bid, "object": "batch", "endpoint": req["endpoint"],
                                   "input_file_id": req["input_file_id"], "completion_window": req["completion_window"],
                                   "status": "validating", "created_at": 1764000000, "metadata": req.get("metadata"),
                                   "output_file_id": None, "error_file_id": None, "errors": None,
                                   "request_counts": {"total": 0, "completed": 0, "failed": 0}}
            self._json(200, st.batches[bid])
            return
        body = json.loads(raw or b"{}")
        with st.lock:
            st.calls[endpoint] += 1
            st.bodies.append(body)
            st.auth.append(self.headers.get("Authorization", ""))
        if st.script.endpoints is not None and endpoint not in st.script.endpoints:
            self._json(404, {"error": {"message": f"404 page not found: {self.path}"}})
            return
        if st.script.refuse_key and self.headers.get("Authorization") == f"Bearer {st.script.refuse_key}":
            self._json(401, {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                       "code": "invalid_api_key"}})
            return
        if endpoint == "responses":
            prompt = responses_prompt(body)
        else:
            prompt = next((m.get("content", "") for m in body.get("messages", []) if m.get("role") == "user"), "")
        with st.lock:
            st.prompt_calls[prompt] += 1
        delay = st.script.delay_s
        if st.script.jitter_by_prompt:
            delay += (sum(map(ord, prompt)) % 7) * 0.01
        if delay:
            time.sleep(delay)
        fault = st.next_fault(prompt)
        if fault == "429":
            self._json(429, {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit"}},
                       {"Retry-After": st.script.retry_after})
            return
        if fault == "500":
            self._json(500, {"error": {"message": "The server had an error", "type": "server_error"}})
            return
        if fault == "timeout":
            time.sleep(self.server.hang_s)
            self.close_connection = True
            return
        if endpoint == "completions":
            self._chat(body, prompt, fault)
            return
        if endpoint != "responses":
            self._json(404, {"error": {"message": f"unknown endpoint {self.path}"}})
            return
        rid = f"resp_{st.calls['responses']}"
        output = plan_output(st, body)
        if not body.get("stream"):
            self._json(200, _response(rid, body.get("model", "m"), body.get("tools", []), output, "completed"))
            return
        events = sse_events(rid, body, output, st.script.text_deltas)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        cut = len(events) // 2 if fault in ("drop", "end_early") else None
        try:
            for n, e in enumerate(events):
                if cut is not None and n == cut:
                    if fault == "drop":  # half a chunk, then the connection dies
                        self.wfile.write(b"ff\r\nevent: response.output")
                        self.wfile.flush()
                    else:  # a clean end of body, but the response never completed
                        self._chunk(b"")
                    self.close_connection = True
                    return
                self._chunk(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode())
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            with st.lock:
                st.disconnects += 1
            self.close_connection = True

    def _chat(self, body: dict[str, Any], prompt: str, fault: str | None = None) -> None:
        st = self.server.state
        system = next((m.get("content", "") for m in body.get("messages", []) if m.get("role") == "system"), "")
        if system.startswith("You improve the description"):
            with st.lock:
                i = st.calls["proposals"]
                st.calls["proposals"] += 1
            reply = json.dumps(st.script.proposals[i % len(st.script.proposals)])
            self._json(200, {"id": "chatcmpl-p", "object": "chat.completion", "created": 1764000000,
                             "model": body.get("model", "m"),
                             "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                                          "message": {"role": "assistant", "content": reply}}],
                             "usage": {"prompt_tokens": 300, "completion_tokens": 80, "total_tokens": 380}})
            return
        files = dict(re.findall(r"^- ([\w.-]+): .*\(file: ([^)]+)\)$", system, flags=re.M))
        descriptions = dict(re.findall(r"^- ([\w.-]+): (.*) \(file: [^)]+\)$", system, flags=re.M))
        tool_msgs = [m for m in body.get("messages", []) if m.get("role") == "tool"]
        turn = len(tool_msgs)
        with st.lock:
            st.turns[turn + 1] += 1
            for m in tool_msgs:
                if (prompt, m.get("content", "")) not in st.outputs_seen:
                    st.outputs_seen.append((prompt, m.get("content", "")))
        step = _explore_step(st.script, st.script.chat_explore, prompt, turn)
        chosen = None if step is not None else st.choose(prompt, descriptions)
        msg: dict[str, Any] = {"role": "assistant", "content": None}
        if st.script.chat_talk_first:
            msg["content"] = "Let me check the right instructions first."
        if step is not None:
            msg["tool_calls"] = [{"id": f"call_x{turn}", "type": "function",
                                  "function": {"name": "read_file", "arguments": json.dumps({"path": step})}}]
            finish = "tool_calls"
        elif chosen and chosen in files:
            msg["tool_calls"] = [{"id": "call_1", "type": "function",
                                  "function": {"name": "read_file", "arguments": json.dumps({"path": files[chosen]})}}]
            finish = "tool_calls"
        else:
            msg["content"] = "A direct answer."
            finish = "stop"
        usage = {"prompt_tokens": 200, "completion_tokens": 20, "total_tokens": 220}
        base = {"id": "chatcmpl-1", "object": "chat.completion", "created": 1764000000, "model": body.get("model", "m")}
        if not body.get("stream"):
            self._json(200, {**base, "choices": [{"index": 0, "message": msg, "finish_reason": finish,
                                                  "logprobs": None}], "usage": usage})
            return
        chunk = {**base, "object": "chat.completion.chunk"}
        deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        if msg["content"]:
            deltas += [{"content": w} for w in re.findall(r"\S+\s*", msg["content"])]
        for tc in msg.get("tool_calls", []):
            deltas.append({"tool_calls": [{"index": 0, "id": tc["id"], "type": "function",
                                           "function": {"name": tc["function"]["name"], "arguments": ""}}]})
            a = tc["function"]["arguments"]
            for piece in (a[: len(a) // 2], a[len(a) // 2:]):
                deltas.append({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        events = [{**chunk, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        events.append({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**chunk, "choices": [], "usage": usage})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for n, e in enumerate(events):
                if fault == "end_early" and n == len(events) // 2:
                    self._chunk(b"")
                    self.close_connection = True
                    return
                self._chunk(f"data: {json.dumps(e)}\n\n".encode())
            self._chunk(b"data: [DONE]\n\n")
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 drops connects under concurrency (1 s SYN retries)
    state: _State
    hang_s: float = 3.0

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients closing streams early (the point of early stop) are not errors; a bug in this
        double is, and its traceback goes to stderr so the failing test shows it."""
        import sys
        import traceback

        if sys.exc_info()[0] not in (BrokenPipeError, ConnectionResetError):
            traceback.print_exc()


class FakeOpenAI:
    """Start with `with FakeOpenAI(script) as srv:`; `srv.base_url` ends in /v1."""

    def __init__(self, script: Script, hang_s: float = 3.0) -> None:
        self.script = script
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.state = _State(script)
        self.server.hang_s = hang_s
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-openai", daemon=True)

    @property
    def state(self) -> _State:
        return self.server.state

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def calls(self, endpoint: str = "responses") -> int:
        return self.state.calls[endpoint]

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def serve_in_subprocess_main() -> None:  # pragma: no cover - used by benchmarks/bench_triggers.py
    """`python fake_openai.py '<script json>'`: serve until stdin closes (own process, own GIL)."""
    import sys

    spec = json.loads(sys.argv[1])
    spec["keywords"] = [tuple(k) for k in spec.get("keywords", [])]
    with FakeOpenAI(Script(**spec)) as srv:
        print(srv.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":  # pragma: no cover
    serve_in_subprocess_main()
