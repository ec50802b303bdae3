"""Description optimizer: propose better descriptions for one skill without overfitting its cases.

Discipline (why this can be trusted):
- a fixed, seeded, stratified split of the skill's cases: 60 % train, 40 % validation, per
  expectation (trigger / no_trigger), the same split for the same cases and seed every time;
- the proposing model sees the current description, the other skills' names and descriptions and
  the *training* failures only — never a validation prompt or a validation score;
- candidates are scored on both halves with the normal runner (whole catalog, same router, same
  cache); the best one by *validation* score wins, the original stays if nothing beats it;
- a description over 1,024 characters (the Agent Skills limit) is never accepted.
The result is a unified diff of SKILL.md for the user to accept or reject, plus near-miss negative
cases the model suggests from the failures.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from skillstudio.bundle import skillmd
from skillstudio.cancel import CancelToken
from skillstudio.errors import Cancelled, SkillStudioError
from skillstudio.evals import metrics
from skillstudio.evals.routers import Router
from skillstudio.evals.runner import RunSettings, run_suite_sync
from skillstudio.evals.suite import Suite, SuiteCase

MAX_DESCRIPTION = 1024


def split_cases(cases: list[SuiteCase], *, seed: int = 0, train_fraction: float = 0.6
                ) -> tuple[list[SuiteCase], list[SuiteCase]]:
    """Stratified by `expect`, ordered by a seeded hash of the prompt (not by file order), so adding
    a case moves few others between halves. Each stratum with 2+ cases puts at least one in each half."""
    train: list[SuiteCase] = []
    val: list[SuiteCase] = []
    for expect in ("trigger", "no_trigger"):
        group = sorted((c for c in cases if c.expect == expect),
                       key=lambda c: hashlib.sha256(f"{seed}\0{c.prompt}".encode()).hexdigest())
        n_train = round(len(group) * train_fraction)
        if len(group) >= 2:
            n_train = min(max(n_train, 1), len(group) - 1)
        train += group[:n_train]
        val += group[n_train:]
    key = lambda c: c.index  # noqa: E731 - keep suite order inside each half
    return sorted(train, key=key), sorted(val, key=key)


@dataclass
class Failure:
    prompt: str
    expect: str
    selected: list[str | None]


@dataclass
class Proposal:
    description: str
    negative_suggestions: list[str] = field(default_factory=list)


class Proposer(Protocol):
    async def propose(self, skill: str, description: str, others: list[tuple[str, str]],
                      failures: list[Failure], tried: list[str]) -> Proposal: ...

    async def aclose(self) -> None: ...


@dataclass
class Candidate:
    iteration: int
    description: str
    train_score: float | None
    val_score: float | None
    note: str = ""


@dataclass
class OptimizeResult:
    skill: str
    original: str
    best: Candidate
    candidates: list[Candidate]
    train_prompts: list[str]
    val_prompts: list[str]
    negative_suggestions: list[str]
    diff: str  # unified diff of SKILL.md; empty when the original stays
    new_text: str | None  # SKILL.md with the best description, None when unchanged

    @property
    def improved(self) -> bool:
        return self.new_text is not None


def _with_description(suite: Suite, skill: str, description: str, cases: list[SuiteCase]) -> Suite:
    catalog = [replace(e, description=description) if e.name == skill else e for e in suite.catalog]
    return Suite(suite.root, catalog, cases, [])


def _score(suite: Suite, make_router: Callable[[], Router], settings: RunSettings,
           cache: Any, cancel: CancelToken | None = None) -> tuple[float | None, list[Failure]]:
    if cancel is not None:
        cancel.raise_if_cancelled()
    run = run_suite_sync(suite, make_router(), settings, cache=cache, cancel=cancel)
    if run.cancelled or (cancel is not None and cancel.cancelled):
        raise Cancelled()  # a partial score would compare unequal halves: drop it
    if run.fatal:
        raise SkillStudioError(f"stopped: {run.fatal}", "check the API key, base URL and model")
    report = metrics.summarize(run)
    failures = [Failure(c["prompt"], c["expect"], c["selected"]) for c in report["cases"] if c["status"] == "fail"]
    return report["summary"]["accuracy"], failures


def optimize(suite: Suite, skill: str, skill_md_text: str, *, proposer: Proposer,
             make_router: Callable[[], Router], settings: RunSettings | None = None, iterations: int = 3,
             seed: int = 0, cache: Any = None, run_async: Callable[[Any], Any] | None = None,
             progress: Callable[[str], None] | None = None, cancel: CancelToken | None = None,
             on_candidate: Callable[[Candidate], None] | None = None) -> OptimizeResult:
    """Run the loop for `skill`. `make_router` gives a fresh router per scoring run (it is closed after).
    `cancel` stops it between (and inside) scoring runs by raising `Cancelled`; `on_candidate` hears
    each candidate as soon as it is scored or rejected (the app shows them live)."""
    import asyncio

    entry = next((e for e in suite.catalog if e.name == skill), None)
    if entry is None:
        raise SkillStudioError(f"no skill named {skill!r} in this workspace")
    own = [c for c in suite.cases if c.skill == skill]
    if sum(c.expect == "trigger" for c in own) < 2 or sum(c.expect == "no_trigger" for c in own) < 2:
        raise SkillStudioError(f"{skill}: the optimizer needs at least 2 trigger and 2 no_trigger cases",
                               "add cases to evals/triggers.yaml (negative ones matter most)")
    settings = settings or RunSettings()
    run_async = run_async or asyncio.run
    say = progress or (lambda _m: None)
    train, val = split_cases(own, seed=seed)
    others = [(e.name, e.description) for e in suite.catalog if e.name != skill]

    def evaluate(description: str) -> tuple[float | None, float | None, list[Failure]]:
        tr, failures = _score(_with_description(suite, skill, description, train), make_router, settings, cache,
                              cancel)
        va, _ = _score(_with_description(suite, skill, description, val), make_router, settings, cache, cancel)
        return tr, va, failures  # only the training failures ever leave this function

    say("scoring the current description")
    tr, va, failures = evaluate(entry.description)
    original = Candidate(0, entry.description, tr, va, "original")
    heard = on_candidate or (lambda _c: None)
    heard(original)
    candidates = [original]
    best = original
    suggestions: list[str] = []
    tried = [entry.description]
    try:
        for it in range(1, iterations + 1):
            if not failures:
                say("no training failures left")
                break
            if cancel is not None:
                cancel.raise_if_cancelled()
            say(f"iteration {it}: asking for a new description")
            proposal: Proposal = run_async(proposer.propose(skill, best.description, others, failures, tried))
            desc = " ".join(proposal.description.split())
            for s in proposal.negative_suggestions:
                if s not in suggestions and s not in {c.prompt for c in own}:
                    suggestions.append(s)
            if not desc or desc in tried:
                candidates.append(Candidate(it, desc, None, None, "rejected: empty or already tried"))
                heard(candidates[-1])
                continue
            tried.append(desc)
            if len(desc) > MAX_DESCRIPTION or "<" in desc or ">" in desc:
                why = f"over {MAX_DESCRIPTION} characters" if len(desc) > MAX_DESCRIPTION else "contains < or >"
                candidates.append(Candidate(it, desc, None, None, f"rejected: {why}"))
                heard(candidates[-1])
                continue
            say(f"iteration {it}: scoring the proposal")
            tr, va, new_failures = evaluate(desc)
            cand = Candidate(it, desc, tr, va)
            candidates.append(cand)
            heard(cand)
            if (va or 0.0) > (best.val_score or 0.0):
                best, failures = cand, new_failures
    finally:
        run_async(proposer.aclose())
    new_text = None
    diff = ""
    if best is not original:
        new_text = skillmd.set_field(skill_md_text, "description", best.description)
        diff = "".join(difflib.unified_diff(skill_md_text.splitlines(keepends=True), new_text.splitlines(keepends=True),
                                            "SKILL.md (current)", "SKILL.md (proposed)"))
    return OptimizeResult(skill, entry.description, best, candidates, [c.prompt for c in train],
                          [c.prompt for c in val], suggestions, diff, new_text)


PROPOSER_SYSTEM = (
    "You improve the description of an agent skill. An agent sees only each skill's name and "
    "description and decides from them whether to load the skill. Write a description that says what "
    "the skill does and when to use it, and names the nearby tasks it must NOT be used for (pointing to "
    "the skill that handles them). At most 1024 characters, no '<' or '>'. Reply with JSON only: "
    '{"description": "...", "negative_suggestions": ["a realistic prompt that looks close but must not '
    'trigger this skill", ...]}'
)


def proposer_prompt(skill: str, description: str, others: list[tuple[str, str]], failures: list[Failure],
                    tried: list[str]) -> str:
    lines = [f"Skill: {skill}", f"Current description: {description}", "", "Other skills in the catalog:"]
    lines += [f"- {n}: {d}" for n, d in others]
    lines += ["", "Training cases it currently gets wrong:"]
    for f in failures:
        picked = ", ".join(s or "none" for s in f.selected)
        want = "SHOULD trigger" if f.expect == "trigger" else "should NOT trigger"
        lines.append(f"- {want}: {f.prompt!r} (selected per run: {picked})")
    if len(tried) > 1:
        lines += ["", "Descriptions already tried (do not repeat):"] + [f"- {t}" for t in tried[1:]]
    return "\n".join(lines)


def parse_proposal(text: str) -> Proposal:
    match = re.search(r"\{.*\}", text, flags=re.S)
    if match:
        try:
            data = json.loads(match.group(0))
            if isinstance(data, dict) and isinstance(data.get("description"), str):
                sugg = [str(s) for s in data.get("negative_suggestions") or [] if isinstance(s, str | int)]
                return Proposal(data["description"].strip(), sugg)
        except json.JSONDecodeError:
            pass
    return Proposal(text.strip().strip('"'))


class ChatProposer:
    """Asks any OpenAI-compatible `/chat/completions` endpoint (OpenAI, Ollama, vLLM) for a proposal."""

    def __init__(self, *, model: str, api_key: str, base_url: str | None = None, timeout: float = 120.0) -> None:
        self.model = model
        self._client_args = {"api_key": api_key, "base_url": base_url, "max_retries": 2, "timeout": timeout}

    async def propose(self, skill: str, description: str, others: list[tuple[str, str]],
                      failures: list[Failure], tried: list[str]) -> Proposal:
        import openai

        body = {"model": self.model, "messages": [
            {"role": "system", "content": PROPOSER_SYSTEM},
            {"role": "user", "content": proposer_prompt(skill, description, others, failures, tried)}]}
        try:  # a client per call: each proposal runs in its own event loop, between scoring runs
            async with openai.AsyncOpenAI(**self._client_args) as client:  # type: ignore[arg-type]
                reply = await client.post("/chat/completions", body=body, cast_to=object)
        except openai.APIError as exc:
            raise SkillStudioError(f"the model could not propose a description: {exc}",
                                   "check the API key, base URL and model") from None
        choices = reply.get("choices") if isinstance(reply, dict) else None
        content = (choices or [{}])[0].get("message", {}).get("content") or ""
        return parse_proposal(str(content))

    async def aclose(self) -> None:
        return None
