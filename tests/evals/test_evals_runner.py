"""The runner against the scripted server: retries, errors, cache, concurrency, cancellation, flakiness."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import pytest

from skillstudio.cancel import CancelToken
from skillstudio.evals import metrics
from skillstudio.evals.cache import ResultCache
from skillstudio.evals.routers.responses import ResponsesRouter
from skillstudio.evals.runner import RunSettings, backoff_delay, run_suite_sync
from skillstudio.evals.suite import build_suite
from support.fake_openai import FakeOpenAI, Script
from support.trigger_workspace import KEYWORDS

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}


def _run(srv: FakeOpenAI, workspace: Path, *, stream: bool = True, cache: bool = False, key: str = "k",
         **settings):  # type: ignore[no-untyped-def]
    suite = build_suite(workspace)
    router = ResponsesRouter(model="m", api_key=key, base_url=srv.base_url, stream=stream, timeout=30)
    rc = ResultCache(suite.state_dir / "cache") if cache else None
    merged = {**FAST, **settings}
    return run_suite_sync(suite, router, RunSettings(**merged), cache=rc)


def _case(report: dict, prefix: str) -> dict:
    return next(c for c in report["cases"] if c["prompt"].startswith(prefix))


def test_outcomes_hits_misses_false_triggers_and_metrics(workspace: Path, fake: FakeOpenAI) -> None:
    report = metrics.summarize(_run(fake, workspace, runs=3))
    s = report["summary"]
    # hand count: 6 trigger cases, one miss ("Why is the cash"); 3 no_trigger cases, one false trigger.
    assert (s["tp"], s["fn"], s["tn"], s["fp"]) == (5, 1, 2, 1)
    assert s["precision"] == pytest.approx(5 / 6, abs=1e-4) and s["recall"] == pytest.approx(5 / 6, abs=1e-4)
    assert s["accuracy"] == pytest.approx(7 / 9, abs=1e-4)
    assert (s["cases"], s["passed"], s["failed"], s["errors"]) == (9, 7, 2, 0)
    assert s["requests"] == 27 and s["cached"] == 0
    miss = _case(report, "Why is the cash")
    assert miss["status"] == "fail" and miss["selected"] == [None, None, None] and miss["trigger_rate"] == 0
    other = _case(report, "A customer cannot log in")  # crm-query's negative: support-reply fires (correct)
    assert other["skill"] == "crm-query" and other["status"] == "pass"
    assert other["selected"] == ["support-reply"] * 3 and other["other_skills"] == ["support-reply"]
    false_trigger = _case(report, "Summarise ticket volume")
    assert false_trigger["status"] == "fail" and false_trigger["triggered"] == 3
    assert report["per_skill"]["support-reply"]["fp"] == 1
    cm = report["confusion"]
    row = cm["rows"].index("ledger-reconcile")
    assert cm["matrix"][row][cm["labels"].index("ledger-reconcile")] == 3  # reconcile hit x3
    assert cm["matrix"][row][cm["labels"].index("none")] == 3  # the miss x3
    none_row = cm["matrix"][cm["rows"].index("none")]
    assert none_row[cm["labels"].index("support-reply")] == 6  # 3 from crm's negative + 3 false triggers
    assert sum(map(sum, cm["matrix"])) == 27


def test_flaky_case_gets_a_rate_an_interval_and_a_flag(workspace: Path) -> None:
    script = Script(keywords=list(KEYWORDS), sequences={"List open opportunities": ["crm-query", None, "crm-query"]})
    with FakeOpenAI(script) as srv:
        report = metrics.summarize(_run(srv, workspace, runs=3, concurrency=1))
    case = _case(report, "List open opportunities")
    assert case["triggered"] == 2 and case["trigger_rate"] == pytest.approx(0.667)
    assert case["flaky"] and case["passed"] is True
    assert case["wilson_low"] == pytest.approx(0.2077, abs=1e-3)
    assert case["wilson_high"] == pytest.approx(0.9385, abs=1e-3)
    assert report["summary"]["flaky"] == 1
    with FakeOpenAI(script) as srv:
        strict = metrics.summarize(_run(srv, workspace, runs=3, concurrency=1, threshold=0.7))
    assert _case(strict, "List open opportunities")["status"] == "fail"


@pytest.mark.parametrize(("fault", "stream"), [
    ("429", True), ("429", False), ("500", True), ("500", False), ("timeout", True), ("timeout", False),
    ("drop", True), ("end_early", True),  # a cut stream only exists when streaming
])
def test_transient_faults_are_retried_to_the_same_outcome(workspace: Path, fault: str, stream: bool) -> None:
    script = Script(keywords=list(KEYWORDS), faults={"Pull the Q3": [fault, fault]}, retry_after="0")
    with FakeOpenAI(script, hang_s=6.0) as srv:
        run = _run(srv, workspace, runs=1, stream=stream, timeout_s=2.0 if fault == "timeout" else 30)
        calls = srv.calls()
    report = metrics.summarize(run)
    case = _case(report, "Pull the Q3")
    assert case["status"] == "pass" and case["selected"] == ["crm-query"]
    assert report["summary"]["errors"] == 0 and report["summary"]["retried"] == 2
    assert report["summary"]["requests"] == calls == 9 + 2  # every attempt is a model call
    assert run.outcomes[(0, 0)].attempts == 3


def test_case_still_failing_after_retries_is_an_error_not_a_fail(workspace: Path) -> None:
    script = Script(keywords=list(KEYWORDS), faults={"Pull the Q3": ["500*"]})
    with FakeOpenAI(script) as srv:
        report = metrics.summarize(_run(srv, workspace, runs=2, retries=2))
    case = _case(report, "Pull the Q3")
    assert case["status"] == "error" and case["passed"] is None
    assert case["errors"] and "HTTP 500" in case["errors"][0] and "after 3 attempts" in case["errors"][0]
    s = report["summary"]
    assert s["errors"] == 1 and s["passed"] + s["failed"] == 8 and s["tp"] + s["fn"] == 5


def test_refused_key_stops_the_run_as_fatal(workspace: Path) -> None:
    with FakeOpenAI(Script(keywords=list(KEYWORDS), refuse_key="bad")) as srv:
        run = _run(srv, workspace, key="bad", runs=3, concurrency=2)
        calls = srv.calls()
    assert run.fatal and "API key" in run.fatal
    assert calls <= 2 and len(run.not_run) >= 25  # no hammering a server that refused us


def test_backoff_honours_retry_after_and_grows_with_jitter() -> None:
    s = RunSettings(backoff_base_s=0.5, backoff_max_s=30)
    rng = random.Random(1)
    assert backoff_delay(0, s, 5.0, rng) >= 5.0
    assert backoff_delay(0, s, 90.0, rng) == 90.0  # a long Retry-After is still honoured
    delays = [backoff_delay(a, s, None, rng) for a in range(6)]
    for a, d in enumerate(delays):
        cap = min(30, 0.5 * 2 ** a)
        assert cap / 2 <= d <= cap
    assert len({round(backoff_delay(3, s, None, rng), 6) for _ in range(5)}) > 1  # jitter


def test_rerun_of_an_unchanged_suite_makes_zero_model_calls(workspace: Path, fake: FakeOpenAI) -> None:
    first = metrics.summarize(_run(fake, workspace, runs=3, cache=True))
    assert first["summary"]["requests"] == 27 and fake.calls() == 27
    again = metrics.summarize(_run(fake, workspace, runs=3, cache=True))
    assert fake.calls() == 27
    assert again["summary"]["requests"] == 0 and again["summary"]["cached"] == 27
    assert [c["selected"] for c in again["cases"]] == [c["selected"] for c in first["cases"]]
    # streaming off hits the same cache: the outcome does not depend on it
    assert metrics.summarize(_run(fake, workspace, runs=3, cache=True, stream=False))["summary"]["requests"] == 0
    # one more run per case: only the new run index is asked
    more = metrics.summarize(_run(fake, workspace, runs=4, cache=True))
    assert more["summary"]["requests"] == 9 and more["summary"]["cached"] == 27
    # --no-cache asks again
    fresh = metrics.summarize(_run(fake, workspace, runs=3, cache=True, use_cache=False))
    assert fresh["summary"]["requests"] == 27 and fresh["summary"]["cached"] == 0
    # editing a description changes the catalog, so every request is new
    md = workspace / "crm-query" / "SKILL.md"
    md.write_text(md.read_text().replace("with SOQL", "with SOQL queries"))
    edited = metrics.summarize(_run(fake, workspace, runs=3, cache=True))
    assert edited["summary"]["requests"] == 27
    cached_files = list((workspace / ".skillstudio" / "cache").rglob("*.json"))
    assert cached_files and all("Bearer" not in p.read_text() for p in cached_files)


def test_results_do_not_depend_on_concurrency_or_completion_order(workspace: Path) -> None:
    script = Script(keywords=list(KEYWORDS), jitter_by_prompt=True)
    with FakeOpenAI(script) as srv:
        serial = metrics.summarize(_run(srv, workspace, runs=3, concurrency=1))
        wide = metrics.summarize(_run(srv, workspace, runs=3, concurrency=8))
    strip = ("wall_s", "latency_p50_s", "latency_p95_s", "ttft_p50_s", "ttft_p95_s", "decision_p50_s",
             "decision_p95_s")
    assert {k: v for k, v in serial["summary"].items() if k not in strip} == \
           {k: v for k, v in wide["summary"].items() if k not in strip}
    assert [(c["prompt"], c["selected"], c["status"]) for c in serial["cases"]] == \
           [(c["prompt"], c["selected"], c["status"]) for c in wide["cases"]]
    assert serial["confusion"] == wide["confusion"]


def test_cancel_keeps_finished_results_and_lists_what_did_not_run(workspace: Path) -> None:
    suite = build_suite(workspace)
    cancel = CancelToken()
    seen: list[int] = []

    def progress(done: int, total: int, outcome) -> None:  # type: ignore[no-untyped-def]
        seen.append(done)
        if done == 5:
            cancel.cancel()

    with FakeOpenAI(Script(keywords=list(KEYWORDS), delay_s=0.05)) as srv:
        router = ResponsesRouter(model="m", api_key="k", base_url=srv.base_url)
        run = run_suite_sync(suite, router, RunSettings(runs=3, concurrency=2, **FAST), cancel=cancel,
                             progress=progress)
    assert run.cancelled
    assert 5 <= len(run.outcomes) < 27 and len(run.outcomes) + len(run.not_run) == 27
    assert seen[:5] == [1, 2, 3, 4, 5]
    assert all(o.result is not None and o.error is None for o in run.outcomes.values())
    report = metrics.summarize(run)
    assert report["summary"]["cancelled"] and report["summary"]["not_run"] >= 1
    assert report["summary"]["not_run_requests"] == len(run.not_run)
    finished_case = report["cases"][0]
    assert finished_case["status"] in ("pass", "not_run")


def test_cancel_from_another_thread_while_requests_hang(workspace: Path) -> None:
    suite = build_suite(workspace)
    cancel = CancelToken()
    with FakeOpenAI(Script(keywords=list(KEYWORDS), faults={"": ["timeout*"]}), hang_s=3.0) as srv:
        router = ResponsesRouter(model="m", api_key="k", base_url=srv.base_url)
        timer = threading.Timer(0.3, cancel.cancel)
        timer.start()
        run = run_suite_sync(suite, router, RunSettings(runs=1, concurrency=4, timeout_s=30, **FAST),
                             cancel=cancel)
        timer.join()
    assert run.cancelled and not run.outcomes and len(run.not_run) == 9
