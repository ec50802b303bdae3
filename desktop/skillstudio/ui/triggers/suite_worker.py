"""Background trigger-test runs for the UI: a QRunnable around `services.trigger_runs.run_and_record`.

NEVER touch a widget from `SuiteJob.run` — it runs on a pool thread. It only emits signals that live
on `SuiteJobSignals` (a QObject created in the GUI thread), which the panel connects to @Slot methods.
Unlike `workers.WorkerPool`, a cancelled run still delivers its result: cancelling keeps every
finished request (the runner returns them), and the panel shows them with what was not run.

The service's JobContext throttles progress (at most ~20 signals a second, plus the last one), so the
offline estimator's thousands of results a second cannot flood the GUI thread's event queue, and
about twice a second sends a *partial* report — the finished requests summarised exactly as at the
end — so a long run fills the table as it goes.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.ui.common.provider_form import ProviderChoice

log = logging.getLogger(__name__)


@dataclass
class SuiteJobResult:
    """What a finished (or cancelled) run hands to the GUI thread: plain data only."""

    report: dict[str, Any] | None = None
    requests_log: list[dict[str, Any]] = field(default_factory=list)
    saved_to: str | None = None  # the run id in the workspace's history
    save_error: str | None = None
    error: str | None = None  # the run could not start or stopped with a one-line reason


class SuiteJobSignals(QObject):
    sig_progress = Signal(int, int, int)  # done, total, served from cache so far
    sig_partial = Signal(object)  # a report dict of the requests finished so far
    sig_done = Signal(object)  # SuiteJobResult; always emitted exactly once, last


class SuiteJob(QRunnable):
    """Build the suite, run it, summarise and save it — all off the GUI thread."""

    def __init__(self, workspace: Path, choice: ProviderChoice, token: CancelToken,
                 signals: SuiteJobSignals, *, save: bool = True, only: list[str] | None = None) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.workspace, self.choice, self.token, self.signals, self.save = workspace, choice, token, signals, save
        self.only = only  # run these skills' cases only (the whole catalog still competes)

    def run(self) -> None:  # pool thread: emit only, touch no widget
        result = SuiteJobResult()
        try:
            result = self._run()
        except SkillStudioError as exc:
            result.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug in a run must not kill the app
            log.error("trigger test run failed:\n%s", traceback.format_exc())
            result.error = f"unexpected {exc.__class__.__name__}: {exc}"
        finally:
            self.signals.sig_done.emit(result)

    def _run(self) -> SuiteJobResult:
        from skillstudio.services.context import JobContext
        from skillstudio.services.trigger_runs import SuiteRunRequest, run_and_record
        from skillstudio.ui.common.provider_form import run_options, service_choice

        c = self.choice
        ctx = JobContext(cancel=self.token, on_progress=self.signals.sig_progress.emit,
                         on_partial=lambda report: self.signals.sig_partial.emit(report.as_dict()))
        done = run_and_record(SuiteRunRequest(path=self.workspace, provider=service_choice(c), options=run_options(c),
                                              only=self.only, save=self.save), ctx)
        out = SuiteJobResult(report=done.report.as_dict(), requests_log=done.requests_log, saved_to=done.run_id)
        if done.fatal:
            out.error = f"stopped: {done.fatal} — check the API key, base URL and model"
        if done.save_error:
            out.save_error = done.save_error
        elif done.notices:  # e.g. a damaged history was moved aside: the user must hear it
            out.save_error = "Run history: " + "; ".join(done.notices)
        return out
