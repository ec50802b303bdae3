"""Runs a suite: every case N times, bounded concurrency, retries, cache, cancellation.

Results are stored by (case index, run index) and always reported in suite order, so they do not
depend on the concurrency level or on the order requests complete in. A request that still fails
after its retries becomes an *error* outcome — never a pass or a fail. Cancelling (cancel button,
Ctrl-C) keeps every finished result and lists what was not run. Runs on asyncio; `run_suite_sync`
is the blocking entry point for the CLI and the UI's worker thread (never touch the UI from it).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from skillstudio.cancel import CancelToken
from skillstudio.evals.cache import ResultCache, cache_key, run_extra
from skillstudio.evals.routers import Router, RouteRequest, RouterError, RouteResult
from skillstudio.evals.suite import Suite
from skillstudio.evals.trajectory import DEFAULT_MAX_TURNS

JobKey = tuple[int, int]  # (case index, run index)
CACHE_BATCH = 32  # results written to the cache together, off the event loop


@dataclass
class RunSettings:
    runs: int = 3
    concurrency: int = 8
    threshold: float = 0.5
    timeout_s: float = 60.0  # per request (one attempt)
    retries: int = 4  # attempts after the first one
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    use_cache: bool = True
    max_turns: int = DEFAULT_MAX_TURNS  # model turns a run may take before it is "undecided"
    sandbox: str = "subprocess"  # where exploring commands run: subprocess (bubblewrap) or docker

    def check(self) -> None:
        from skillstudio.errors import SkillStudioError

        if self.runs < 1:
            raise SkillStudioError("Runs must be at least 1")
        if self.concurrency < 1:
            raise SkillStudioError("Concurrency must be at least 1")
        if not 0.0 < self.threshold <= 1.0:
            raise SkillStudioError("The threshold must be above 0 and at most 1",
                                   "e.g. 0.5 means triggered in half the runs")
        if self.timeout_s <= 0:
            raise SkillStudioError("The timeout must be positive")
        if not 1 <= self.max_turns <= 50:
            raise SkillStudioError("Model turns must be between 1 and 50", "the default is 4 model turns")
        if self.sandbox not in ("subprocess", "docker"):
            raise SkillStudioError(f"unknown sandbox {self.sandbox!r} for exploring commands",
                                   "use subprocess or docker")


@dataclass
class RunOutcome:
    case: int
    run: int
    result: RouteResult | None = None
    error: str | None = None  # set when every attempt failed
    cached: bool = False
    attempts: int = 0

    @property
    def selected(self) -> str | None:
        return self.result.selected if self.result else None


@dataclass
class SuiteRun:
    suite: Suite
    provider: str
    model: str
    base_url: str
    is_estimate: bool
    settings: RunSettings
    outcomes: dict[JobKey, RunOutcome] = field(default_factory=dict)
    requests: int = 0  # model calls made (every attempt and every turn counts)
    cached: int = 0
    retried: int = 0
    wall_s: float = 0.0
    cancelled: bool = False
    fatal: str | None = None
    started_at: str = ""

    @property
    def total(self) -> int:
        return len(self.suite.cases) * self.settings.runs

    @property
    def not_run(self) -> list[JobKey]:
        return [(c.index, r) for c in self.suite.cases for r in range(self.settings.runs)
                if (c.index, r) not in self.outcomes]


Progress = Callable[[int, int, RunOutcome], None]


def backoff_delay(attempt: int, settings: RunSettings, retry_after: float | None, rng: random.Random) -> float:
    """Exponential backoff with full jitter; a server's Retry-After is a floor we always honour."""
    exp = min(settings.backoff_max_s, settings.backoff_base_s * (2 ** attempt))
    delay = exp * (0.5 + rng.random() / 2)
    if retry_after is not None:
        delay = max(delay, retry_after) if retry_after <= settings.backoff_max_s else retry_after
    return delay


