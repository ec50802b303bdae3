"""Run and record a trigger suite: the one workflow behind `skillstudio test` and the app's Test panel.

Build the suite, resolve the provider (never an estimate by accident), run it with progress, partial
results and cancellation, summarise it into a typed `TriggerReport`, compare it with a saved run if
asked, and save it in the workspace's history. A cancelled run still returns every finished request.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from skillstudio.errors import SkillStudioError
from skillstudio.services.context import JobContext
from skillstudio.services.providers import ProviderChoice, ProviderKind, build_router, resolve
from skillstudio.services.settings import RunOptions

if TYPE_CHECKING:
    from skillstudio.evals.routers import Router
    from skillstudio.evals.runner import RunOutcome, RunSettings, SuiteRun
    from skillstudio.evals.store import RunStore
    from skillstudio.evals.suite import Suite


class _Open(BaseModel):
    """Typed where the shells read; every other field of the report is kept as it came (extra=allow)."""

    model_config = ConfigDict(extra="allow")


class CaseResult(_Open):
    skill: str
    prompt: str
    expect: str
    why: str | None = None
    runs: int
    triggered: int
    trigger_rate: float | None
    passed: bool | None
    status: str  # pass | fail | error | not_run | explicit_only (a trigger case of an explicit-only skill)
    explicit_only: str | None = None  # why the skill is explicit-only (its author's declarations)
    selected: list[str | None]
    wilson_low: float | None = None
    wilson_high: float | None = None
    flaky: bool = False
    run_status: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    cached: int = 0
    # Read by the app; absent from runs saved before trajectories (schema 1), hence the defaults.
    other_skills: list[str] = Field(default_factory=list)
    first_commands: list[str | None] = Field(default_factory=list)
    categories: list[str | None] | None = None  # None: judged by the first-call rule (saved before trajectories)
    undecided: int = 0
    turns: list[int | None] = Field(default_factory=list)
    trajectories: list[list[dict[str, Any]]] = Field(default_factory=list)
    route_to: str | None = None  # a near-miss's destination
    misrouted: int | None = None  # runs that went elsewhere than `route_to`

    def run_labels(self) -> list[str]:
        """Each run's category in words, as the HTML report and the CLI say it."""
        from skillstudio.evals.reports import run_labels

        return run_labels({"categories": self.categories, "turns": self.turns, "selected": self.selected})


class Summary(_Open):
    cases: int
    passed: int
    failed: int
    errors: int = 0
    not_run: int = 0
    explicit_only: int = 0  # trigger cases of explicit-only skills: reported, not run, never a miss
    flaky: int = 0
    tp: int
    fp: int
    tn: int
    fn: int
    precision: float | None = None
    recall: float | None = None
    accuracy: float | None = None
    requests: int
    cached: int
    wall_s: float
    cancelled: bool = False
    fatal: str | None = None
    # Read by the app; optional so that older saved runs still load.
    retried: int = 0
    total: int = 0
    finished: int = 0
    not_run_requests: int = 0
    f1: float | None = None
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    ttft_p50_s: float | None = None
    ttft_p95_s: float | None = None
    decision_p50_s: float | None = None
    decision_p95_s: float | None = None
    categories: dict[str, int] = Field(default_factory=dict)
    undecided: int = 0
    turns_mean: float | None = None
    routed_cases: int = 0
    misrouted_runs: int = 0
    misrouted_cases: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usage_reported: int = 0
    usage_estimated: int = 0
    cost_usd: float | None = None
    cost_is_estimate: bool = False


class Confusion(_Open):
    """Expected (rows) × selected (labels) run counts."""

    labels: list[str]
    rows: list[str]
    matrix: list[list[int]]


