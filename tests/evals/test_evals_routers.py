"""Routers against a scripted server speaking the real OpenAI wire format (SSE and JSON)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pydantic import TypeAdapter

from skillstudio.evals.routers import RouteRequest, RouterError
from skillstudio.evals.routers.chat import ChatRouter, system_prompt
from skillstudio.evals.routers.responses import ResponsesRouter
from skillstudio.evals.suite import build_suite
from support.fake_openai import FakeOpenAI, Script, plan_output, sse_events
from support.trigger_workspace import KEYWORDS


def _route(router, suite, index: int):  # type: ignore[no-untyped-def]
    router.prepare(suite)

    async def go():  # type: ignore[no-untyped-def]
        try:
            return await router.route(RouteRequest(suite.cases[index], 0))
        finally:
            await router.aclose()
    return asyncio.run(go())


def _route_all(router, suite):  # type: ignore[no-untyped-def]
    """Every case once, through one client (one event loop)."""
    router.prepare(suite)

    async def go():  # type: ignore[no-untyped-def]
        try:
            return [await router.route(RouteRequest(c, 0)) for c in suite.cases]
        finally:
            await router.aclose()
    return asyncio.run(go())


def test_suite_offers_every_skill_with_a_virtual_path(workspace: Path) -> None:
    suite = build_suite(workspace)
    assert [e.name for e in suite.catalog] == ["crm-query", "ledger-reconcile", "support-reply"]
    assert [e.path for e in suite.catalog] == ["/skills/crm-query", "/skills/ledger-reconcile",
                                               "/skills/support-reply"]
    assert len(suite.cases) == 9 and suite.cases[0].skill == "crm-query"
    assert all(len(e.digest) == 64 for e in suite.catalog)


def test_responses_request_body_is_the_contract_shape(workspace: Path, fake: FakeOpenAI) -> None:
    suite = build_suite(workspace)
    _route(ResponsesRouter(model="gpt-test", api_key="k", base_url=fake.base_url), suite, 0)
    body = fake.state.bodies[0]
    assert body["model"] == "gpt-test" and body["input"] == suite.cases[0].prompt and body["stream"] is True
    (tool,) = body["tools"]
    assert tool["type"] == "shell" and tool["environment"]["type"] == "local"
    assert tool["environment"]["skills"] == [{"name": e.name, "description": e.description, "path": e.path}
                                             for e in suite.catalog]


def test_fake_server_emits_events_the_sdk_types_accept(workspace: Path) -> None:
    """Guards the test double itself: every event and item validates against openai's own models."""
    from openai.types.responses import Response, ResponseStreamEvent

    adapter: TypeAdapter = TypeAdapter(ResponseStreamEvent)
    suite = build_suite(workspace)
    with FakeOpenAI(Script(keywords=list(KEYWORDS))) as srv:
        for case in suite.cases:
            body = {"model": "m", "input": case.prompt, "tools": [{"type": "shell", "environment": {
                "type": "local", "skills": [e.as_param() for e in suite.catalog]}}]}
            output = plan_output(srv.state, body)
            for ev in sse_events("resp_1", body, output, 4):
                parsed = adapter.validate_python(ev)
                assert parsed.type == ev["type"]
            Response.model_validate(sse_events("resp_1", body, output, 4)[-1]["response"])


@pytest.mark.parametrize("style", [
    "cat {path}/SKILL.md",
    "sed -n 1,200p {path}/SKILL.md",
    "ls /tmp ;; cat {path}/SKILL.md",  # the skill is read by the second command of the first call
    "cd {path} && head -50 SKILL.md",
    "echo looking around",  # a shell call that reads no skill: none
])
@pytest.mark.parametrize("reasoning_first", [True, False])
def test_streaming_and_non_streaming_give_the_same_outcome(workspace: Path, style: str,
                                                           reasoning_first: bool) -> None:
    suite = build_suite(workspace)
    script = Script(keywords=list(KEYWORDS), command_style=style, reasoning_first=reasoning_first)
    with FakeOpenAI(script) as srv:
        streamed = _route_all(ResponsesRouter(model="m", api_key="k", base_url=srv.base_url, stream=True), suite)
        whole = _route_all(ResponsesRouter(model="m", api_key="k", base_url=srv.base_url, stream=False), suite)
    for case, st, wh in zip(suite.cases, streamed, whole, strict=True):
        assert st.selected == wh.selected, case.prompt
        assert st.first_command == wh.first_command
        assert st.ttft_s is not None and wh.ttft_s is None
        assert st.latency_s is not None and wh.latency_s is not None
        expected = next((s for kw, s in KEYWORDS if kw in case.prompt.lower()), None)
        if "echo" in style and expected is not None:  # it looks around every turn, never reads: undecided
            expected = None
            assert st.outcome == wh.outcome == "undecided" and st.turns == wh.turns == 4
            assert wh.usage == {"input_tokens": 4 * 120, "output_tokens": 4 * 30}  # every turn counts
        else:
            assert wh.usage == {"input_tokens": 120, "output_tokens": 30}
        assert wh.selected == expected


def test_streaming_stops_as_soon_as_the_skill_is_read(workspace: Path, fake: FakeOpenAI) -> None:
    suite = build_suite(workspace)
    res = _route(ResponsesRouter(model="m", api_key="k", base_url=fake.base_url), suite, 0)
    assert res.selected == "crm-query" and res.early_stop
    assert "response.completed" not in res.raw_events_summary
    assert res.raw_events_summary[-1] == "response.shell_call_command.done"


