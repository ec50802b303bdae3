"""Background work for the UI: a QRunnable per job on a window-owned QThreadPool.

Rule (as in Anki): the function given to `WorkerPool.submit` runs on a pool thread and must NEVER touch
a widget; it gets a CancelToken and a `progress(done, total)` callback and returns a plain value.
Results come back through signals that live on a separate QObject (`JobSignals`), connected with
queued connections to `@Slot` methods of controllers in the GUI thread (never lambdas: PySide 6.8+
drops or crashes on cross-thread lambda slots). `shutdown()` cancels every job and waits for them, so
closing a window never leaves a thread running.
"""

from __future__ import annotations

import itertools
import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from skillstudio.cancel import CancelToken
from skillstudio.errors import Cancelled, SkillStudioError

log = logging.getLogger(__name__)

JobFn = Callable[[CancelToken, Callable[[int, int], None]], Any]


class JobSignals(QObject):
    """Signals of one job; created in the GUI thread so their receivers get queued calls."""

    sig_result = Signal(int, object)  # job id, value returned by the function
    sig_error = Signal(int, str)  # job id, one-line message for the user
    sig_progress = Signal(int, int, int)  # job id, done, total
    sig_finished = Signal(int)  # job id; always last, also after cancel or error


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


class WorkerPool(QObject):
    """Owns a thread pool and the live jobs' tokens and signal objects (kept alive until finished)."""

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._ids = itertools.count(1)
        self._live: dict[int, tuple[CancelToken, JobSignals]] = {}
        self._closed = False

    def submit(self, fn: JobFn, *, on_result: Callable[[int, object], None] | None = None,
               on_error: Callable[[int, str], None] | None = None,
               on_progress: Callable[[int, int, int], None] | None = None,
               on_finished: Callable[[int], None] | None = None) -> tuple[int, CancelToken]:
        """Start `fn` in the background; the callbacks must be @Slot methods of GUI-thread QObjects."""
        if self._closed:
            raise RuntimeError("worker pool is shut down")
        job_id = next(self._ids)
        token = CancelToken()
        signals = JobSignals()
        if on_result is not None:
            signals.sig_result.connect(on_result)
        if on_error is not None:
            signals.sig_error.connect(on_error)
        if on_progress is not None:
            signals.sig_progress.connect(on_progress)
        if on_finished is not None:
            signals.sig_finished.connect(on_finished)
        signals.sig_finished.connect(self._forget)
        self._live[job_id] = (token, signals)
        self._pool.start(_Job(job_id, fn, token, signals))
        return job_id, token

    @Slot(int)
    def _forget(self, job_id: int) -> None:
        self._live.pop(job_id, None)

    def cancel(self, job_id: int) -> None:
        entry = self._live.get(job_id)
        if entry:
            entry[0].cancel()

    @property
    def busy(self) -> bool:
        return bool(self._live)

    def wait(self, msecs: int = -1) -> bool:
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        """Cancel everything and wait for the threads (called when the window closes)."""
        self._closed = True
        for token, _ in list(self._live.values()):
            token.cancel()
        self._pool.clear()
        self._pool.waitForDone()
        self._live.clear()
