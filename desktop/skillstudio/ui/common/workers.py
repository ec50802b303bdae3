"""Background work for the UI: a QRunnable per job on a widget-owned QThreadPool — the one idiom.

Rule (as in Anki): the function given to `WorkerPool.start` runs on a pool thread and must NEVER touch
a widget. It gets a `WorkerContext` (Orange's task state): cancellation, progress, partial results
("what is known so far") and events (one item of a live stream: an output chunk, an agent event),
and returns a plain value. `submit` is the short form for jobs that only need the token and progress.
A Qt-free service's own context (cancel token in, progress/partial callbacks out) is fed from this
one: its token is `ctx.token`, its callbacks are `ctx.progress` / `ctx.partial` / `ctx.event`.
Results come back through the signals of one long-lived `JobSignals` QObject per pool (created in the
GUI thread, so its connections are queued) to the pool's @Slot methods, which call the job's
callbacks in the GUI thread. No QObject is created or destroyed per job, so none can ever be
destroyed on the wrong thread. `shutdown()` cancels every job and waits for them, so closing a
window never leaves a thread running; results arriving after that are dropped.
"""

from __future__ import annotations

import itertools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from skillstudio.cancel import CancelToken
from skillstudio.errors import Cancelled, SkillStudioError

log = logging.getLogger(__name__)

JobFn = Callable[[CancelToken, Callable[[int, int], None]], Any]
TaskFn = Callable[["WorkerContext"], Any]


class JobSignals(QObject):
    """The pool's channel from worker threads back to the GUI thread; every signal carries the job id."""

    sig_result = Signal(int, object)  # job id, value returned by the function
    sig_error = Signal(int, str)  # job id, one-line message for the user
    sig_progress = Signal(int, int, int)  # job id, done, total
    sig_partial = Signal(int, object)  # job id, the partial result so far
    sig_event = Signal(int, object)  # job id, one item of the job's live stream
    sig_finished = Signal(int)  # job id; always last, also after cancel or error


class WorkerContext:
    """What a running job gets: every method is safe on the worker thread (it only emits a signal).

    After a cancel, progress, partial results and events are dropped unless the job was started
    with `after_cancel=True` (a killed process still reports its last output and exit status).
    """

    def __init__(self, job_id: int, token: CancelToken, signals: JobSignals, after_cancel: bool) -> None:
        self.job_id, self.token = job_id, token
        self._signals, self._after_cancel = signals, after_cancel

    @property
    def cancelled(self) -> bool:
        """True once the GUI asked the job to stop (Orange: is_interruption_requested)."""
        return self.token.cancelled

    def raise_if_cancelled(self) -> None:
        if self.token.cancelled:
            raise Cancelled()

    def delivers(self) -> bool:
        """Whether what the job sends now still reaches the GUI."""
        return self._after_cancel or not self.token.cancelled

    def progress(self, done: int, total: int) -> None:
        if self.delivers():
            self._signals.sig_progress.emit(self.job_id, done, total)

    def partial(self, value: object) -> None:
        """Everything known so far (each call replaces the previous one on the GUI side)."""
        if self.delivers():
            self._signals.sig_partial.emit(self.job_id, value)

    def event(self, value: object) -> None:
        """One item of the job's live stream, delivered in order."""
        if self.delivers():
            self._signals.sig_event.emit(self.job_id, value)


@dataclass
class _Callbacks:
    token: CancelToken
    on_result: Callable[[int, object], None] | None
    on_error: Callable[[int, str], None] | None
    on_progress: Callable[[int, int, int], None] | None
    on_finished: Callable[[int], None] | None
    on_partial: Callable[[int, object], None] | None = None
    on_event: Callable[[int, object], None] | None = None
    after_cancel: bool = False

    def live(self) -> bool:
        return self.after_cancel or not self.token.cancelled