async def run_suite(suite: Suite, router: Router, settings: RunSettings | None = None, *,
                    cancel: CancelToken | None = None, progress: Progress | None = None,
                    cache: ResultCache | None = None) -> SuiteRun:
    settings = settings or RunSettings()
    settings.check()
    cancel = cancel or CancelToken()
    set_concurrency = getattr(router, "set_concurrency", None)
    if set_concurrency is not None:  # a connection pool as large as the requests in flight, no larger
        set_concurrency(settings.concurrency)
    if hasattr(router, "max_turns"):
        router.max_turns = settings.max_turns  # type: ignore[attr-defined]
    if hasattr(router, "sandbox"):
        router.sandbox = settings.sandbox  # type: ignore[attr-defined]
    if hasattr(router, "turn_timeout"):
        router.turn_timeout = settings.timeout_s  # type: ignore[attr-defined]
    router.prepare(suite)
    out = SuiteRun(suite, router.kind, router.model, router.base_url, router.is_estimate, settings,
                   started_at=datetime.now(UTC).isoformat(timespec="microseconds"))
    started = time.perf_counter()
    rng = random.Random()
    # A deterministic estimate gives every repeat the same answer: route each case once, copy it.
    repeats = 1 if router.is_estimate else settings.runs
    jobs: list[RouteRequest] = [RouteRequest(c, r) for c in suite.cases for r in range(repeats)]
    total = len(suite.cases) * settings.runs
    keys: dict[JobKey, str] = {}

    def finish(o: RunOutcome) -> None:
        out.outcomes[(o.case, o.run)] = o
        if progress:
            progress(len(out.outcomes), total, o)
        for r in range(repeats, settings.runs):  # the estimate's copies
            copy = RunOutcome(o.case, r, o.result, o.error, o.cached, o.attempts)
            out.outcomes[(o.case, r)] = copy
            if progress:
                progress(len(out.outcomes), total, copy)

    pending: list[RouteRequest] = []
    for req in jobs:
        body = router.request_body(req) if cache is not None else None
        if body is not None and cache is not None:
            key = cache_key(router.kind, router.base_url, router.model, body, req.run,
                            run_extra(req.case, settings.max_turns))
            keys[(req.case.index, req.run)] = key
            hit = cache.get(key) if settings.use_cache else None
            if hit is not None:
                out.cached += 1
                finish(RunOutcome(req.case.index, req.run, hit, cached=True))
                continue
        pending.append(req)

    queue: asyncio.Queue[RouteRequest] = asyncio.Queue()
    for req in pending:
        queue.put_nowait(req)
    stop = asyncio.Event()

    async def attempt_all(req: RouteRequest) -> RunOutcome | None:
        outcome = RunOutcome(req.case.index, req.run)
        for attempt in range(settings.retries + 1):
            if stop.is_set():
                return None
            outcome.attempts = attempt + 1
            if not router.is_estimate:
                out.requests += 1
            try:
                # multi-turn routers time each turn themselves (`turn_timeout`); this bounds the whole
                # attempt, exploring commands included
                whole = settings.timeout_s * settings.max_turns + (60.0 if settings.max_turns > 1 else 0.0)
                async with asyncio.timeout(whole if hasattr(router, "turn_timeout") else settings.timeout_s):
                    outcome.result = await router.route(req)
                if not router.is_estimate and outcome.result.turns:
                    out.requests += outcome.result.turns - 1  # every model turn is a request
                return outcome
            except TimeoutError:
                err = RouterError(f"timed out after {settings.timeout_s:g} s", retryable=True)
            except RouterError as exc:
                err = exc
            except Exception as exc:  # noqa: BLE001 - an unexpected reply must not kill the whole run
                err = RouterError(f"unexpected {exc.__class__.__name__}: {exc}", retryable=False)
            if err.fatal:
                out.fatal = str(err)
                stop.set()
                return None
            if not err.retryable or attempt == settings.retries:
                tries = f" (after {attempt + 1} attempts)" if attempt else ""
                outcome.error = f"{err}{tries}"
                return outcome
            out.retried += 1
            delay = backoff_delay(attempt, settings, err.retry_after, rng)
            try:
                await asyncio.wait_for(stop.wait(), delay)
                return None  # stopped while waiting
            except TimeoutError:
                pass
        return outcome  # pragma: no cover - loop always returns

    to_cache: list[tuple[str, RouteResult]] = []
    writing: set[asyncio.Future[None]] = set()

    def cache_later(key: str, result: RouteResult) -> None:
        """Cache writes go to a worker thread in batches: file I/O on the loop delays every request."""
        to_cache.append((key, result))
        if cache is not None and len(to_cache) >= CACHE_BATCH:
            batch = to_cache[:]
            to_cache.clear()
            fut = asyncio.ensure_future(asyncio.to_thread(cache.put_many, batch))
            writing.add(fut)
            fut.add_done_callback(writing.discard)

    async def worker() -> None:
        while not stop.is_set():
            try:
                req = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            outcome = await attempt_all(req)
            if outcome is None:
                return
            key = keys.get((req.case.index, req.run))
            if cache is not None and key is not None and outcome.result is not None:
                cache_later(key, outcome.result)
            finish(outcome)

    async def watch_cancel() -> None:
        while not stop.is_set():
            if cancel.cancelled:
                out.cancelled = True
                stop.set()
                return
            await asyncio.sleep(0.05)

    workers = [asyncio.create_task(worker()) for _ in range(min(settings.concurrency, max(1, len(pending))))]
    watcher = asyncio.create_task(watch_cancel())
    try:
        stopper = asyncio.create_task(stop.wait())
        running = set(workers)
        while running and not stop.is_set():
            done, _ = await asyncio.wait(running | {stopper}, return_when=asyncio.FIRST_COMPLETED)
            running -= done
        if stop.is_set():  # cancelled or fatal: in-flight requests are abandoned, finished ones kept
            for w in workers:
                w.cancel()
        results = await asyncio.gather(*workers, return_exceptions=True)
        stopper.cancel()
        await asyncio.gather(stopper, return_exceptions=True)
        for r in results:
            if isinstance(r, Exception):
                raise r
    finally:
        stop.set()
        watcher.cancel()  # it may be asleep between checks: waiting for it would add up to 50 ms to every run
        await asyncio.gather(watcher, return_exceptions=True)
        if cache is not None and to_cache:
            writing.add(asyncio.ensure_future(asyncio.to_thread(cache.put_many, to_cache[:])))
        await asyncio.gather(*writing, return_exceptions=True)  # every finished result is cached
        await router.aclose()
    if cancel.cancelled and len(out.outcomes) < total:
        out.cancelled = True
    out.wall_s = time.perf_counter() - started
    return out


