"""Background trigger-test runs for the UI: the job function around `services.trigger_runs.run_and_record`.

It runs as a `WorkerPool` job (ui.common.workers) and NEVER touches a widget: it only reports through
its `WorkerContext`. The panel starts it with `after_cancel=True`, because a cancelled run still
delivers its result: cancelling keeps every finished request (the runner returns them), and the
panel shows them with what was not run.

The service's JobContext throttles progress (at most ~20 signals a second, plus the last one), so the
offline estimator's thousands of results a second cannot flood the GUI thread's event queue, and
about twice a second sends a *partial* report — the finished requests summarised exactly as at the
end — so a long run fills the table as it goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skillstudio.ui.common.provider_form import ProviderChoice
from skillstudio.ui.common.workers import WorkerContext

if TYPE_CHECKING:
    from skillstudio.services.trigger_runs import TriggerReport


@dataclass
class SuiteJobResult:
    """What a finished (or cancelled) run hands to the GUI thread: the typed report and plain data."""

    report: TriggerReport | None = None
    requests_log: list[dict[str, Any]] = field(default_factory=list)
    saved_to: str | None = None  # the run id in the workspace's history
    save_error: str | None = None
    error: str | None = None  # the run could not start or stopped with a one-line reason


def run_suite(workspace: Path, choice: ProviderChoice, ctx: WorkerContext, *, save: bool = True,
              only: list[str] | None = None) -> SuiteJobResult:
    """Build the suite, run it, summarise and save it (pool thread). `only`: run these skills' cases
    (the whole catalog still competes). A run that cannot start raises `SkillStudioError`."""
    from skillstudio.services.trigger_runs import SuiteRunRequest, run_and_record
    from skillstudio.ui.common.provider_form import run_options, service_choice

    job = ctx.job_context()
    done = run_and_record(SuiteRunRequest(path=workspace, provider=service_choice(choice),
                                          options=run_options(choice), only=only, save=save), job)
    out = SuiteJobResult(report=done.report, requests_log=done.requests_log, saved_to=done.run_id)
    if done.fatal:
        out.error = f"stopped: {done.fatal} — check the API key, base URL and model"
    if done.save_error:
        out.save_error = done.save_error
    elif done.notices:  # e.g. a damaged history was moved aside: the user must hear it
        out.save_error = "Run history: " + "; ".join(done.notices)
    return out
