"""Build one agent run request (the CLI's `run` and the app's Playground): the same checks, once.

Decided once: a data folder that is given must exist (a typo never creates a folder somewhere);
pin and route exclude each other; skill references are for hosted runs only; no key and no base URL
is an error before anything starts. Presentation defaults (stream the text or not) stay with the shell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from skillstudio.errors import SkillStudioError
from skillstudio.openai_defaults import DEFAULT_MODEL, api_key
from skillstudio.services.providers import NO_KEY_NEEDED, NoModelConfigured

if TYPE_CHECKING:
    from skillstudio.agent.loop import RunLimits
    from skillstudio.agent.runner import RunRequest


def _default_limits() -> RunLimits:
    from skillstudio.agent.loop import RunLimits

    return RunLimits()


@dataclass(frozen=True)
class AgentRunSpec:
    """Everything a shell's form or flags say about one run, as plain values."""

    workspace: Path
    prompt: str
    model: str = DEFAULT_MODEL
    provider: str = "responses"  # "responses" | "chat"
    base_url: str | None = None
    pin: str | None = None  # NAME or NAME@VERSION: offer only this skill
    route: str | None = None  # pin the skill@version this routes.yaml route names
    sandbox: str = "subprocess"  # "subprocess" | "docker" | "none"
    hosted: bool = False  # an OpenAI hosted container instead of the local sandbox
    side_by_side: bool = False  # local and hosted, the same prompt (the app's comparison)
    skill_refs: tuple[str, ...] = ()  # hosted: NAME=SKILL_ID[@VERSION]
    limits: RunLimits = field(default_factory=_default_limits)
    compaction: str = "auto"
    compact_threshold: int = 200_000
    memory_limit: str | None = None
    secrets: tuple[str, ...] = ()
    exposed: bool = False  # the granted secrets' real values are visible to the tools (explicit opt-in)
    allow_domains: tuple[str, ...] = ()
    data_dir: Path | None = None
    unsandboxed_ok: bool = False
    stateful: bool = False
    stream: bool = False


def build_run_request(spec: AgentRunSpec) -> RunRequest:
    """The agent's RunRequest for a spec, or a one-line SkillStudioError. May read the keyring."""
    from skillstudio.agent.compaction import MODES, CompactionSettings
    from skillstudio.agent.hosted import SkillRef
    from skillstudio.agent.routing import Pin, pin_for_route
    from skillstudio.agent.runner import RunRequest

    if not spec.prompt.strip():
        raise SkillStudioError("the prompt is empty", "type the task for the agent")
    if spec.compaction not in MODES:
        raise SkillStudioError(f"unknown compaction mode {spec.compaction!r}", f"use one of {', '.join(MODES)}")
    if spec.pin and spec.route:
        raise SkillStudioError("both a pinned skill and a route are given", "use one of them")
    refs: dict[str, SkillRef] = {}
    for item in spec.skill_refs:
        name, sep, ident = item.partition("=")
        sid, _, ver = ident.partition("@")
        if not sep or not name.strip() or not sid.strip():
            raise SkillStudioError(f"bad skill reference {item!r}", "write it as NAME=SKILL_ID[@VERSION]")
        refs[name.strip()] = SkillRef(sid.strip(), ver.strip() or None)
    if refs and not spec.hosted:
        raise SkillStudioError("skill references are for hosted runs", "run hosted, or drop the references")
    if spec.data_dir is not None and not spec.data_dir.is_dir():
        raise SkillStudioError(f"data folder {spec.data_dir} does not exist", "give an existing folder, or none "
                               "for a fresh one")
    base_url = (spec.base_url or "").strip() or None
    key = api_key()
    if not key and not base_url:
        raise NoModelConfigured(offline_ok=False)
    pin = Pin.parse(spec.pin) if spec.pin else (pin_for_route(spec.workspace, spec.route) if spec.route else None)
    session = None
    if spec.secrets and spec.exposed:
        from skillstudio.secrets.placeholders import SecretSession

        session = SecretSession.open(list(spec.secrets), workspace=spec.workspace, exposed=spec.secrets)
    return RunRequest(
        workspace=spec.workspace, prompt=spec.prompt, model=spec.model.strip() or DEFAULT_MODEL,
        api_key=key or NO_KEY_NEEDED, base_url=base_url, provider=spec.provider, pin=pin, sandbox=spec.sandbox,
        skill_refs=refs, unsandboxed_ok=spec.unsandboxed_ok, hosted=spec.hosted and not spec.side_by_side,
        data_dir=spec.data_dir, secrets=list(spec.secrets), secret_session=session,
        allow_domains=list(spec.allow_domains), limits=spec.limits,
        compaction=CompactionSettings(mode=spec.compaction, threshold=spec.compact_threshold),  # type: ignore[arg-type]
        memory_limit=spec.memory_limit, stateful=spec.stateful, stream=spec.stream)
