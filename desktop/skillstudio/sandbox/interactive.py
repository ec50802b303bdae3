"""One interactive sandbox run, as the Sandbox console does it (Qt-free, so it is testable headless).

`ConsoleRequest` is everything the user chose (backend, data folder, allowed domains, limits, the
skill to mount, secrets as placeholders or exposed); `describe()` says in plain words what the run
will be allowed to do, and `run()` executes one shell command line with live, redacted output
(`on_output(stream, text)`) and the proxy's decisions as they happen (`on_proxy(event)`). Callbacks
are called on worker threads: a UI must only hand them over to its own thread.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstudio.cancel import CancelToken
from skillstudio.sandbox.backends import KEEP_WARM_S, open_executor
from skillstudio.sandbox.executor import ExecResult
from skillstudio.sandbox.policy import SKILLS_ROOT, Limits, Policy, SkillMount, effective_settings
from skillstudio.sandbox.proxy import ProxyEvent

SHELL = ("sh", "-c")
SCRIPT_RUNNERS = {".py": "python3", ".sh": "sh"}


@dataclass
class ConsoleRequest:
    backend: str = "subprocess"
    data_dir: Path | None = None
    allow: list[str] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)
    skill_dir: Path | None = None
    secrets: list[str] = field(default_factory=list)
    exposed: bool = False  # hand the selected secrets over raw (`--secret-env`)
    workspace: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    deny_write: list[str] | None = None

    def mounts(self) -> list[SkillMount]:
        if self.skill_dir is None:
            return []
        return [SkillMount(source=self.skill_dir.resolve(), name=self.skill_dir.resolve().name.lower())]

    def policy(self, extra_env: dict[str, str] | None = None, ro_files: dict[str, Path] | None = None,
               extra_allow: list[str] | None = None) -> Policy:
        if self.data_dir is None:
            raise ValueError("choose a data folder")
        allow = list(dict.fromkeys([*self.allow, *(extra_allow or [])]))
        kw: dict[str, Any] = {}
        if self.deny_write is not None:
            kw["deny_write"] = self.deny_write
        return Policy(data_dir=self.data_dir, skills=self.mounts(), network={"allow": allow}, limits=self.limits,
                      env={**self.env, **(extra_env or {})}, ro_files=ro_files or {}, **kw)


@dataclass
class ConsoleResult:
    result: ExecResult
    warnings: list[str]
    secret_exposed: list[str]


def defaults(workspace: Path | None, skill_dir: Path | None) -> ConsoleRequest:
    """The saved policy of the skill (or its workspace) as the console's starting point."""
    skill = skill_dir.resolve().name.lower() if skill_dir is not None else None
    try:
        settings = effective_settings(workspace, skill)
    except Exception:  # noqa: BLE001 - a broken saved policy must not block the console: defaults
        from skillstudio.sandbox.policy import PolicySettings

        settings = PolicySettings()
    return ConsoleRequest(allow=list(settings.network.allow), limits=settings.limits, skill_dir=skill_dir,
                          workspace=workspace, env=dict(settings.env), deny_write=list(settings.deny_write))


def describe(req: ConsoleRequest, bound_domains: list[str] | None = None) -> list[str]:
    """The effective policy in plain words (no keyring access: secrets are listed by name)."""
    lines = [f"backend: {req.backend}" + (" — NO SANDBOX" if req.backend == "none" else "")]
    try:
        lines += req.policy(extra_allow=bound_domains).describe()
    except ValueError as exc:
        msg = str(exc).splitlines()
        lines.append(f"not runnable yet: {msg[-1].strip() if msg else exc}")
    if req.secrets:
        how = "RAW VALUES in the environment (secret exposed)" if req.exposed else "placeholders (ssph_…)"
        lines.append(f"secrets: {', '.join(req.secrets)} as {how}; real values only on requests to bound domains")
        lines.append("output: redacted to [secret:NAME]")
    else:
        lines.append("secrets: none")
    return lines


