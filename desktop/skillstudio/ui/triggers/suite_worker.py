"""Background trigger-test runs for the UI: a QRunnable around `evals.runner.run_suite_sync`.

NEVER touch a widget from `SuiteJob.run` — it runs on a pool thread. It only emits signals that live
on `SuiteJobSignals` (a QObject created in the GUI thread), which the panel connects to @Slot methods.
Unlike `workers.WorkerPool`, a cancelled run still delivers its result: cancelling keeps every
finished request (the runner returns them), and the panel shows them with what was not run.

Progress is throttled (at most ~20 signals a second, plus the last one), so the offline estimator's
thousands of results a second cannot flood the GUI thread's event queue. About twice a second the
job also sends a *partial* report — the finished requests summarised exactly as at the end — so a
long run fills the table as it goes. It is built from the outcomes the runner hands to the
progress callback, on the runner's own thread, so nothing is read while it changes.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Signal

from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.ui.common.provider_form import ProviderChoice, build_router

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.05
PARTIAL_INTERVAL_S = 0.5


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
        self._last_emit = 0.0
        self._last_partial = 0.0
        self._cached = 0
        self._mirror: Any = None  # a SuiteRun holding the outcomes seen so far

    def _progress(self, done: int, total: int, outcome: Any) -> None:
        if outcome.cached:
            self._cached += 1
        now = time.monotonic()
        if done == total or now - self._last_emit >= PROGRESS_INTERVAL_S:
            self._last_emit = now
            self.signals.sig_progress.emit(done, total, self._cached)
        if self._mirror is None:
            return
        self._mirror.outcomes[(outcome.case, outcome.run)] = outcome
        if done < total and now - self._last_partial >= PARTIAL_INTERVAL_S and not self.token.cancelled:
            from skillstudio.evals import metrics

            self._last_partial = now
            self._mirror.cached = self._cached
            self._mirror.requests = len(self._mirror.outcomes) - self._cached
            self.signals.sig_partial.emit(metrics.summarize(self._mirror))

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
        from skillstudio.evals import metrics
        from skillstudio.evals.cache import ResultCache
        from skillstudio.evals.runner import RunSettings, SuiteRun, run_suite_sync
        from skillstudio.evals.store import RunStore, request_log
        from skillstudio.evals.suite import build_suite

        c = self.choice
        settings = RunSettings(runs=c.runs, concurrency=c.concurrency, threshold=c.threshold,
                               timeout_s=c.timeout_s, use_cache=c.use_cache)
        settings.check()
        suite = build_suite(self.workspace)
        if self.only:
            unknown = sorted(set(self.only) - {e.name for e in suite.catalog})
            if unknown:
                raise SkillStudioError(f"no skill named {', '.join(unknown)} in this workspace",
                                       "reload the workspace and pick the skill again")
            suite = suite.only(self.only)
            if not suite.cases:
                raise SkillStudioError(f"{', '.join(self.only)} has no trigger cases",
                                       "add cases in evals/triggers.yaml (or save some from Try a prompt)")
        router = build_router(c)
        cache = None if router.is_estimate else ResultCache(suite.state_dir / "cache")
        if not router.is_estimate:  # the estimator finishes in moments and keeps the GIL busy meanwhile:
            # a live table would only make the GUI thread wait for the GIL on every row it draws
            self._mirror = SuiteRun(suite, router.kind, router.model, router.base_url, router.is_estimate,
                                    settings)
        self._last_partial = time.monotonic()
        self.signals.sig_progress.emit(0, len(suite.cases) * settings.runs, 0)
        run = run_suite_sync(suite, router, settings, cancel=self.token, progress=self._progress, cache=cache)
        report = metrics.summarize(run)
        out = SuiteJobResult(report=report, requests_log=request_log(run))
        if run.fatal:
            out.error = f"stopped: {run.fatal} — check the API key, base URL and model"
        if self.save and run.outcomes:
            store = RunStore(suite.state_dir)
            try:
                out.saved_to = store.save(report, run)
                if store.notices:  # e.g. a damaged history was moved aside: the user must hear it
                    out.save_error = "Run history: " + "; ".join(store.notices)
            except OSError as exc:
                out.save_error = f"run not saved to history ({exc.strerror or exc})"
            except SkillStudioError as exc:
                out.save_error = f"run not saved to history ({exc.message})"
        return out
