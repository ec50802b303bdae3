"""One agent run from a request: routing, sandbox, secrets, provider, loop, saved transcript.

The CLI and the app's Playground both call `execute(RunRequest, on_event, cancel)`; it builds the
same policy `skillstudio exec` would (the workspace's saved sandbox policy, the data folder
read-write at /data, the offered skills read-only at /skills/<name>, secrets as placeholders with
the sidecar on their bound domains), runs the loop and saves the redacted transcript under
`<workspace>/.skillstudio/runs/agent/`. Setup problems raise SkillStudioError before anything runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstudio.agent.compaction import CompactionSettings
from skillstudio.agent.hosted import SkillRef, shell_tool
from skillstudio.agent.loop import AgentRun, EventSink, RunLimits
from skillstudio.agent.routing import Pin, Routing, plan
from skillstudio.agent.shell import ShellRunner
from skillstudio.agent.transcript import RUNS_DIR, Transcript
from skillstudio.cancel import CancelToken
from skillstudio.errors import SkillStudioError
from skillstudio.openai_defaults import DEFAULT_MODEL


@dataclass
class RunRequest:
    workspace: Path
    prompt: str
    model: str = DEFAULT_MODEL
    api_key: str = "no-key-needed"
    base_url: str | None = None
    provider: str = "responses"  # "responses" | "chat"
    pin: Pin | None = None
    sandbox: str = "subprocess"  # "subprocess" | "docker" | "none"
    unsandboxed_ok: bool = False
    hosted: bool = False
    data_dir: Path | None = None  # default: a fresh folder for this run under .skillstudio/runs/
    secrets: list[str] = field(default_factory=list)
    secret_session: Any | None = None  # an opened SecretSession (tests, the app); else opened from `secrets`
    allow_domains: list[str] = field(default_factory=list)
    limits: RunLimits = field(default_factory=RunLimits)
    compaction: CompactionSettings = field(default_factory=CompactionSettings)
    memory_limit: str | None = None  # hosted container memory
    skill_refs: dict[str, SkillRef] = field(default_factory=dict)  # hosted: use uploaded versions
    stream: bool = False  # Responses: stream (text/command deltas reach on_event live)
    stateful: bool = False  # Responses: store the conversation server-side, chain with previous_response_id
    request_timeout_s: float = 300.0
    save: bool = True
    docker_client: Any | None = None


def _client(req: RunRequest) -> Any:
    import openai

    return openai.OpenAI(api_key=req.api_key, base_url=req.base_url or os.environ.get("OPENAI_BASE_URL") or None,
                         max_retries=2, timeout=req.request_timeout_s)


def _session(req: RunRequest) -> Any | None:
    if req.secret_session is not None:
        return req.secret_session
    if not req.secrets:
        return None
    from skillstudio.secrets.placeholders import SecretSession

    return SecretSession.open(req.secrets, workspace=req.workspace)


def _local_sandbox(req: RunRequest, routing: Routing, transcript: Transcript, session: Any | None) -> ShellRunner:
    from skillstudio.sandbox.backends import BACKENDS, open_executor
    from skillstudio.sandbox.policy import Policy, SkillMount, effective_settings

    if req.sandbox not in BACKENDS:
        raise SkillStudioError(f"unknown sandbox {req.sandbox!r}", "use subprocess, docker or none", setting="sandbox")
    frontmatter = None
    if routing.pin is not None:  # a pinned skill's own needs (allowed-tools, compatibility) suggest the defaults
        from skillstudio.bundle.model import load_skill

        frontmatter = load_skill(routing.offered[0].source).frontmatter
    settings = effective_settings(routing.root, routing.pin.name if routing.pin else None, frontmatter)
    data = req.data_dir
    if data is None:
        data = routing.root / RUNS_DIR / transcript.run_id / "data"
        data.mkdir(parents=True, exist_ok=True)
    env = dict(settings.env)
    allow = [*settings.network.allow, *req.allow_domains]
    ro_files: dict[str, Path] = {}
    interceptor = None
    attached = None
    if session is not None:  # the same wiring as `exec` and the Sandbox console (secrets.attach)
        from skillstudio.secrets.attach import attach

        attached = attach([], session=session, network=bool(allow or session.bound_domains()))
        env.update(attached.env)
        allow += [d for d in attached.domains if d not in allow]
        ro_files = dict(attached.ro_files)
        interceptor = attached.interceptor
    try:
        policy = Policy(data_dir=data, skills=[SkillMount(source=s.source, name=s.name) for s in routing.offered],
                        ro_files=ro_files, network={"allow": list(dict.fromkeys(allow))}, limits=settings.limits,
                        env=env, deny_write=settings.deny_write).checked()
    except ValueError as exc:
        lines = str(exc).splitlines()
        raise SkillStudioError(f"bad sandbox policy: {lines[-1].strip() if lines else exc}",
                               "check the allowed domains and the workspace's sandbox policy",
                               setting="allow-domain") from exc
    transcript.policy = policy.describe()
    warning = attached.warning() if attached is not None else None
    if warning:  # "secret exposed: NAME in the tool's environment as raw values …", as `exec` prints it
        transcript.policy.append(f"WARNING: {warning}")
        transcript.add_event("warning", {"message": warning})
    executor = open_executor(req.sandbox, unsandboxed_ok=req.unsandboxed_ok, interceptor=interceptor,
                             docker_client=req.docker_client)
    return ShellRunner(executor, policy, attached.redactor if attached is not None else None)


def prepare(req: RunRequest) -> tuple[Routing, Transcript]:
    """Routing and an empty transcript (raises SkillStudioError / CheckFailed for a bad request)."""
    if not req.prompt.strip():
        raise SkillStudioError("the prompt is empty", "give the task for the agent", setting="prompt")
    if req.provider not in ("responses", "chat"):
        raise SkillStudioError(f"unknown provider {req.provider!r}", "use responses or chat")
    if req.hosted and req.provider != "responses":
        raise SkillStudioError("hosted runs need the Responses API", "choose the Responses provider, or run locally",
                               setting="provider")
    if req.limits.max_cost_usd is not None:
        from skillstudio.agent.loop import price_of

        price_of(req.model)  # a cost limit needs the model's price: refuse before anything runs
    routing = plan(req.workspace, req.pin)
    routing.hosted = req.hosted
    t = Transcript(prompt=req.prompt, model=req.model, provider=req.provider,
                   mode="hosted" if req.hosted else "local", sandbox="hosted" if req.hosted else req.sandbox,
                   routing=routing.record(), skills=[s.record() for s in routing.offered])
    return routing, t


def execute(req: RunRequest, on_event: EventSink | None = None, cancel: CancelToken | None = None) -> Transcript:
    """Run the agent; returns the (saved) transcript whatever the outcome."""
    from skillstudio.agent.hosted import HostedProvider
    from skillstudio.agent.providers import ChatProvider, ResponsesProvider

    routing, t = prepare(req)
    session = _session(req)
    if session is not None:
        t.redactor = session.redactor()
        t.secrets = [s.name for s in session.secrets]
        t.secret_exposed = bool(session.is_exposed)
    shell: ShellRunner | None = None
    provider: Any = None
    try:
        client = _client(req)
        from skillstudio.evals.store import redact_url

        t.base_url = redact_url(str(client.base_url).rstrip("/"))  # no user:password@ or ?key= in the store
        instructions = routing.instructions()
        if req.hosted:
            refs = dict(req.skill_refs)
            if routing.pin is not None and routing.lock_openai.get("skill_id") and routing.pin.name not in refs:
                # the approved uploaded version (same digest as the lock): production routes against it
                refs[routing.pin.name] = SkillRef(routing.lock_openai["skill_id"], routing.lock_openai.get("version"))
            t.routing["hosted_skills"] = {s.name: (refs[s.name].param() if s.name in refs else "inline")
                                          for s in routing.offered}
            tool = shell_tool(routing.offered, refs=refs, allowed_domains=req.allow_domains,
                              secret_session=session, memory_limit=req.memory_limit)
            t.policy = [f"hosted container network: {tool['environment']['network_policy']['type']}"]
            provider = HostedProvider(client, req.model, req.prompt, tool, instructions, req.compaction)
        else:
            shell = _local_sandbox(req, routing, t, session)
            if req.provider == "chat":
                provider = ChatProvider(client, req.model, req.prompt, [s.local_param() for s in routing.offered],
                                        instructions, req.compaction)
            else:
                tools = [{"type": "shell", "environment": {"type": "local",
                                                           "skills": [s.local_param() for s in routing.offered]}}]
                provider = ResponsesProvider(client, req.model, req.prompt, tools, instructions, req.compaction,
                                             stateful=req.stateful, stream=req.stream)
        AgentRun(provider, routing, t, shell=shell, limits=req.limits, on_event=on_event, cancel=cancel).run()
    finally:
        if t.outcome == "running":  # setup failed before the loop ran
            t.finish("error", "the run could not start")
        if shell is not None:
            shell.executor.close()
        if provider is not None:
            provider.close()
        if req.save:
            t.save(routing.root / ".skillstudio")
    return t


def sandbox_for(workspace: Path, *, sandbox: str = "subprocess", data_dir: Path | None = None,
                unsandboxed_ok: bool = False, docker_client: Any | None = None) -> ShellRunner:
    """A ShellRunner with the policy an auto run of this workspace gets (for replaying fixtures).

    The caller closes `runner.executor`.
    """
    req = RunRequest(workspace=Path(workspace), prompt="replay", sandbox=sandbox, data_dir=data_dir,
                     unsandboxed_ok=unsandboxed_ok, docker_client=docker_client)
    routing, t = prepare(req)
    return _local_sandbox(req, routing, t, None)


def execute_both(req: RunRequest, on_event: EventSink | None = None,
                 cancel: CancelToken | None = None) -> tuple[Transcript, Transcript]:
    """The same prompt and bundle run locally, then hosted (the side-by-side view); events carry `side`."""
    from dataclasses import replace

    def tagged(side: str) -> EventSink | None:
        if on_event is None:
            return None
        sink = on_event
        return lambda event: sink({**event, "side": side})

    local = execute(replace(req, hosted=False), tagged("local"), cancel)
    if cancel is not None and cancel.cancelled:
        hosted = prepare(replace(req, hosted=True))[1]
        hosted.finish("cancelled", "stopped before the hosted run started")
        return local, hosted
    return local, execute(replace(req, hosted=True), tagged("hosted"), cancel)