class TriggerReport(_Open):
    """A summarised run: CONTRACT's `test --json` fields typed, the rest carried along."""

    model: str
    base_url: str | None
    runs: int
    threshold: float
    provider: str | None = None
    estimate: bool = False
    cases: list[CaseResult]
    summary: Summary
    compare: dict[str, Any] | None = None
    # Read by the app; optional so that older saved runs (and partial reports) still load.
    id: str | None = None  # the run's id in the history, once saved
    started_at: str | None = None
    verdict_rule: str | None = None  # the store fills in "first-call rule" for runs saved before trajectories
    max_turns: int | None = None
    label: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    skills: list[dict[str, Any]] = Field(default_factory=list)
    per_skill: dict[str, dict[str, Any]] = Field(default_factory=dict)
    confusion: Confusion | None = None
    warnings: list[str] = Field(default_factory=list)
    timings: dict[str, list[float]] = Field(default_factory=dict)
    explicit_only_skills: dict[str, list[str]] = Field(default_factory=dict)  # name -> why it is not offered

    @classmethod
    def from_run(cls, run: SuiteRun) -> TriggerReport:
        from skillstudio.evals import metrics

        return cls.model_validate(metrics.summarize(run))

    def as_dict(self) -> dict[str, Any]:
        """The plain report the renderers, the history and the JSON file take: every field it came with
        (extras too), none it did not (a default filled in for an old saved run is not written back)."""
        data = self.model_dump(mode="json", exclude_unset=True)
        if self.compare is None:
            data.pop("compare", None)
        return data

    @property
    def rule(self) -> str:
        """How the verdicts were observed: "first-call rule" for runs saved before trajectories."""
        from skillstudio.evals.reports import rule_of

        return rule_of({"verdict_rule": self.verdict_rule})

    def confusion_cells(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The cases behind each confusion-matrix cell (`evals.metrics.confusion_cells`, same rule)."""
        from skillstudio.evals.metrics import confusion_cells

        keys = {"skill", "expect", "route_to", "run_status", "selected"}
        return confusion_cells({"cases": [c.model_dump(include=keys) for c in self.cases]})

    @property
    def failing(self) -> bool:
        return bool(self.summary.failed or self.summary.errors)


class TriggerRunResult(BaseModel):
    """What a run hands back to a shell: the report plus what happened around it."""

    report: TriggerReport
    requests_log: list[dict[str, Any]] = Field(default_factory=list)
    run_id: str | None = None  # the run's id in the workspace history, when saved
    save_error: str | None = None
    notices: list[str] = Field(default_factory=list)  # what the history had to do (repairs, migrations)
    warnings: list[str] = Field(default_factory=list)  # suite warnings (skipped skills, …)
    found: str = ""  # the catalog: how many skills were found where (and which are explicit-only)
    fatal: str | None = None  # the run stopped early for a reason no retry fixes (bad key, bad model)
    cancelled: bool = False
    not_run: int = 0
    total: int = 0


class SuiteRunRequest(BaseModel):
    """Everything a shell decides about one run; `only` keeps those skills' cases (all still compete)."""

    model_config = ConfigDict(frozen=True)

    path: Path
    provider: ProviderChoice = Field(default_factory=ProviderChoice)
    options: RunOptions = Field(default_factory=RunOptions)
    only: list[str] | None = None
    save: bool = True
    compare: str | None = None  # 'previous'/'latest', a run id or a run file
    batch_poll_s: float | None = None  # send the suite as one Batch API job (Responses only)


def load_suite(path: Path, only: list[str] | None = None) -> Suite:
    from skillstudio.evals.suite import build_suite

    suite = build_suite(path)
    if not only:
        return suite
    unknown = sorted(set(only) - set(suite.skill_names))
    if unknown:
        raise SkillStudioError(
            f"no skill named {', '.join(unknown)} in this workspace",
            "reload the workspace and pick the skill again",
        )
    suite = suite.only(only)
    if not suite.cases and not suite.explicit_only:
        raise SkillStudioError(
            f"{', '.join(only)} has no trigger cases",
            "add cases in evals/triggers.yaml (or save some from Try a prompt)",
        )
    return suite


def open_history(suite_or_state: Suite | Path) -> RunStore:
    """The workspace's run history, opened (and repaired or migrated if needed) now, not mid-run."""
    from skillstudio.evals.store import RunStore

    state = suite_or_state if isinstance(suite_or_state, Path) else suite_or_state.state_dir
    store = RunStore(state)
    store.list()
    return store


class SavedRun(BaseModel):
    """A run read back from the history: its typed report and its per-request log (timings)."""

    report: TriggerReport
    requests_log: list[dict[str, Any]] = Field(default_factory=list)


def load_saved(store: RunStore, ref: str | Path, *, with_requests: bool = True) -> SavedRun:
    """A saved run (an id, `latest`/`previous`, or an exported run file) as a typed report.

    The one place where the history's dictionaries, of every schema (runs saved before trajectories
    included, labelled "first-call rule" by the store), become a `TriggerReport`; a run that does not
    fit is a `SkillStudioError`, not a crash in a view."""
    data = store.load(ref, with_requests=with_requests)
    log = data.pop("requests_log", None) or []
    try:
        report = TriggerReport.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SkillStudioError(
            f"cannot read saved run {ref}: {where}: {first['msg']}",
            "this run was written by another program or damaged; run the suite again",
        ) from None
    return SavedRun(report=report, requests_log=log)


def _baseline(store: RunStore, ref: str) -> dict[str, Any]:
    if ref in ("previous", "latest"):
        if not store.list():
            raise SkillStudioError(
                "there is no saved run to compare with yet", "run the suite once with saving on first"
            )
        ref = "latest"
    return store.load(ref)


class _Mirror:
    """The outcomes seen so far, summarised on the runner's thread for partial reports."""

    def __init__(self, run: SuiteRun) -> None:
        self.run = run

    def add(self, outcome: RunOutcome, cached: int) -> TriggerReport:
        self.run.outcomes[(outcome.case, outcome.run)] = outcome
        self.run.cached = cached
        self.run.requests = len(self.run.outcomes) - cached
        return TriggerReport.from_run(self.run)


def run_and_record(request: SuiteRunRequest, context: JobContext | None = None) -> TriggerRunResult:
    """Run a suite, summarise it, compare and save it. Raises SkillStudioError before anything runs
    when the input or the provider is wrong; afterwards, trouble is reported in the result."""
    from skillstudio.evals.cache import ResultCache
    from skillstudio.evals.runner import SuiteRun, run_suite_sync

    ctx = context or JobContext()
    settings = request.options.run_settings()
    suite = load_suite(request.path, request.only)
    resolved = resolve(request.provider)  # a missing key fails here, in one line, before any work
    if suite.found:
        ctx.message(suite.found)  # "PATH: N skills in M folders: …", as validate says it
    if request.batch_poll_s is not None and resolved.kind != ProviderKind.RESPONSES:
        raise SkillStudioError(
            "a batch needs the Responses provider", "choose a model provider, or run without batch"
        )
    store = open_history(suite) if (request.save or request.compare) else None
    baseline = _baseline(store, request.compare) if (store is not None and request.compare) else None
    router = build_router(resolved)
    cache = None if router.is_estimate else ResultCache(suite.state_dir / "cache")
    total = len(suite.cases) * settings.runs
    mirror = None
    if ctx.on_partial is not None and not router.is_estimate:
        # the estimator finishes in moments: partial tables would only cost it time
        mirror = _Mirror(
            SuiteRun(suite, router.kind, router.model, router.base_url, router.is_estimate, settings)
        )
    cached = 0

    def on_progress(done: int, total_: int, outcome: RunOutcome) -> None:
        nonlocal cached
        cached += 1 if outcome.cached else 0
        ctx.progress(done, total_, cached)
        if mirror is not None and done < total_ and ctx.partial_due():
            ctx.partial(mirror.add(outcome, cached))
        elif mirror is not None:
            mirror.run.outcomes[(outcome.case, outcome.run)] = outcome

    ctx.progress(0, total, 0)
    if request.batch_poll_s is not None:
        run = _run_batch(suite, router, settings, ctx, on_progress, cache, request.batch_poll_s)
    else:
        run = run_suite_sync(suite, router, settings, cancel=ctx.cancel, progress=on_progress, cache=cache)
    result = record(run, store if request.save else None, baseline)
    if store is not None and not request.save:
        result.notices += _take_notices(store)
    return result


def record(run: SuiteRun, store: RunStore | None, baseline: dict[str, Any] | None = None) -> TriggerRunResult:
    """Summarise a finished (or cancelled) run, compare it, and save it when `store` is given."""
    from skillstudio.evals import metrics
    from skillstudio.evals.store import request_log

    report = TriggerReport.from_run(run)
    if baseline is not None:
        report.compare = {"baseline": baseline.get("id"), **metrics.compare(baseline, report.as_dict())}
    out = TriggerRunResult(
        report=report,
        requests_log=request_log(run),
        fatal=run.fatal,
        cancelled=run.cancelled,
        not_run=len(run.not_run),
        total=run.total,
        warnings=list(run.suite.warnings),
        found=run.suite.found,
    )
    if store is not None and run.outcomes:
        out.notices += _take_notices(store)
        try:
            out.run_id = store.save(report.as_dict(), run)
        except OSError as exc:
            out.save_error = f"run not saved to history ({exc.strerror or exc})"
        except SkillStudioError as exc:
            out.save_error = f"run not saved to history ({exc.message})"
        out.notices += _take_notices(store)
    return out


def _take_notices(store: RunStore) -> list[str]:
    taken = list(store.notices)
    store.notices.clear()
    return taken


def _run_batch(
    suite: Suite,
    router: Router,
    settings: RunSettings,
    ctx: JobContext,
    on_progress: Any,
    cache: Any,
    poll_s: float,
) -> SuiteRun:
    from skillstudio.evals.batch import run_batch_sync
    from skillstudio.evals.routers.responses import ResponsesRouter

    assert isinstance(router, ResponsesRouter)
    return run_batch_sync(suite, model=router.model, api_key=router.api_key, base_url=router.base_url,
                          settings=settings, cancel=ctx.cancel, progress=on_progress, cache=cache, poll_s=poll_s,
                          on_status=ctx.message)
