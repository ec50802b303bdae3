"""Background work for the UI: a QRunnable per job on a window-owned QThreadPool.

Rule (as in Anki): the function given to `WorkerPool.submit` runs on a pool thread and must NEVER touch
a widget; it gets a CancelToken and a `progress(done, total)` callback and returns a plain value.
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


class JobSignals(QObject):
    """The pool's channel from worker threads back to the GUI thread; every signal carries the job id."""

    sig_result = Signal(int, object)  # job id, value returned by the function
    sig_error = Signal(int, str)  # job id, one-line message for the user
    sig_progress = Signal(int, int, int)  # job id, done, total
    sig_finished = Signal(int)  # job id; always last, also after cancel or error


@dataclass
class _Callbacks:
    token: CancelToken
    on_result: Callable[[int, object], None] | None
    on_error: Callable[[int, str], None] | None
    on_progress: Callable[[int, int, int], None] | None
    on_finished: Callable[[int], None] | None


class _Job(QRunnable):
    def __init__(self, job_id: int, fn: JobFn, token: CancelToken, signals: JobSignals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.job_id, self.fn, self.token, self.signals = job_id, fn, token, signals

    def _progress(self, done: int, total: int) -> None:
        if not self.token.cancelled:
            self.signals.sig_progress.emit(self.job_id, done, total)

    def run(self) -> None:  # runs on a pool thread: emit only, touch no widget
        try:
            value = self.fn(self.token, self._progress)
            if not self.token.cancelled:
                self.signals.sig_result.emit(self.job_id, value)
        except Cancelled:
            pass
        except SkillStudioError as exc:
            self.signals.sig_error.emit(self.job_id, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug in a job must not kill the app
            log.error("background job failed:\n%s", traceback.format_exc())
            self.signals.sig_error.emit(self.job_id, f"{exc.__class__.__name__}: {exc}")
        finally:
            self.signals.sig_finished.emit(self.job_id)
            self.fn = None  # type: ignore[assignment]  # let the job's captured data go on this thread


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
        self._signals.sig_finished.connect(self._on_finished)

    def submit(self, fn: JobFn, *, on_result: Callable[[int, object], None] | None = None,
               on_error: Callable[[int, str], None] | None = None,
               on_progress: Callable[[int, int, int], None] | None = None,
               on_finished: Callable[[int], None] | None = None) -> tuple[int, CancelToken]:
        """Start `fn` in the background; the callbacks are called in the GUI thread, in that order."""
        if self._closed:
            raise RuntimeError("worker pool is shut down")
        job_id = next(self._ids)
        token = CancelToken()
        self._live[job_id] = _Callbacks(token, on_result, on_error, on_progress, on_finished)
        self._pool.start(_Job(job_id, fn, token, self._signals))
        return job_id, token

    @Slot(int, object)
    def _on_result(self, job_id: int, value: object) -> None:
        cb = self._live.get(job_id)
        if cb is not None and cb.on_result is not None and not cb.token.cancelled:
            cb.on_result(job_id, value)

    @Slot(int, str)
    def _on_error(self, job_id: int, message: str) -> None:
        cb = self._live.get(job_id)
        if cb is not None and cb.on_error is not None:
            cb.on_error(job_id, message)

    @Slot(int, int, int)
    def _on_progress(self, job_id: int, done: int, total: int) -> None:
        cb = self._live.get(job_id)
        if cb is not None and cb.on_progress is not None and not cb.token.cancelled:
            cb.on_progress(job_id, done, total)

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
