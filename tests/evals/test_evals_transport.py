"""The streamed runs' transport: httpcore's pool when direct, the httpx client behind a proxy — same verdicts."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from skillstudio.evals.routers import RouterError
from skillstudio.evals.routers.responses import ResponsesRouter
from skillstudio.evals.routers.transport import Reply
from skillstudio.evals.runner import RunSettings, run_suite_sync
from skillstudio.evals.suite import build_suite
from support.fake_openai import FakeOpenAI


def _verdicts(workspace: Path, base_url: str) -> tuple[dict[tuple[int, int], str | None], ResponsesRouter]:
    router = ResponsesRouter(model="m", api_key="k", base_url=base_url)
    seen: list[object] = []
    original = router._http_client

    def spy():  # type: ignore[no-untyped-def]
        t = original()
        seen.append(t)
        return t

    router._http_client = spy  # type: ignore[method-assign]
    run = run_suite_sync(build_suite(workspace), router, RunSettings(runs=2, use_cache=False))
    assert run.requests == len(run.outcomes) and not any(o.error for o in run.outcomes.values())
    assert seen
    return {k: o.selected for k, o in run.outcomes.items()}, seen[0]  # type: ignore[return-value]


def test_direct_and_proxy_configured_runs_give_the_same_verdicts(workspace: Path, fake: FakeOpenAI,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    direct, t1 = _verdicts(workspace, fake.base_url)
    assert t1._pool is not None and t1._client is None  # type: ignore[attr-defined]
    # A proxy is configured, loopback is exempt: the httpx client takes the request and honours NO_PROXY.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    proxied, t2 = _verdicts(workspace, fake.base_url)
    assert t2._client is not None and t2._pool is None  # type: ignore[attr-defined]
    assert proxied == direct and any(direct.values()) and None in direct.values()


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for p in parts:
        yield p


async def _nothing() -> None:
    return None


def _body(reply: Reply) -> bytes:
    return asyncio.run(reply.read())


def test_compressed_replies_are_inflated_and_unknown_codings_refused() -> None:
    text = b"event: response.created\ndata: {\"type\": \"response.created\"}\n\n" * 20
    packed = gzip.compress(text)
    parts = [packed[i:i + 7] for i in range(0, len(packed), 7)]
    assert _body(Reply(200, "OK", {"content-encoding": "gzip"}, _chunks(parts), _nothing)) == text
    deflated = zlib.compress(text)
    assert _body(Reply(200, "OK", {"content-encoding": "deflate"}, _chunks([deflated]), _nothing)) == text
    assert _body(Reply(200, "OK", {}, _chunks([text]), _nothing)) == text
    with pytest.raises(RouterError, match="br-encoded"):
        Reply(200, "OK", {"content-encoding": "br"}, _chunks([text]), _nothing).chunks()