def skill_scripts(skill_dir: Path | None) -> list[str]:
    """Runnable files of a skill (scripts/…), as command lines inside the sandbox."""
    if skill_dir is None or not (skill_dir / "scripts").is_dir():
        return []
    name = skill_dir.resolve().name.lower()
    out = []
    for p in sorted((skill_dir / "scripts").rglob("*")):
        if p.is_file() and not p.name.startswith((".", "_")) and "__pycache__" not in p.parts:
            inside = f"{SKILLS_ROOT}/{name}/{p.relative_to(skill_dir).as_posix()}"
            runner = SCRIPT_RUNNERS.get(p.suffix)
            out.append(f"{runner} {inside}" if runner else inside)
    return out


class _Live:
    """Bytes from one stream -> (redacted) text, never splitting a UTF-8 character or a secret."""

    def __init__(self, name: str, sink: Callable[[str, str], None], redactor: Any | None) -> None:
        self.name, self.sink = name, sink
        self.stream = redactor.stream() if redactor else None
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, chunk: bytes) -> None:
        data = self.stream.feed(chunk) if self.stream is not None else chunk
        text = self.decoder.decode(data)
        if text:
            self.sink(self.name, text)

    def flush(self) -> None:
        rest = self.stream.flush() if self.stream is not None else b""
        text = self.decoder.decode(rest if isinstance(rest, bytes) else rest.encode(), final=True)
        if text:
            self.sink(self.name, text)


def run(req: ConsoleRequest, command: str, cancel: CancelToken | None = None,
        on_output: Callable[[str, str], None] | None = None,
        on_proxy: Callable[[ProxyEvent], None] | None = None,
        unsandboxed_ok: bool = False) -> ConsoleResult:
    """Run one shell command line under the request's policy (blocking; call from a worker)."""
    from skillstudio.errors import SkillStudioError

    if not command.strip():
        raise SkillStudioError("no command to run", "type a command or pick one of the skill's scripts")
    if req.data_dir is None:
        raise SkillStudioError("no data folder", "choose the data folder the command may write to")
    from skillstudio.sandbox.datafolder import refuse_broad

    refuse_broad(req.data_dir.expanduser().resolve())  # before creating anything (--data /etc/new)
    req.data_dir.mkdir(parents=True, exist_ok=True)
    attached = None
    if req.secrets:
        from skillstudio.secrets.attach import attach

        names = [] if req.exposed else list(req.secrets)
        attached = attach(names, exposed=list(req.secrets) if req.exposed else [], workspace=req.workspace)
    try:
        policy = req.policy(extra_env=attached.env if attached else None,
                            ro_files=dict(attached.ro_files) if attached else None,
                            extra_allow=attached.domains if attached else None).checked()
    except ValueError as exc:
        msg = str(exc).splitlines()
        raise SkillStudioError(f"bad sandbox settings: {msg[-1].strip() if msg else exc}",
                               "check the allowed domains and limits") from exc
    warnings = []
    warning = attached.warning() if attached else None
    if warning:
        warnings.append(warning)
    if req.backend == "none":
        from skillstudio.sandbox.unsandboxed import WARNING

        warnings.append(WARNING.strip("[]"))
    redactor = attached.redactor if attached else None
    lives: dict[str, _Live] = {}
    sink = None
    if on_output is not None:
        lives = {n: _Live(n, on_output, redactor) for n in ("stdout", "stderr")}

        def sink(name: str, chunk: bytes) -> None:
            lives[name].feed(chunk)

    # Docker: each console command finds the container the previous one left warm (same policy, no network)
    executor = open_executor(req.backend, unsandboxed_ok=unsandboxed_ok,
                             interceptor=attached.interceptor if attached else None, on_proxy_event=on_proxy,
                             keep_warm_s=KEEP_WARM_S if req.backend == "docker" else None)
    try:
        result = executor.run([*SHELL, command], policy, cancel, on_output=sink)
    finally:
        executor.close()
    for live in lives.values():
        live.flush()
    if attached is not None:
        result = attached.redact_result(result)
    return ConsoleResult(result, warnings, attached.exposed if attached else [])

