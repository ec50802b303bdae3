"""The local agent loop against a scripted Responses server, with commands run for real in bubblewrap."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skillstudio.agent.loop import RunLimits
from skillstudio.agent.runner import RunRequest, execute
from skillstudio.cancel import CancelToken
from support.fake_agent_server import (
    FakeAgentServer,
    Script,
    error,
    message,
    outputs_sent,
    reasoning,
    response,
    shell_call,
)
from support.leaks import register_test_secret

SKILL = "ledger-reconcile"
SAMPLE = f"/skills/{SKILL}/assets/sample-2026-10"


def _last_output(body: dict[str, Any]) -> dict[str, Any]:
    return outputs_sent(body)[-1]


def test_local_loop_executes_shell_calls_in_bubblewrap_and_sends_outputs_back(
        bwrap_available: None, make_request: Callable[..., RunRequest], example_workspace: Path,
        tmp_path: Path) -> None:
    def final(body: dict[str, Any]) -> dict[str, Any]:
        report = _last_output(body)["output"][0]["stdout"]
        breaks = [line for line in report.splitlines() if "INV-" in line]
        return response([message("Breaks found:\n" + "\n".join(breaks))])

    script = Script(responses=[
        response([reasoning(), shell_call(f"cat /skills/{SKILL}/SKILL.md", call_id="c1")]),
        response([shell_call(f"python3 /skills/{SKILL}/scripts/reconcile.py {SAMPLE}",
                             "echo checked > /data/note.txt && cat /data/note.txt", call_id="c2")]),
        final,
    ])
    events: list[dict[str, Any]] = []
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url), on_event=events.append)
    bodies = srv.bodies()
    assert len(bodies) == 3
    # The catalog is offered through the shell tool's local environment, at the sandbox's paths.
    env = bodies[0]["tools"][0]["environment"]
    assert bodies[0]["tools"][0]["type"] == "shell" and env["type"] == "local"
    assert {s["name"]: s["path"] for s in env["skills"]}[SKILL] == f"/skills/{SKILL}"
    assert len(env["skills"]) == 5 and bodies[0]["input"] == [{"role": "user", "content": t.prompt}]
    # Turn 2 carries the real SKILL.md, read inside the sandbox from the read-only mount.
    out1 = _last_output(bodies[1])
    assert out1["call_id"] == "c1"
    assert out1["output"][0]["stdout"] == (example_workspace / SKILL / "SKILL.md").read_text(encoding="utf-8")
    assert out1["output"][0]["outcome"] == {"type": "exit", "exit_code": 0}
    # The model's own items are sent back before our output (stateless chaining, no server ids).
    kinds = [i.get("type", "message") for i in bodies[1]["input"]]
    assert kinds == ["message", "reasoning", "shell_call", "shell_call_output"]
    assert all("id" not in i for i in bodies[1]["input"])
    # Turn 3: the script's real report, and the second command wrote to the data folder.
    out2 = _last_output(bodies[2])
    assert [o["outcome"] for o in out2["output"]] == [{"type": "exit", "exit_code": 0}] * 2
    report = out2["output"][0]["stdout"]
    assert "INV-1003" in report and "CHQ-4471" in report
    assert out2["output"][1]["stdout"] == "checked\n"
    assert (tmp_path / "data" / "note.txt").read_text() == "checked\n"
    # The transcript: CONTRACT items in order, the final answer, the skill loaded.
    assert t.outcome == "completed" and t.skills_loaded == [SKILL]
    assert [i["type"] for i in t.items] == ["shell_call", "shell_call_output", "shell_call",
                                            "shell_call_output", "message"]
    assert t.items[0]["commands"] == [f"cat /skills/{SKILL}/SKILL.md"]
    assert t.items[3]["exit_code"] == 0 and "INV-1003" in t.items[3]["stdout"]
    assert "INV-1003" in t.final and t.final == t.items[-1]["text"]
    assert t.usage == {"input_tokens": 300, "output_tokens": 60}
    # Streamed as it happened, and saved.
    assert [e["item"]["type"] for e in events if e["kind"] == "item"] == [i["type"] for i in t.items]
    assert events[0]["kind"] == "started" and events[-1]["kind"] == "finished"
    meter = [e for e in events if e["kind"] == "usage"]
    assert len(meter) == 3
    assert all(e["context_tokens"] > 0 and e["context_source"] in ("api", "estimate") for e in meter)
    assert meter[1]["context_tokens"] > meter[0]["context_tokens"]  # SKILL.md is now in the context
    saved = json.loads((example_workspace / ".skillstudio" / "runs" / "agent" / f"{t.run_id}.json").read_text())
    assert saved["final"] == t.final and saved["skills"][0]["digest"].startswith("sha256:")


def test_timeouts_exit_codes_and_readonly_skills_are_fed_back(
        bwrap_available: None, make_request: Callable[..., RunRequest]) -> None:
    script = Script(responses=[
        response([shell_call("sleep 20", "echo never-run", call_id="slow", timeout_ms=400)]),
        response([shell_call("exit 3", f"touch /skills/{SKILL}/x", "echo err >&2", call_id="codes")]),
        response([message("done")]),
    ])
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url))
    bodies = srv.bodies()
    slow = _last_output(bodies[1])
    assert slow["call_id"] == "slow"
    assert [o["outcome"] for o in slow["output"]] == [{"type": "timeout"}]  # the rest is not started
    codes = _last_output(bodies[2])["output"]
    assert codes[0]["outcome"] == {"type": "exit", "exit_code": 3}
    assert codes[1]["outcome"]["exit_code"] != 0 and "Read-only" in codes[1]["stderr"]
    assert codes[2] == {"stdout": "", "stderr": "err\n", "outcome": {"type": "exit", "exit_code": 0}}
    assert t.items[1]["timed_out"] is True and t.items[1]["exit_code"] == 124
    assert t.outcome == "completed" and t.skills_loaded == [SKILL]


def test_max_output_length_is_honoured_and_echoed(bwrap_available: None,
                                                  make_request: Callable[..., RunRequest]) -> None:
    cmd = "python3 -c \"print('A' * 3000 + 'END'); import sys; sys.stderr.write('E' * 50)\""
    script = Script(responses=[response([shell_call(cmd, call_id="big", max_output_length=300)]),
                               response([message("ok")])])
    with FakeAgentServer(script) as srv:
        execute(make_request(srv.base_url))
    sent = _last_output(srv.bodies()[1])
    assert sent["max_output_length"] == 300
    out = sent["output"][0]
    assert len(out["stdout"]) + len(out["stderr"]) <= 300
    assert out["stderr"] == "E" * 50  # the short stream is kept whole
    assert out["stdout"].startswith("AAAA") and out["stdout"].rstrip().endswith("END") and "truncated" in out["stdout"]


def test_limits_stop_the_run_with_the_transcript(bwrap_available: None,
                                                 make_request: Callable[..., RunRequest]) -> None:
    busy = [response([shell_call(f"echo turn {i}")]) for i in range(10)]
    with FakeAgentServer(Script(responses=list(busy))) as srv:
        t = execute(make_request(srv.base_url, limits=RunLimits(max_turns=3)))
    assert t.outcome == "limit" and "max turns" in t.stop_reason
    assert len(srv.bodies()) == 3 and t.turns == 3
    assert [i["stdout"] for i in t.items if i["type"] == "shell_call_output"] == ["turn 0\n", "turn 1\n", "turn 2\n"]

    with FakeAgentServer(Script(responses=list(busy))) as srv:
        t = execute(make_request(srv.base_url, limits=RunLimits(max_tool_calls=2)))
    assert t.outcome == "limit" and "tool calls" in t.stop_reason and t.tool_calls == 2

    with FakeAgentServer(Script(responses=[response([shell_call("true")], in_tokens=900, out_tokens=200)] * 5)) as srv:
        t = execute(make_request(srv.base_url, limits=RunLimits(max_tokens=2000)))
    assert t.outcome == "limit" and "tokens" in t.stop_reason and len(srv.bodies()) == 2


def test_cancel_mid_command_keeps_the_transcript(bwrap_available: None, make_request: Callable[..., RunRequest],
                                                 example_workspace: Path) -> None:
    cancel = CancelToken()
    timers: list[threading.Timer] = []

    def on_event(e: dict[str, Any]) -> None:
        if e["kind"] == "item" and e["item"]["type"] == "shell_call" and "sleep" in e["item"]["commands"][0]:
            timer = threading.Timer(0.5, cancel.cancel)
            timers.append(timer)
            timer.start()

    script = Script(responses=[response([shell_call("echo first")]), response([shell_call("sleep 60")]),
                               response([message("never")])])
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url), on_event=on_event, cancel=cancel)
    for timer in timers:
        timer.join()
    assert t.outcome == "cancelled"
    assert [i["type"] for i in t.items] == ["shell_call", "shell_call_output", "shell_call", "shell_call_output"]
    assert t.items[1]["stdout"] == "first\n" and t.items[3]["exit_code"] == 137
    assert len(srv.bodies()) == 2  # nothing more was asked of the model
    saved = json.loads((example_workspace / ".skillstudio" / "runs" / "agent" / f"{t.run_id}.json").read_text())
    assert saved["outcome"] == "cancelled" and len(saved["items"]) == 4


def test_api_error_mid_run_ends_with_error_and_keeps_items(bwrap_available: None,
                                                           make_request: Callable[..., RunRequest]) -> None:
    script = Script(responses=[response([shell_call("echo one")]),
                               error(400, "context_length_exceeded", "invalid_request_error")])
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url))
    assert t.outcome == "error" and "400" in t.stop_reason and "context_length_exceeded" in t.stop_reason
    assert [i["type"] for i in t.items] == ["shell_call", "shell_call_output"]


def test_chat_provider_runs_the_same_loop_with_a_function_tool(bwrap_available: None,
                                                               make_request: Callable[..., RunRequest]) -> None:
    from support.fake_agent_server import chat

    def final(body: dict[str, Any]) -> dict[str, Any]:
        tool = [m for m in body["messages"] if m["role"] == "tool"][-1]
        return chat(f"result: {json.loads(tool['content'])['output'][0]['stdout'].strip()}")

    script = Script(chat=[
        chat(None, [("t1", "shell", {"commands": [f"head -3 /skills/{SKILL}/SKILL.md"]})]),
        chat("checking", [("t2", "shell", "not json"), ("t3", "shell", {"commands": ["echo $((6*7))"]})]),
        final,
    ])
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url, provider="chat"))
    bodies = srv.bodies("chat")
    assert bodies[0]["tools"][0]["function"]["name"] == "shell"
    assert f"/skills/{SKILL}/SKILL.md" in bodies[0]["messages"][0]["content"]
    tool1 = json.loads(bodies[1]["messages"][-1]["content"])
    assert tool1["output"][0]["stdout"].startswith("---\nname: ledger-reconcile")
    tools2 = [m for m in bodies[2]["messages"] if m["role"] == "tool"][-2:]
    assert "error" in json.loads(tools2[0]["content"]) and tools2[0]["tool_call_id"] == "t2"
    assert t.final == "result: 42" and t.outcome == "completed" and t.skills_loaded == [SKILL]


@pytest.mark.parametrize("exposed", [False, True])
def test_secret_echoed_by_a_tool_is_redacted_everywhere(bwrap_available: None,
                                                         make_request: Callable[..., RunRequest], tmp_path: Path,
                                                         example_workspace: Path, exposed: bool) -> None:
    from skillstudio.secrets.model import SecretMeta
    from skillstudio.secrets.placeholders import SecretSession

    value = register_test_secret("sk-live-9f8e7d6c5b4a39281706")  # the end-of-suite leak sweep checks it too
    session = SecretSession.from_values([(SecretMeta("API_TOKEN"), value)], exposed=["API_TOKEN"] if exposed else [])
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "config.txt").write_text(f"token={value}\n")
    script = Script(responses=[
        response([shell_call("cat /data/config.txt", 'echo "env=$API_TOKEN"', "printf %s \"$API_TOKEN\" | base64",
                             'v="$API_TOKEN"; printf %s "${v:0:9}"; sleep 0.3; printf "%s\\n" "${v:9}"')]),
        lambda body: response([message("I saw " + _last_output(body)["output"][0]["stdout"])]),
    ])
    events: list[dict[str, Any]] = []
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url, secret_session=session), on_event=events.append)
    live = [e for e in events if e["kind"] == "output_delta"]
    assert "".join(e["text"] for e in live if e["command_index"] == 0 and e["stream"] == "stdout") == \
        "token=[secret:API_TOKEN]\n"  # shown live, redacted as it streamed
    assert value not in json.dumps(events)
    sent = srv.raw_text()
    assert value not in sent and "[secret:API_TOKEN]" in sent
    outs = _last_output(srv.bodies()[1])["output"]
    assert outs[0]["stdout"] == "token=[secret:API_TOKEN]\n"
    if exposed:  # the raw value (and its base64) came from the tool's env: caught too
        assert outs[1]["stdout"] == "env=[secret:API_TOKEN]\n" and "[secret:API_TOKEN]" in outs[2]["stdout"]
        split = [e["text"] for e in live if e["command_index"] == 3 and e["stream"] == "stdout"]
        assert "".join(split) == "[secret:API_TOKEN]\n"  # written in two pieces, still caught live
    else:  # the tool only ever held the per-run placeholder
        assert outs[1]["stdout"].startswith("env=ssph_")
    saved = (example_workspace / ".skillstudio" / "runs" / "agent" / f"{t.run_id}.json").read_text()
    assert value not in saved and value not in t.to_markdown()
    assert t.secrets_seen_in_output == ["API_TOKEN"] and t.secret_exposed is exposed and t.secrets == ["API_TOKEN"]
    # the same "secret exposed" marking `exec` and the Sandbox console give (secrets.attach)
    marks = [p for p in t.policy if "secret exposed: API_TOKEN" in p]
    assert bool(marks) is exposed and (not exposed or '"secret exposed: API_TOKEN' in saved)


def test_keyring_secret_reaches_the_tool_only_as_a_placeholder(
        bwrap_available: None, real_keyring: None, make_request: Callable[..., RunRequest],
        example_workspace: Path, tmp_path: Path) -> None:
    from skillstudio.secrets.vault import Vault

    value = register_test_secret("kr-secret-value-5566778899")
    Vault(example_workspace).set("BANK_TOKEN", value, domains=["api.bank.example.com"])
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "dump.txt").write_text(value)
    script = Script(responses=[
        response([shell_call('echo "$BANK_TOKEN"', "cat dump.txt", 'echo "$HTTPS_PROXY"')]),
        response([message("done")]),
    ])
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url, secrets=["BANK_TOKEN"]))
    outs = _last_output(srv.bodies()[1])["output"]
    assert outs[0]["stdout"].startswith("ssph_")  # the tool holds a per-run placeholder, never the value
    assert outs[1]["stdout"] == "[secret:BANK_TOKEN]"
    assert outs[2]["stdout"].startswith("http://127.0.0.1:")  # egress goes through the sidecar proxy
    assert value not in srv.raw_text()
    assert any("allow api.bank.example.com" in line for line in t.policy)
    saved = (example_workspace / ".skillstudio" / "runs" / "agent" / f"{t.run_id}.json").read_text()
    assert value not in saved and t.secrets == ["BANK_TOKEN"] and not t.secret_exposed


def test_stateful_chaining_sends_only_new_items(bwrap_available: None, make_request: Callable[..., RunRequest]) -> None:
    first, second = response([shell_call("echo a", call_id="a")]), response([shell_call("echo b", call_id="b")])
    script = Script(responses=[first, second, response([message("ok")])])
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url, stateful=True))
    b = srv.bodies()
    assert b[0]["store"] is True and "previous_response_id" not in b[0] and len(b[0]["input"]) == 1
    assert b[1]["previous_response_id"] == first["id"] and b[2]["previous_response_id"] == second["id"]
    assert [i["type"] for i in b[1]["input"]] == ["shell_call_output"] and b[1]["input"][0]["call_id"] == "a"
    assert b[2]["input"][0]["output"][0]["stdout"] == "b\n" and len(b[2]["input"]) == 1
    assert t.outcome == "completed"


def test_streaming_gives_live_deltas_and_the_same_transcript(bwrap_available: None,
                                                            make_request: Callable[..., RunRequest]) -> None:
    def script() -> Script:
        return Script(responses=[response([reasoning(), shell_call("echo streamed", call_id="s1")]),
                                 response([message("The command printed: streamed. All done here.")])])

    events: list[dict[str, Any]] = []
    with FakeAgentServer(script()) as srv:
        live = execute(make_request(srv.base_url, stream=True), on_event=events.append)
    assert all(b["stream"] is True for b in srv.bodies())
    with FakeAgentServer(script()) as srv:
        plain = execute(make_request(srv.base_url))
    assert "stream" not in srv.bodies()[0]
    def norm(items: list[dict[str, Any]]) -> list[dict[str, Any]]:  # timings differ, nothing else may
        return [{k: ([{**o, "duration_s": 0} for o in v] if k == "outputs" else v) for k, v in i.items() if k != "t"}
                for i in items]

    assert norm(live.items) == norm(plain.items)
    assert live.final == plain.final and live.usage == plain.usage
    text = "".join(e["delta"] for e in events if e["kind"] == "text_delta")
    assert text == live.final
    assert "".join(e["delta"] for e in events if e["kind"] == "command_delta") == "echo streamed"
    first_delta = next(i for i, e in enumerate(events) if e["kind"] == "text_delta")
    message_item = next(i for i, e in enumerate(events) if e["kind"] == "item" and e["item"]["type"] == "message")
    assert first_delta < message_item  # deltas arrive before the finished item
    assert not any(e.get("kind", "").endswith("_delta") for e in live.events)  # deltas are not stored


def test_transient_server_errors_are_retried_and_incomplete_stops(bwrap_available: None,
                                                                   make_request: Callable[..., RunRequest]) -> None:
    script = Script(responses=[response([shell_call("echo one")]), error(500, "overloaded"),
                               response([message("thinking...", phase="commentary"), shell_call("echo two")]),
                               response([], status="incomplete", incomplete_reason="max_output_tokens")])
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url))
    assert len(srv.bodies()) == 4 and srv.bodies()[1] == srv.bodies()[2]  # the SDK retried the same request
    assert [i["type"] for i in t.items] == ["shell_call", "shell_call_output", "message", "shell_call",
                                            "shell_call_output"]
    assert t.items[2]["phase"] == "commentary" and t.final == ""  # commentary is not an answer
    assert t.outcome == "limit" and "max_output_tokens" in t.stop_reason
