"""The one background idiom: a job gets a WorkerContext (progress, partial results, events, cancel)."""

from __future__ import annotations

import threading

from skillstudio.errors import SkillStudioError
from skillstudio.ui.common.workers import WorkerContext, WorkerPool


def test_a_job_streams_events_partials_and_progress_in_order_then_its_result(qtbot) -> None:
    pool = WorkerPool(max_threads=1)
    seen: list[tuple[str, object]] = []
    gui = threading.get_ident()

    def job(ctx: WorkerContext) -> str:
        for i in range(3):
            ctx.event(f"line {i}")
            ctx.partial(list(range(i + 1)))
            ctx.progress(i + 1, 3)
        assert threading.get_ident() != gui  # never on the GUI thread
        return "done"

    def record(kind: str):  # type: ignore[no-untyped-def]
        return lambda _job, *value: seen.append((kind, value[0] if len(value) == 1 else value))

    with qtbot.waitSignal(pool._signals.sig_finished, timeout=5000):
        pool.start(job, on_event=record("event"), on_partial=record("partial"), on_progress=record("progress"),
                   on_result=record("result"))
    assert seen[:3] == [("event", "line 0"), ("partial", [0]), ("progress", (1, 3))]
    assert seen[-1] == ("result", "done") and len(seen) == 10
    pool.shutdown()
    assert pool.active_threads() == 0


def test_after_a_cancel_nothing_arrives_unless_the_job_asked_for_it(qtbot) -> None:
    pool = WorkerPool(max_threads=2)
    started, release = threading.Event(), threading.Event()
    got: dict[str, list[object]] = {"plain": [], "after": []}

    def job(ctx: WorkerContext) -> str:
        started.set()
        release.wait(5)
        ctx.event("late event")
        return "killed, exit -9"

    for name, after in (("plain", False), ("after", True)):
        started.clear()
        release.clear()
        job_id, token = pool.start(job, on_event=lambda _j, v, n=name: got[n].append(v),
                                   on_result=lambda _j, v, n=name: got[n].append(v), after_cancel=after)
        assert started.wait(5)
        token.cancel()
        with qtbot.waitSignal(pool._signals.sig_finished, timeout=5000):
            release.set()
    assert got == {"plain": [], "after": ["late event", "killed, exit -9"]}
    pool.shutdown()


def test_errors_come_back_as_one_line_and_cancelled_jobs_stop_quietly(qtbot) -> None:
    pool = WorkerPool()
    errors: list[str] = []

    def failing(_ctx: WorkerContext) -> None:
        raise SkillStudioError("the registry refused the push", "log in first")

    def cancelled(ctx: WorkerContext) -> None:
        ctx.token.cancel()
        ctx.raise_if_cancelled()

    for fn in (failing, cancelled):
        with qtbot.waitSignal(pool._signals.sig_finished, timeout=5000):
            pool.start(fn, on_error=lambda _j, m: errors.append(m))
    assert errors == ["the registry refused the push — log in first"]  # nothing for the cancelled one
    pool.shutdown()
