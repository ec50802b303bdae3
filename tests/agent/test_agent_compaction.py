"""Long workflows driven through many compactions to a correct end (server, endpoint and client shapes).

The scripted "model" only knows what the requests carry: its progress comes from the latest
compaction item (or summary) plus the tool outputs after it. So if our loop dropped the wrong
items, lost a summary or kept stale ones, the model would repeat or skip steps and the final total
and the log written in the sandbox would be wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skillstudio.agent.compaction import SKILL_PREFIX, SUMMARY_PREFIX, CompactionSettings, estimate
from skillstudio.agent.loop import RunLimits
from skillstudio.agent.runner import RunRequest, execute
from support.fake_agent_server import (
    FakeAgentServer,
    chat,
    compacted,
    compaction_item,
    message,
    response,
    shell_call,
)

STEPS = 12
TOTAL = sum(k * k for k in range(1, STEPS + 1))  # 650
STEP_RE = re.compile(r"step-(\d+) (\d+)")
PROMPT = f"Run the {STEPS}-step ledger workflow and report the total"


def _command(k: int) -> str:
    return f"echo step-{k} $(({k}*{k})) | tee -a /data/log.txt"


def _progress(state: dict[str, int], texts: list[str]) -> dict[str, int]:
    done, total = state["done"], state["total"]
    for text in texts:
        for k, v in STEP_RE.findall(text):
            if int(k) == done + 1:
                done, total = int(k), total + int(v)
    return {"done": done, "total": total}


def _responses_state(items: list[dict[str, Any]]) -> dict[str, int]:
    last = max((i for i, it in enumerate(items) if it.get("type") == "compaction"), default=-1)
    state = json.loads(items[last]["encrypted_content"]) if last >= 0 else {"done": 0, "total": 0}
    outs = [o["stdout"] for it in items[last + 1:] if it.get("type") == "shell_call_output" for o in it["output"]]
    return _progress(state, outs)


def _next(state: dict[str, int]) -> dict[str, Any]:
    if state["done"] < STEPS:
        return shell_call(_command(state["done"] + 1))
    return message(f"All {STEPS} steps done; total {state['total']}")


def _check_log(tmp_path: Path) -> None:
    lines = (tmp_path / "data" / "log.txt").read_text().splitlines()
    assert lines == [f"step-{k} {k * k}" for k in range(1, STEPS + 1)]


def test_server_side_compaction_long_workflow(bwrap_available: None, make_request: Callable[..., RunRequest],
                                              tmp_path: Path) -> None:
    def model(kind: str, body: dict[str, Any]) -> dict[str, Any]:
        items = body["input"]
        state = _responses_state(items)
        out: list[dict[str, Any]] = []
        threshold = body["context_management"][0]["compact_threshold"]
        if estimate(items) > threshold:  # the server compacts what it was given, then continues
            out.append(compaction_item(json.dumps(state)))
        out.append(_next(state))
        return response(out, in_tokens=estimate(items))

    with FakeAgentServer(model) as srv:
        t = execute(make_request(srv.base_url, PROMPT, compaction=CompactionSettings("server", threshold=300)))
    bodies = srv.bodies()
    assert t.outcome == "completed" and t.final == f"All {STEPS} steps done; total {TOTAL}"
    _check_log(tmp_path)
    assert len(t.compaction_events) >= 3
    assert all(c["strategy"] == "server" and c["after_tokens"] < c["before_tokens"] for c in t.compaction_events)
    for body in bodies:
        assert body["context_management"] == [{"type": "compaction", "compact_threshold": 300}]
        types = [i.get("type", "message") for i in body["input"]]
        assert types[0] == "message" and body["input"][0]["content"] == PROMPT  # the task is always kept
        if "compaction" in types:  # items before the latest compaction item were dropped
            assert types.count("compaction") == 1 and types[1] == "compaction"
    assert max(len(b["input"]) for b in bodies) <= 8
    assert len(bodies) == STEPS + 1


def test_compact_endpoint_long_workflow(bwrap_available: None, make_request: Callable[..., RunRequest],
                                        tmp_path: Path) -> None:
    def model(kind: str, body: dict[str, Any]) -> dict[str, Any]:
        items = body["input"]
        state = _responses_state(items)
        if kind == "compact":
            users = [i for i in items if i.get("role") == "user"]
            return compacted([*users, compaction_item(json.dumps(state))])
        return response([_next(state)], in_tokens=120 * len(items))

    with FakeAgentServer(model) as srv:
        t = execute(make_request(srv.base_url, PROMPT, compaction=CompactionSettings("endpoint", threshold=600)))
    assert t.outcome == "completed" and t.final.endswith(f"total {TOTAL}")
    _check_log(tmp_path)
    compacts = srv.bodies("compact")
    assert len(compacts) >= 3 and len(t.compaction_events) == len(compacts)
    assert all(c["model"] == "gpt-test" for c in compacts)
    assert all("context_management" not in b for b in srv.bodies())


def test_client_side_compaction_on_a_chat_server(bwrap_available: None, make_request: Callable[..., RunRequest],
                                                 tmp_path: Path, example_workspace: Path) -> None:
    skill_md = (example_workspace / "ledger-reconcile" / "SKILL.md").read_text()
    summaries: list[str] = []

    def state_of(text: str) -> dict[str, int]:
        m = re.search(r"done=(\d+) total=(\d+)", text)
        return {"done": int(m.group(1)), "total": int(m.group(2))} if m else {"done": 0, "total": 0}

    def model(kind: str, body: dict[str, Any]) -> dict[str, Any]:
        msgs = body["messages"]
        if "tools" not in body:  # a summarisation request: it gets the older turns as text
            text = msgs[0]["content"]
            st = _progress(state_of(text), [text])
            summaries.append(text)
            return chat(f"done={st['done']} total={st['total']}")
        summary = next((m["content"] for m in msgs if m["content"] and m["content"].startswith(SUMMARY_PREFIX)), "")
        tool_texts = [json.loads(m["content"])["output"][0]["stdout"] for m in msgs if m["role"] == "tool"]
        if not summary and not tool_texts:
            return chat(None, [("read", "shell", {"commands": ["cat /skills/ledger-reconcile/SKILL.md"]})])
        st = _progress(state_of(summary), tool_texts)
        if st["done"] < STEPS:
            return chat(None, [(f"s{st['done'] + 1}", "shell", {"commands": [_command(st["done"] + 1)]})],
                        prompt_tokens=10)
        return chat(f"All {STEPS} steps done; total {st['total']}")

    billed: list[tuple[int, int]] = []

    def billed_model(kind: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = model(kind, body)
        billed.append((reply["usage"]["prompt_tokens"], reply["usage"]["completion_tokens"]))
        return reply

    threshold = estimate(skill_md) + 650
    with FakeAgentServer(billed_model) as srv:
        t = execute(make_request(srv.base_url, PROMPT, provider="chat",
                                 compaction=CompactionSettings("auto", threshold=threshold, keep_recent_turns=2),
                                 limits=RunLimits(max_turns=40)))
    assert t.outcome == "completed" and t.final == f"All {STEPS} steps done; total {TOTAL}", t.stop_reason
    _check_log(tmp_path)
    assert len(t.compaction_events) >= 3 and all(c["strategy"] == "client" for c in t.compaction_events)
    assert len(summaries) == len(t.compaction_events)
    assert t.usage == {"input_tokens": sum(b[0] for b in billed), "output_tokens": sum(b[1] for b in billed)}
    assert "$ cat /skills/ledger-reconcile/SKILL.md" in summaries[0]  # older turns went to the summariser
    tool_bodies = [b for b in srv.bodies("chat") if "tools" in b]
    after = [b for b in tool_bodies if any((m["content"] or "").startswith(SUMMARY_PREFIX) for m in b["messages"])]
    assert after
    for body in after:
        msgs = body["messages"]
        assert msgs[0]["role"] == "system" and msgs[1] == {"role": "user", "content": PROMPT}  # task kept
        kept = [m for m in msgs if (m["content"] or "").startswith(SKILL_PREFIX)]
        assert len(kept) == 1 and skill_md in kept[0]["content"]  # the loaded skill kept verbatim
        assert sum(1 for m in msgs if (m["content"] or "").startswith(SUMMARY_PREFIX)) == 1
        assert sum(1 for m in msgs if m["role"] == "tool") <= 3  # recent turns only
        # every tool result still sent is paired with its assistant call (turns are never split)
        call_ids = {c["id"] for m in msgs if m["role"] == "assistant" for c in m.get("tool_calls") or []}
        assert all(m["tool_call_id"] in call_ids for m in msgs if m["role"] == "tool")