def run_suite_sync(suite: Suite, router: Router, settings: RunSettings | None = None, *,
                   cancel: CancelToken | None = None, progress: Progress | None = None,
                   cache: ResultCache | None = None) -> SuiteRun:
    return asyncio.run(run_suite(suite, router, settings, cancel=cancel, progress=progress, cache=cache))


async def try_prompt(suite: Suite, router: Router, prompt: str, *, timeout_s: float = 60.0) -> RouteResult:
    """One prompt against the whole catalog ("Try a prompt"): which skill would the model read?

    One attempt, no cache: the user is looking at this answer right now. Transport trouble becomes a
    SkillStudioError with the server's reason.
    """
    from skillstudio.errors import SkillStudioError
    from skillstudio.evals.suite import SuiteCase

    if not prompt.strip():
        raise SkillStudioError("the prompt is empty", "type what a user would ask")
    router.prepare(suite)
    try:
        return await asyncio.wait_for(router.route(RouteRequest(SuiteCase(-1, "", prompt, "trigger"), 0)),
                                      timeout_s)
    except TimeoutError:
        raise SkillStudioError(f"no answer within {timeout_s:g} s", "try again or raise the timeout") from None
    except RouterError as exc:
        raise SkillStudioError(f"the model request failed: {exc}", "check the API key, base URL and model") from None
    finally:
        await router.aclose()


def try_prompt_sync(suite: Suite, router: Router, prompt: str, *, timeout_s: float = 60.0) -> RouteResult:
    return asyncio.run(try_prompt(suite, router, prompt, timeout_s=timeout_s))
