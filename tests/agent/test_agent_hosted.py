"""Hosted runs at the HTTP boundary: the request's container, bundle and network policy; the transcript."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

from skillstudio.agent.hosted import SkillRef, network_policy
from skillstudio.agent.routing import Pin
from skillstudio.agent.runner import RunRequest, execute
from skillstudio.release.pack import pack_skill
from skillstudio.secrets.model import SecretMeta
from skillstudio.secrets.placeholders import SecretSession
from support.fake_agent_server import (
    FakeAgentServer,
    Script,
    compaction_item,
    message,
    response,
    shell_call,
    shell_call_output,
)
from support.leaks import register_test_secret

SKILL = "ledger-reconcile"
VALUE = register_test_secret("hosted-secret-value-0123456789")


def test_hosted_request_has_inline_zip_and_network_policy_with_domain_secrets(
        make_request: Callable[..., RunRequest], example_workspace: Path, tmp_path: Path) -> None:
    session = SecretSession.from_values([(SecretMeta("BANK_API_KEY", ["api.bank.example.com"]), VALUE)])
    script = Script(responses=[response([
        shell_call(f"cat /home/oai/skills/{SKILL}/SKILL.md", call_id="h1", environment="container"),
        shell_call_output("h1", ("---\nname: ledger-reconcile\n", "", 0)),
        shell_call("python3 scripts/reconcile.py data", "sleep 99", call_id="h2", environment="container"),
        shell_call_output("h2", ("7 matches, 5 breaks\n", "", 1), ("", "", None)),
        compaction_item("opaque"),
        message("Five breaks; see the report."),
    ], in_tokens=5000, out_tokens=400)])
    with FakeAgentServer(script) as srv:
        from skillstudio.secrets import trust

        trust.trust_secret_host("127.0.0.1")  # secret values go to the provider: the user trusts this one
        t = execute(make_request(srv.base_url, hosted=True, pin=Pin(SKILL, "1.0.0"), secret_session=session,
                                 allow_domains=["*.statements.example.org", "api.bank.example.com:443"],
                                 memory_limit="4g"))
    body = srv.bodies()[0]
    tool = body["tools"][0]
    assert tool["type"] == "shell" and tool["environment"]["type"] == "container_auto"
    env = tool["environment"]
    assert env["memory_limit"] == "4g"
    [skill] = env["skills"]
    assert skill["type"] == "inline" and skill["name"] == SKILL and skill["description"].startswith("Month-end")
    assert skill["source"]["type"] == "base64" and skill["source"]["media_type"] == "application/zip"
    data = base64.b64decode(skill["source"]["data"])
    assert data == pack_skill(example_workspace / SKILL, tmp_path / "b.zip").path.read_bytes()  # the same bundle
    assert "scripts/reconcile.py" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert env["network_policy"] == {
        "type": "allowlist", "allowed_domains": ["statements.example.org", "api.bank.example.com"],
        "domain_secrets": [{"domain": "api.bank.example.com", "name": "BANK_API_KEY", "value": VALUE}]}
    assert "Use the ledger-reconcile skill" in body["instructions"]
    assert body["context_management"][0]["type"] == "compaction"
    # The transcript shows the hosted calls and outputs in the local form.
    assert [i["type"] for i in t.items] == ["shell_call", "shell_call_output", "shell_call", "shell_call_output",
                                            "message"]
    assert t.items[0]["commands"] == [f"cat /home/oai/skills/{SKILL}/SKILL.md"]
    assert t.items[3]["stdout"] == "7 matches, 5 breaks\n" and t.items[3]["timed_out"] is True
    assert [o["exit_code"] for o in t.items[3]["outputs"]] == [1, 124]
    assert t.skills_loaded == [SKILL] and t.outcome == "completed" and t.mode == "hosted"
    assert t.final == "Five breaks; see the report." and len(t.compaction_events) == 1
    assert t.usage == {"input_tokens": 5000, "output_tokens": 400}
    saved = (example_workspace / ".skillstudio" / "runs" / "agent" / f"{t.run_id}.json").read_text()
    assert VALUE not in saved  # the value goes to the hosted sidecar, never into the run store


def test_hosted_skill_reference_and_closed_network(make_request: Callable[..., RunRequest]) -> None:
    script = Script(responses=[response([message("No skill needed.")])])
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url, hosted=True, pin=Pin(SKILL),
                                 skill_refs={SKILL: SkillRef("skill_abc123", "3")}))
    env = srv.bodies()[0]["tools"][0]["environment"]
    assert env["skills"] == [{"type": "skill_reference", "skill_id": "skill_abc123", "version": "3"}]
    assert env["network_policy"] == {"type": "disabled"}
    assert t.outcome == "routing_violation" and "never loaded" in t.violations[0]


def test_hosted_pinned_run_fails_when_another_skill_is_touched(make_request: Callable[..., RunRequest]) -> None:
    script = Script(responses=[response([
        shell_call("cat /mnt/skills/crm-query/SKILL.md", call_id="x", environment="container"),
        shell_call_output("x", ("crm", "", 0)), message("done")])])
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url, hosted=True, pin=Pin(SKILL)))
    assert t.outcome == "routing_violation"
    assert t.violations == [f"pinned to {SKILL}, but the model touched crm-query",
                            f"pinned to {SKILL}, but the model never loaded it"]
    assert json.loads(json.dumps(t.to_json()))["skills_loaded"] == ["crm-query"]


def test_network_policy_without_secrets() -> None:
    assert network_policy([]) == {"type": "disabled"}
    assert network_policy(["*.x.example.com", "api.y.com:8443", "api.y.com"]) == {
        "type": "allowlist", "allowed_domains": ["x.example.com", "api.y.com"]}


def test_hosted_pinned_run_uses_the_approved_uploaded_version(make_request: Callable[..., RunRequest],
                                                               example_workspace: Path) -> None:
    from skillstudio.release.lockfile import LockEntry, record, workspace_digest

    digest, version = workspace_digest(example_workspace / SKILL)
    record(example_workspace, SKILL,
           LockEntry(str(version), digest, openai={"skill_id": "skill_locked", "version": "7"}))
    with FakeAgentServer(Script(responses=[response([message("ok")])])) as srv:
        t = execute(make_request(srv.base_url, hosted=True, pin=Pin(SKILL, "1.0.0")))
    env = srv.bodies()[0]["tools"][0]["environment"]
    assert env["skills"] == [{"type": "skill_reference", "skill_id": "skill_locked", "version": "7"}]
    assert t.routing["lock"] == "approved"


def test_side_by_side_runs_one_prompt_both_ways(bwrap_available: None, make_request: Callable[..., RunRequest]) -> None:
    from skillstudio.agent.runner import execute_both

    script = Script(responses=[
        response([shell_call(f"head -1 /skills/{SKILL}/SKILL.md", call_id="l1")]), response([message("local")]),
        response([shell_call(f"head -1 /mnt/data/{SKILL}/SKILL.md", call_id="h1", environment="container"),
                  shell_call_output("h1", ("---\n", "", 0)), message("hosted")])])
    events: list[dict[str, object]] = []
    with FakeAgentServer(script) as srv:
        local, hosted = execute_both(make_request(srv.base_url, pin=Pin(SKILL)), on_event=events.append)
    envs = [b["tools"][0]["environment"]["type"] for b in srv.bodies()]
    assert envs == ["local", "local", "container_auto"]
    assert (local.final, hosted.final) == ("local", "hosted") and local.outcome == hosted.outcome == "completed"
    assert local.items[1]["stdout"] == hosted.items[1]["stdout"] == "---\n"  # same bundle, same result
    assert {e["side"] for e in events} == {"local", "hosted"}