class _Job(QRunnable):
    def __init__(self, fn: TaskFn, ctx: WorkerContext, signals: JobSignals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.fn, self.ctx, self.signals = fn, ctx, signals

    def run(self) -> None:  # runs on a pool thread: emit only, touch no widget
        job_id = self.ctx.job_id
        try:
            value = self.fn(self.ctx)
            if self.ctx.delivers():
                self.signals.sig_result.emit(job_id, value)
        except Cancelled:
            pass
        except SkillStudioError as exc:
            self.signals.sig_error.emit(job_id, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug in a job must not kill the app
            log.error("background job failed:\n%s", traceback.format_exc())
            self.signals.sig_error.emit(job_id, f"{exc.__class__.__name__}: {exc}")
        finally:
            self.signals.sig_finished.emit(job_id)
            del self.fn  # let the job's captured data go on this thread


class WorkerPool(QObject):
    """Owns a thread pool, the live jobs' cancel tokens and callbacks."""

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._ids = itertools.count(1)
        self._live: dict[int, _Callbacks] = {}
        self._closed = False
        self._signals = JobSignals(self)
        self._signals.sig_result.connect(self._on_result)
        self._signals.sig_error.connect(self._on_error)
        self._signals.sig_progress.connect(self._on_progress)
        self._signals.sig_partial.connect(self._on_partial)
        self._signals.sig_event.connect(self._on_event)
        self._signals.sig_finished.connect(self._on_finished)

    def submit(self, fn: JobFn, *, on_result: Callable[[int, object], None] | None = None,
               on_error: Callable[[int, str], None] | None = None,
               on_progress: Callable[[int, int, int], None] | None = None,
               on_finished: Callable[[int], None] | None = None) -> tuple[int, CancelToken]:
        """Start `fn(token, progress)` in the background (the short form of `start`)."""
        return self.start(lambda ctx: fn(ctx.token, ctx.progress), on_result=on_result, on_error=on_error,
                          on_progress=on_progress, on_finished=on_finished)

    def start(self, fn: TaskFn, *, on_result: Callable[[int, object], None] | None = None,
              on_error: Callable[[int, str], None] | None = None,
              on_progress: Callable[[int, int, int], None] | None = None,
              on_partial: Callable[[int, object], None] | None = None,
              on_event: Callable[[int, object], None] | None = None,
              on_finished: Callable[[int], None] | None = None,
              after_cancel: bool = False) -> tuple[int, CancelToken]:
        """Start `fn(context)` in the background; the callbacks run in the GUI thread, each with the job id.

        `on_finished` always comes last, also after an error or a cancel. With `after_cancel`, the
        result, events and partial results still arrive after a cancel (a killed run's exit status).
        """
        if self._closed:
            raise RuntimeError("worker pool is shut down")
        job_id = next(self._ids)
        token = CancelToken()
        self._live[job_id] = _Callbacks(token, on_result, on_error, on_progress, on_finished, on_partial,
                                        on_event, after_cancel)
        self._pool.start(_Job(fn, WorkerContext(job_id, token, self._signals, after_cancel), self._signals))
        return job_id, token

    @Slot(int, object)
    def _on_result(self, job_id: int, value: object) -> None:
        cb = self._live.get(job_id)
        if cb is not None and cb.on_result is not None and cb.live():
            cb.on_result(job_id, value)

    @Slot(int, str)
    def _on_error(self, job_id: int, message: str) -> None:
        cb = self._live.get(job_id)
        if cb is not None and cb.on_error is not None:
            cb.on_error(job_id, message)

    @Slot(int, int, int)
    def _on_progress(self, job_id: int, done: int, total: int) -> None:
        cb = self._live.get(job_id)
        if cb is not None and cb.on_progress is not None and cb.live():
            cb.on_progress(job_id, done, total)

    @Slot(int, object)
    def _on_partial(self, job_id: int, value: object) -> None:
        cb = self._live.get(job_id)
        if cb is not None and cb.on_partial is not None and cb.live():
            cb.on_partial(job_id, value)

    @Slot(int, object)
    def _on_event(self, job_id: int, value: object) -> None:
        cb = self._live.get(job_id)
        if cb is not None and cb.on_event is not None and cb.live():
            cb.on_event(job_id, value)

    @Slot(int)
    def _on_finished(self, job_id: int) -> None:
        cb = self._live.pop(job_id, None)
        if cb is not None and cb.on_finished is not None:
            cb.on_finished(job_id)

    def cancel(self, job_id: int) -> None:
        cb = self._live.get(job_id)
        if cb is not None:
            cb.token.cancel()

    @property
    def busy(self) -> bool:
        return bool(self._live)

    def active_threads(self) -> int:
        """Pool threads running a job right now (0 after `shutdown`: nothing is left behind)."""
        return self._pool.activeThreadCount()

    def wait(self, msecs: int = -1) -> bool:
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        """Cancel everything and wait for the threads (called when the window closes)."""
        self._closed = True
        for cb in list(self._live.values()):
            cb.token.cancel()
        self._pool.clear()
        self._pool.waitForDone()
        self._live.clear()
