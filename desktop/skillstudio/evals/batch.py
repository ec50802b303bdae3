"""Batch mode: the same Responses requests as one `/v1/batches` job, for suites too big to wait on.

Every (case, run) not already cached becomes one JSONL line whose body is exactly what the
Responses router sends (minus `stream`), so results land in the same cache and a later
interactive run reuses them. Upload the file, create the batch, poll (cancel token honoured: the
batch is cancelled server-side and unfinished requests are reported as not run), download the
output and error files and settle each line's first turn with the same rule as the Responses
router. A run the first turn leaves open (the model explored) continues interactively: the
exploring calls run in the sandbox and the conversation goes on through the Responses router,
exactly as an interactive run would, within the same turn budget.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import openai

from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.evals.cache import ResultCache, cache_key, run_extra
from skillstudio.evals.routers import RouteRequest, RouterError, RouteResult
from skillstudio.evals.routers.responses import ResponsesRouter, settle_output
from skillstudio.evals.runner import Progress, RunOutcome, RunSettings, SuiteRun
from skillstudio.evals.suite import Suite, SuiteCase
from skillstudio.evals.trajectory import TurnOut, follow

DONE = {"completed", "failed", "expired", "cancelled"}


def custom_id(case: int, run: int) -> str:
    return f"case-{case}-run-{run}"


def parse_custom_id(cid: str) -> tuple[int, int] | None:
    try:
        _, case, _, run = cid.split("-")
        return int(case), int(run)
    except ValueError:
        return None


def _body_usage(body: dict[str, Any]) -> dict[str, int] | None:
    usage = body.get("usage") or None
    return {"input_tokens": int(usage.get("input_tokens", 0)),
            "output_tokens": int(usage.get("output_tokens", 0))} if isinstance(usage, dict) else None


async def result_from_body(body: dict[str, Any], router: ResponsesRouter, case: SuiteCase) -> RouteResult:
    """The run of one batch line: settled by its first turn, or followed on interactively."""
    output = [i for i in body.get("output") or [] if isinstance(i, dict)]
    start = time.perf_counter()
    settled = settle_output(output, router._rule)
    if settled.kind == "explore":
        return await router.continue_run(case, output, _body_usage(body), start)
    first = TurnOut(settled, _body_usage(body), events=[str(i.get("type")) for i in output])
    result = await follow(_NoMoreTurns(), max_turns=1, sandbox=lambda: router.session(case), start=start,
                          first=first)
    result.latency_s = None  # a batch line's time is the batch's, not this request's
    return result


class _NoMoreTurns:
    """A settled first turn needs no further turns (follow never asks)."""

    async def turn(self) -> TurnOut:  # pragma: no cover - follow stops at a read or an answer
        raise AssertionError("no further turn")

    def reply(self, call: Any, outputs: Any) -> None:  # pragma: no cover
        raise AssertionError("no exploration")


async def run_batch(suite: Suite, *, model: str, api_key: str, base_url: str | None = None,
                    settings: RunSettings | None = None, cancel: CancelToken | None = None,
                    progress: Progress | None = None, cache: ResultCache | None = None, poll_s: float = 10.0,
                    on_status: Callable[[str], None] | None = None) -> SuiteRun:
    settings = settings or RunSettings()
    settings.check()
    cancel = cancel or CancelToken()
    say = on_status or (lambda _m: None)
    router = ResponsesRouter(model=model, api_key=api_key, base_url=base_url, stream=False,
                             max_turns=settings.max_turns, sandbox=settings.sandbox)
    router.prepare(suite)
    by_index = {c.index: c for c in suite.cases}
    out = SuiteRun(suite, "responses-batch", model, router.base_url, False, settings,
                   started_at=datetime.now(UTC).isoformat(timespec="microseconds"))
    started = time.perf_counter()
    total = len(suite.cases) * settings.runs

    def finish(o: RunOutcome) -> None:
        out.outcomes[(o.case, o.run)] = o
        if progress:
            progress(len(out.outcomes), total, o)

    lines: list[str] = []
    keys: dict[tuple[int, int], str] = {}
    for case in suite.cases:
        for run in range(settings.runs):
            body = router.request_body(RouteRequest(case, run))
            key = cache_key("responses", router.base_url, model, body, run, run_extra(case, settings.max_turns))
            keys[(case.index, run)] = key
            hit = cache.get(key) if cache is not None and settings.use_cache else None
            if hit is not None:
                out.cached += 1
                finish(RunOutcome(case.index, run, hit, cached=True))
                continue
            lines.append(json.dumps({"custom_id": custom_id(case.index, run), "method": "POST",
                                     "url": "/v1/responses", "body": body}, ensure_ascii=False))
    client = router.client
    try:
        if not lines:
            return out
        try:
            uploaded = await client.files.create(file=("trigger-tests.jsonl", "\n".join(lines).encode()),
                                                 purpose="batch")
            batch = await client.batches.create(input_file_id=uploaded.id, endpoint="/v1/responses",
                                                completion_window="24h",
                                                metadata={"created_by": "skillstudio trigger tests"})
            out.requests = len(lines)
            say(f"batch {batch.id}: {batch.status}")
            while batch.status not in DONE:
                if cancel.cancelled or await _sleep_or_cancel(cancel, poll_s):
                    await client.batches.cancel(batch.id)
                    out.cancelled = True
                    say(f"batch {batch.id}: cancelling")
                    batch = await client.batches.retrieve(batch.id)
                    break
                batch = await client.batches.retrieve(batch.id)
                counts = batch.request_counts
                say(f"batch {batch.id}: {batch.status}"
                    + (f" ({counts.completed}/{counts.total})" if counts is not None else ""))
            if batch.status in ("failed", "expired") and not batch.output_file_id:
                errors = "; ".join(e.message or "" for e in (batch.errors.data or [])) if batch.errors else ""
                raise SkillStudioError(f"batch {batch.id} {batch.status}{': ' + errors if errors else ''}",
                                       "check the model and the account's batch limits")
            gate = asyncio.Semaphore(settings.concurrency)  # follow-up turns, as many as interactive
            for file_id, is_error in ((batch.output_file_id, False), (batch.error_file_id, True)):
                if not file_id:
                    continue
                content = await client.files.content(file_id)
                async def ingest(raw: str, is_error: bool = is_error) -> None:
                    async with gate:
                        made = await _ingest(json.loads(raw), is_error, router, by_index, cache, keys, finish)
                    out.requests += made  # after the await: concurrent lines never lose a count

                await asyncio.gather(*(ingest(raw) for raw in content.text.splitlines() if raw.strip()))
        except openai.APIError as exc:
            raise SkillStudioError(f"batch request failed: {exc}", "check the API key, base URL and model") from None
    finally:
        await router.aclose()
        out.wall_s = time.perf_counter() - started
    return out


async def _sleep_or_cancel(cancel: CancelToken, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cancel.cancelled:
            return True
        await asyncio.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    return cancel.cancelled


async def _ingest(line: dict[str, Any], is_error: bool, router: ResponsesRouter, cases: dict[int, SuiteCase],
                  cache: ResultCache | None, keys: dict[tuple[int, int], str],
                  finish: Callable[[RunOutcome], None]) -> int:
    """Finish one batch line; returns the follow-up requests it made (turns after the batch's)."""
    ids = parse_custom_id(str(line.get("custom_id", "")))
    if ids is None or ids not in keys:
        return 0
    case, run = ids
    response = line.get("response") or {}
    status = response.get("status_code")
    body = response.get("body") or {}
    if is_error or line.get("error") or status != 200 or body.get("status") == "failed":
        err = line.get("error") or body.get("error") or {}
        message = err.get("message") if isinstance(err, dict) else str(err)
        finish(RunOutcome(case, run, error=f"batch request failed (HTTP {status}): {message}", attempts=1))
        return 0
    try:
        result = await result_from_body(body, router, cases[case])
    except RouterError as exc:
        if exc.fatal:
            raise SkillStudioError(str(exc), "install the sandbox, or choose another backend") from None
        finish(RunOutcome(case, run, error=f"follow-up turn failed: {exc}", attempts=1))
        return 1
    if cache is not None:
        cache.put(keys[ids], result)
    finish(RunOutcome(case, run, result, attempts=1))
    return max(0, (result.turns or 1) - 1)


def run_batch_sync(suite: Suite, **kwargs: Any) -> SuiteRun:
    return asyncio.run(run_batch(suite, **kwargs))
