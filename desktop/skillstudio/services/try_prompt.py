"""Try one prompt against the whole catalog: which skill would the model read, and why.

Decided once: a try is forgiving. It needs no trigger cases, and a skill that cannot be offered (no
readable SKILL.md, no description, a duplicate name) is left out and named in `skipped` instead of
blocking the try — the Test run is where a broken workspace stops you. Both shells behave so.
An explicit-only skill is left out the same way (the catalog rule of the Test run: only skills
that allow implicit invocation are offered), so a try shows what a real host would offer.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from skillstudio.errors import SkillStudioError
from skillstudio.services.context import JobContext
from skillstudio.services.providers import ProviderChoice, build_router, resolve

if TYPE_CHECKING:
    from skillstudio.evals.suite import Suite


class TryOutcome(BaseModel):
    prompt: str
    estimate: bool = False
    model: str = ""  # "offline estimate", or "MODEL (provider)"
    selected: str | None = None
    first_command: str | None = None
    scores: list[tuple[str, float]] = Field(default_factory=list)  # offline: every skill's score, best first
    min_score: float = 0.0
    ttft_s: float | None = None
    latency_s: float | None = None
    usage: dict[str, int] | None = None
    events: list[str] = Field(default_factory=list)
    skills: list[str] = Field(default_factory=list)  # the catalog offered
    skipped: list[str] = Field(default_factory=list)  # "name: why" for skills left out of the catalog
    route: dict[str, Any] = Field(default_factory=dict)  # the router's whole result, for --json
    cancelled: bool = False


def catalog_for_try(workspace: Path) -> tuple[Suite, list[str]]:
    """The catalog (and the cases: the estimator's counter-evidence), leaving out what cannot be offered."""
    from skillstudio.bundle.invocation import explicit_only_reasons
    from skillstudio.bundle.workspace import load_workspace
    from skillstudio.evals.suite import SKILLS_ROOT, CatalogEntry, Suite, SuiteCase

    if not workspace.exists():
        raise SkillStudioError(f"{workspace}: no such folder", "give a skill folder or a workspace of skills")
    from skillstudio.bundle.workspace import is_skill_dir
    from skillstudio.evals.suite import workspace_of

    if is_skill_dir(workspace):  # one skill competes with its workspace's catalog, as in a Test run
        workspace = workspace_of(workspace) or workspace
    ws = load_workspace(workspace, with_files=False)
    catalog: list[CatalogEntry] = []
    cases: list[SuiteCase] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for skill in ws.skills:
        why = (
            skill.parse_error
            or ("no description" if not skill.description else None)
            or ("name used twice" if skill.name in seen else None)
        )
        if why:
            skipped.append(f"{skill.path.name}: {why}")
            continue
        seen.add(skill.name)
        explicit = explicit_only_reasons(skill)
        if explicit:
            skipped.append(f"{skill.path.name}: explicit-only ({'; '.join(explicit)}), never picked by a model")
            continue
        catalog.append(
            CatalogEntry(skill.name, skill.description, f"{SKILLS_ROOT}/{skill.name}", skill.version)
        )
        if not skill.cases_error:
            cases += [SuiteCase(len(cases), skill.name, c.prompt, c.expect, c.why) for c in skill.cases]
    if not catalog:
        raise SkillStudioError(
            f"{workspace}: no skill a model may pick (a readable SKILL.md, a description, not explicit-only)",
            "fix the skills (validation says why)",
        )
    root = ws.root if ws.root.is_dir() else ws.root.parent
    return Suite(root, catalog, cases), skipped


def try_prompt(
    workspace: Path, prompt: str, provider: ProviderChoice, context: JobContext | None = None
) -> TryOutcome:
    """One prompt, one attempt, no cache; `context.cancel` abandons the request at once."""
    from skillstudio.evals.routers.offline import LABEL, OfflineRouter
    from skillstudio.evals.runner import try_prompt as route_once

    ctx = context or JobContext()
    if not prompt.strip():
        raise SkillStudioError("the prompt is empty", "type what a user would ask")
    suite, skipped = catalog_for_try(workspace)
    resolved = resolve(provider)
    router = build_router(resolved)
    out = TryOutcome(
        prompt=prompt,
        estimate=router.is_estimate,
        skills=[e.name for e in suite.catalog],
        skipped=skipped,
        model=LABEL if router.is_estimate else f"{router.model} ({router.kind})",
    )
    if isinstance(router, OfflineRouter):  # the estimator can say why: every skill's score
        router.prepare(suite)
        out.scores = sorted(router.scores(prompt).items(), key=lambda kv: -kv[1])
        out.min_score = router.min_score

    async def go() -> Any:
        task = asyncio.ensure_future(route_once(suite, router, prompt, timeout_s=resolved.timeout_s))
        try:
            while not task.done():
                if ctx.cancelled:
                    return None
                await asyncio.wait({task}, timeout=0.05)
            return task.result()
        finally:
            if not task.done():
                task.cancel()  # closes the request; the core's try_prompt still closes the router
            await asyncio.gather(task, return_exceptions=True)

    routed = asyncio.run(go())
    if routed is None:
        out.cancelled = True
        return out
    out.selected, out.first_command = routed.selected, routed.first_command
    out.ttft_s, out.latency_s, out.usage = routed.ttft_s, routed.latency_s, routed.usage
    out.events = list(routed.raw_events_summary)
    out.route = routed.to_json()
    return out