def test_streaming_stops_at_the_first_answer_text(workspace: Path, fake: FakeOpenAI) -> None:
    suite = build_suite(workspace)
    miss = next(i for i, c in enumerate(suite.cases) if c.prompt.startswith("Why is the cash"))
    res = _route(ResponsesRouter(model="m", api_key="k", base_url=fake.base_url), suite, miss)
    assert res.selected is None and res.early_stop
    assert res.raw_events_summary[-1] == "response.output_text.delta"


@pytest.mark.parametrize(("fault", "needle"), [("drop", "stream dropped"), ("end_early", "stream dropped"),
                                               ("500", "HTTP 500"), ("429", "HTTP 429")])
def test_transport_faults_become_retryable_router_errors(workspace: Path, fault: str, needle: str) -> None:
    suite = build_suite(workspace)
    script = Script(keywords=list(KEYWORDS), faults={"Pull the Q3": [fault]}, retry_after="7")
    with FakeOpenAI(script) as srv, pytest.raises(RouterError) as info:
            _route(ResponsesRouter(model="m", api_key="k", base_url=srv.base_url), suite, 0)
    assert info.value.retryable and needle in str(info.value)
    if fault == "429":
        assert info.value.retry_after == 7.0


def test_refused_key_is_fatal(workspace: Path) -> None:
    suite = build_suite(workspace)
    with FakeOpenAI(Script(keywords=list(KEYWORDS), refuse_key="bad")) as srv, pytest.raises(RouterError) as info:
            _route(ResponsesRouter(model="m", api_key="bad", base_url=srv.base_url), suite, 0)
    assert info.value.fatal and not info.value.retryable and "API key" in str(info.value)


def test_chat_router_renders_the_catalog_codex_style_and_detects_reads(workspace: Path, fake: FakeOpenAI) -> None:
    suite = build_suite(workspace)
    prompt = system_prompt(suite)
    assert "- crm-query: Query Salesforce pipeline, opportunities and accounts with SOQL. " \
           "(file: /skills/crm-query/SKILL.md)" in prompt
    results = _route_all(ChatRouter(model="local", api_key="k", base_url=fake.base_url), suite)
    for case, res in zip(suite.cases, results, strict=True):
        expected = next((s for kw, s in KEYWORDS if kw in case.prompt.lower()), None)
        assert res.selected == expected
        assert res.usage == {"input_tokens": 200, "output_tokens": 20}
    body = fake.state.bodies[0]
    assert body["messages"][0]["role"] == "system" and body["tools"][0]["function"]["name"] == "read_file"
    assert json.loads(json.dumps(body))["messages"][1]["content"] == suite.cases[0].prompt


def test_try_a_prompt_shows_the_pick_and_the_raw_shell_call(workspace: Path, fake: FakeOpenAI) -> None:
    from skillstudio.errors import SkillStudioError
    from skillstudio.evals.routers.offline import OfflineRouter
    from skillstudio.evals.runner import try_prompt_sync

    suite = build_suite(workspace)
    res = try_prompt_sync(suite, ResponsesRouter(model="m", api_key="k", base_url=fake.base_url),
                          "Export the Salesforce pipeline for Q4")
    assert res.selected == "crm-query" and res.first_command == "cat /skills/crm-query/SKILL.md"
    none = try_prompt_sync(suite, ResponsesRouter(model="m", api_key="k", base_url=fake.base_url), "Tell a joke")
    assert none.selected is None and none.first_command is None
    assert try_prompt_sync(suite, OfflineRouter(), "reconcile the bank ledger").selected == "ledger-reconcile"
    with pytest.raises(SkillStudioError, match="empty"):
        try_prompt_sync(suite, OfflineRouter(), "  ")


@pytest.mark.parametrize("talk_first", [False, True])
def test_chat_streaming_and_non_streaming_agree_and_stream_measures_ttft(workspace: Path, talk_first: bool) -> None:
    suite = build_suite(workspace)
    with FakeOpenAI(Script(keywords=list(KEYWORDS), chat_talk_first=talk_first)) as srv:
        streamed = _route_all(ChatRouter(model="local", api_key="k", base_url=srv.base_url, stream=True), suite)
        whole = _route_all(ChatRouter(model="local", api_key="k", base_url=srv.base_url, stream=False), suite)
        body = srv.state.bodies[-1]
    for case, st, wh in zip(suite.cases, streamed, whole, strict=True):
        expected = next((s for kw, s in KEYWORDS if kw in case.prompt.lower()), None)
        assert st.selected == wh.selected == expected, case.prompt
        assert st.first_command == wh.first_command
        assert st.ttft_s is not None and wh.ttft_s is None
        assert st.usage == wh.usage == {"input_tokens": 200, "output_tokens": 20}
    assert body.get("stream") is None  # the last request was the non-streaming one
    assert streamed and whole


def test_chat_stream_cut_short_is_a_retryable_error(workspace: Path) -> None:
    suite = build_suite(workspace)
    with FakeOpenAI(Script(keywords=list(KEYWORDS), faults={"Pull the Q3": ["end_early"]})) as srv, \
            pytest.raises(RouterError, match="stream dropped") as info:
        _route(ChatRouter(model="local", api_key="k", base_url=srv.base_url), suite, 0)
    assert info.value.retryable


def test_one_skill_of_a_workspace_runs_its_cases_against_the_whole_catalog(workspace: Path) -> None:
    suite = build_suite(workspace / "support-reply")
    assert [e.name for e in suite.catalog] == ["crm-query", "ledger-reconcile", "support-reply"]
    assert {c.skill for c in suite.cases} == {"support-reply"} and len(suite.cases) == 3
    assert suite.root == workspace.resolve()  # cache and history stay in the workspace
    lone = build_suite(workspace / "support-reply" / "..")
    assert len(lone.cases) == 9
