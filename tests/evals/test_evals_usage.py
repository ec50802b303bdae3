"""Usage of streams closed early (estimated locally, labelled so) and the lean SSE reader."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from skillstudio.bundle import tokens
from skillstudio.evals import metrics, reports
from skillstudio.evals.routers.responses import ResponsesRouter
from skillstudio.evals.routers.sse import SSEFormatError, sse_json
from skillstudio.evals.runner import RunSettings, run_suite_sync
from skillstudio.evals.suite import build_suite
from support.fake_openai import FakeOpenAI


def test_streams_closed_early_get_an_estimated_usage_labelled_as_such(workspace: Path, fake: FakeOpenAI) -> None:
    suite = build_suite(workspace)
    streamed = run_suite_sync(suite, ResponsesRouter(model="gpt-4.1-mini", api_key="k", base_url=fake.base_url),
                              RunSettings(runs=1))
    whole = run_suite_sync(suite, ResponsesRouter(model="gpt-4.1-mini", api_key="k", base_url=fake.base_url,
                                                  stream=False), RunSettings(runs=1))
    catalog_parts = set()
    for case in suite.cases:
        r = streamed.outcomes[(case.index, 0)].result
        assert r is not None and r.early_stop and r.usage is not None and r.usage["estimated"] == 1
        catalog_parts.add(r.usage["input_tokens"] - tokens.count(case.prompt))
        # output: the visible first command only (none for a text answer)
        assert r.usage["output_tokens"] == (tokens.count(r.first_command) if r.first_command else 0)
        exact = whole.outcomes[(case.index, 0)].result
        assert exact is not None and exact.usage == {"input_tokens": 120, "output_tokens": 30}  # the server's
    # the same catalog is offered to every case: one catalog share, and more than a few tokens
    assert len(catalog_parts) == 1 and catalog_parts.pop() > 50
    s = metrics.summarize(streamed)["summary"]
    assert s["usage_estimated"] == len(suite.cases) and s["usage_reported"] == 0
    assert s["cost_is_estimate"] is True and s["cost_usd"] is not None and s["cost_usd"] > 0
    html = reports.to_html(metrics.summarize(streamed))
    assert "cost USD (estimate)" in html and "<b>estimate</b>" in html
    w = metrics.summarize(whole)["summary"]
    assert w["usage_reported"] == len(suite.cases) and w["usage_estimated"] == 0 and w["cost_is_estimate"] is False
    assert "cost USD (estimate)" not in reports.to_html(metrics.summarize(whole))


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for p in parts:
        yield p


def _read(parts: list[bytes]) -> list[Any]:
    async def collect() -> list[Any]:
        return [e async for e in sse_json(_chunks(parts))]
    return asyncio.run(collect())


def test_sse_reader_splits_joins_and_stops_like_the_format_says() -> None:
    stream = (b": keep-alive comment\r\nevent: response.created\r\ndata: {\"type\": \"a\",\r\n"
              b"data: \"n\": 1}\r\n\r\nid: 7\nretry: 10\ndata:{\"type\":\"b\"}\n\n"
              b"data: [DONE]\n\ndata: {\"type\": \"after-done\"}\n\n")
    want = [{"type": "a", "n": 1}, {"type": "b"}]
    assert _read([stream]) == want
    for size in (1, 3, 7):  # any chunking of the same bytes gives the same events
        assert _read([stream[i:i + size] for i in range(0, len(stream), size)]) == want
    assert _read([b"data: {\"type\": \"unfinished\"}"]) == []  # no blank line: never dispatched
    with pytest.raises(SSEFormatError, match="not JSON"):
        _read([b"data: {oops\n\n"])
