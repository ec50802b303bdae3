"""Optimize a skill's description and record the before/after runs: one workflow for both shells.

Decided once:
- the "before" run (the whole suite with the current description) is always saved: it is a real
  measurement of what is on disk, and mostly served from the cache the scoring filled; the "after"
  run is saved only when a proposal won on the validation cases;
- both shells can cancel (`context.cancel`); a cancelled optimization saves nothing and changes nothing;
- nothing is written to SKILL.md here unless the caller asks (`write_description`): the app lands the
  edit in its editor as one undo step, the CLI writes it with --apply.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from skillstudio.errors import Cancelled, SkillStudioError
from skillstudio.openai_defaults import DEFAULT_MODEL, api_key
from skillstudio.services.context import JobContext
from skillstudio.services.providers import NO_KEY_NEEDED, ProviderChoice, build_router, resolve
from skillstudio.services.settings import InvalidSetting, RunOptions

if TYPE_CHECKING:
    from skillstudio.evals.optimizer import OptimizeResult


class ProposerChoice(BaseModel):
    """The model that writes proposals (over /chat/completions): an estimator cannot write a description."""

    model_config = ConfigDict(frozen=True)

    base_url: str | None = None
    model: str = DEFAULT_MODEL
    timeout_s: float = 120.0


class OptimizeRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    workspace: Path
    skill: str
    provider: ProviderChoice = Field(default_factory=ProviderChoice)  # scores the candidates
    proposer: ProposerChoice = Field(default_factory=ProposerChoice)
    options: RunOptions = Field(default_factory=RunOptions)
    iterations: int = 3
    seed: int = 0
    save: bool = True


class OptimizeOutcome(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    skill_md: Path
    original_text: str
    result: Any = None  # evals.optimizer.OptimizeResult (None when cancelled)
    saved_runs: list[str] = Field(default_factory=list)  # run ids: before, then after when improved
    save_error: str | None = None
    cancelled: bool = False

    @property
    def improved(self) -> bool:
        return self.result is not None and bool(self.result.improved)


def optimize_and_record(
    request: OptimizeRequest, context: JobContext | None = None, on_candidate: Any = None
) -> OptimizeOutcome:
    """Propose descriptions from the training failures only, keep the best by validation score,
    and save the before (and, if better, after) run of the whole suite."""
    from skillstudio.bundle.workspace import load_workspace
    from skillstudio.evals.cache import ResultCache
    from skillstudio.evals.optimizer import ChatProposer, optimize
    from skillstudio.evals.suite import build_suite

    ctx = context or JobContext()
    settings = request.options.run_settings()
    if request.iterations < 1:
        raise InvalidSetting("iterations", "Iterations must be at least 1", "how many proposals to try")
    key = api_key()
    proposer_url = (request.proposer.base_url or "").strip() or None
    if not key and not proposer_url:
        raise SkillStudioError(
            "the optimizer needs a model to propose descriptions: no OpenAI API key and no base URL",
            "set OPENAI_API_KEY or store a key in the app's settings, or give the base URL of "
            "an OpenAI-compatible server",
        )
    suite = build_suite(request.workspace)
    skill = load_workspace(request.workspace, with_files=False).skill(request.skill)
    if request.skill in suite.explicit_only_skills:
        raise SkillStudioError(
            f"{request.skill} is explicit-only ({'; '.join(suite.explicit_only_skills[request.skill])}): "
            "no model picks it by itself, so there is no description to tune for triggering",
            "drop that declaration first if the skill should trigger on its own",
        )
    if skill is None or skill.skill_md is None or not any(e.name == request.skill for e in suite.catalog):
        raise SkillStudioError(
            f"no skill named {request.skill!r} in this workspace", "check the name: field of its SKILL.md"
        )
    resolved = resolve(request.provider)  # fails early, in one line, on a bad provider setting
    cache = None if resolved.is_estimate else ResultCache(suite.state_dir / "cache")
    proposer = ChatProposer(
        model=request.proposer.model,
        api_key=key or NO_KEY_NEEDED,
        base_url=proposer_url,
        timeout=request.proposer.timeout_s,
    )
    out = OptimizeOutcome(skill_md=skill.skill_md, original_text=skill.text)
    try:
        result: OptimizeResult = optimize(
            suite,
            request.skill,
            skill.text,
            proposer=proposer,
            make_router=lambda: build_router(resolved),
            settings=settings,
            iterations=request.iterations,
            seed=request.seed,
            cache=cache,
            progress=ctx.message,
            cancel=ctx.cancel,
            on_candidate=on_candidate,
        )
    except Cancelled:
        out.cancelled = True
        return out
    out.result = result
    if request.save:
        _record(out, suite, resolved, settings, cache, ctx)
    return out


def _record(
    out: OptimizeOutcome, suite: Any, resolved: Any, settings: Any, cache: Any, ctx: JobContext
) -> None:
    from skillstudio.evals.runner import run_suite_sync
    from skillstudio.evals.suite import Suite
    from skillstudio.services.trigger_runs import TriggerReport, open_history

    result = out.result
    ctx.message("saving the before/after runs to the history")
    store = open_history(suite)
    for desc in [result.original] + ([result.best.description] if result.improved else []):
        variant = Suite(
            suite.root,
            [replace(e, description=desc) if e.name == result.skill else e for e in suite.catalog],
            suite.cases,
            [],
        )
        run = run_suite_sync(variant, build_router(resolved), settings, cancel=ctx.cancel, cache=cache)
        if run.cancelled:
            out.save_error = "cancelled before the before/after runs were complete: not saved"
            out.cancelled = True
            return
        try:
            out.saved_runs.append(store.save(TriggerReport.from_run(run).as_dict(), run))
        except OSError as exc:
            out.save_error = f"run not saved to history ({exc.strerror or exc})"
        except SkillStudioError as exc:
            out.save_error = f"run not saved to history ({exc.message})"


def write_description(outcome: OptimizeOutcome) -> Path:
    """Write the winning SKILL.md atomically; refuses when nothing improved or the file changed since."""
    from skillstudio.bundle.fileio import atomic_write, read_text_file

    if not outcome.improved or outcome.result.new_text is None:
        raise SkillStudioError("nothing to write: the current description stays")
    if read_text_file(outcome.skill_md) != outcome.original_text:
        raise SkillStudioError(
            f"{outcome.skill_md} changed while the optimizer ran", "run the optimizer again"
        )
    atomic_write(outcome.skill_md, outcome.result.new_text)
    return outcome.skill_md
