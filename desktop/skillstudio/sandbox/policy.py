"""The one sandbox policy both backends enforce, and where it is saved.

A policy says what a skill's tool may touch: the data folder (the only writable place and the
working directory), the skills mounted read-only where the model is told they are, the network
(off, or an allow list enforced by the egress proxy), the environment (a clean one plus explicit
variables) and the limits. It is a pydantic model so the app can show and edit it and the CLI can
build it from flags; `PolicySettings` is the part that is saved per workspace and per skill
(`.skillstudio/policies/workspace.json`, `.skillstudio/policies/<skill>.json`).
"""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from skillstudio.errors import SkillStudioError
from skillstudio.secrets.model import wildcard_problem

SKILLS_ROOT = "/skills"
POLICIES_DIR = Path(".skillstudio") / "policies"
WORKSPACE_POLICY = "workspace.json"

# Writes that are refused even inside the data folder: files a later human shell or git would run
# (the same idea as srt's mandatory deny list). Relative to the data folder; a trailing "/" is a folder.
DEFAULT_DENY_WRITE = [
    ".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zprofile", ".zshenv",
    ".gitconfig", ".gitmodules", ".ripgreprc", ".mcp.json",
    ".git/hooks/", ".git/config", ".vscode/", ".idea/", ".claude/",
]

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST_RE = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")
_NAME_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SKILL_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class AllowedHost(BaseModel):
    """One allow-list entry: an exact name, `*.suffix` or an IP address, optionally with a port.

    Without a port an entry allows 443 only (HTTPS); plain HTTP needs `NAME:80`, any other port
    `NAME:PORT`. Wildcards must name an organisation's domain: `*.com`, `*.co.uk`, `*.github.io`
    and numeric wildcards are refused (see `secrets.model.wildcard_problem`). IPv6 addresses are
    written in brackets when a port follows (`[fd00::1]:8443`).
    """

    model_config = ConfigDict(frozen=True)

    pattern: str
    port: int | None = None

    @classmethod
    def parse(cls, entry: str) -> AllowedHost:
        text = entry.strip().lower().rstrip(".")
        port: int | None = None
        port_text = ""
        if text.startswith("["):
            inner, closed, rest = text[1:].partition("]")
            if not closed or (rest and not rest.startswith(":")):
                raise SkillStudioError(f"bad allowed domain {entry!r}", "write an IPv6 address as [ADDR] or [ADDR]:PORT")
            text, port_text = inner, rest[1:]
            if not _is_ip(text):
                raise SkillStudioError(f"bad allowed domain {entry!r}", "only IPv6 addresses go in brackets")
        elif text.count(":") == 1:
            text, _, port_text = text.partition(":")
        if port_text or entry.strip().endswith(":"):
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise SkillStudioError(f"bad port in allowed domain {entry!r}", "use NAME or NAME:PORT, e.g. api.example.com:443")
            port = int(port_text)
        if _is_ip(text):
            return cls(pattern=str(ipaddress.ip_address(text)), port=port)
        if not _HOST_RE.match(text) or text == "*":
            raise SkillStudioError(
                f"bad allowed domain {entry!r}",
                "use an exact name (api.example.com), a wildcard (*.example.com), an IP address or NAME:PORT")
        if text.startswith("*."):
            problem = wildcard_problem(text[2:])
            if problem:
                raise SkillStudioError(f"allowed domain {entry!r} is too broad: {problem}",
                                       "name the organisation's own domain, e.g. *.example.com")
        return cls(pattern=text, port=port)

    def matches(self, host: str, port: int) -> bool:
        host = host.lower().rstrip(".")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if port != (self.port if self.port is not None else 443):
            return False
        if _is_ip(self.pattern):
            return _is_ip(host) and ipaddress.ip_address(host) == ipaddress.ip_address(self.pattern)
        if self.pattern.startswith("*."):
            return host.endswith(self.pattern[1:])  # "*.x.com" matches a.x.com, a.b.x.com, not x.com
        return host == self.pattern

    def __str__(self) -> str:
        if self.port is None:
            return self.pattern
        return f"[{self.pattern}]:{self.port}" if ":" in self.pattern else f"{self.pattern}:{self.port}"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


class NetworkPolicy(BaseModel):
    """Network is off unless the allow list has entries; then only the egress proxy is reachable."""

    allow: list[str] = Field(default_factory=list)

    @field_validator("allow")
    @classmethod
    def _check(cls, v: list[str]) -> list[str]:
        return [str(AllowedHost.parse(e)) for e in v]

    @property
    def enabled(self) -> bool:
        return bool(self.allow)

    def hosts(self) -> list[AllowedHost]:
        return [AllowedHost.parse(e) for e in self.allow]

    def allows(self, host: str, port: int) -> bool:
        return any(h.matches(host, port) for h in self.hosts())


class Limits(BaseModel):
    """Resource limits; `None` means "no limit of this kind" (never the default for wall time)."""

    wall_s: float = Field(120.0, gt=0)
    cpu_s: int | None = Field(120, gt=0)
    memory_mb: int | None = Field(1024, gt=0)
    pids: int | None = Field(256, gt=0)
    file_size_mb: int | None = Field(512, gt=0)
    output_bytes: int = Field(256_000, gt=0)  # per stream, like the shell tool's max_output_length
    disk_mb: int | None = Field(2048, gt=0)  # how much one command may fill the data folder's disk


class PolicySettings(BaseModel):
    """The saved, user-editable part of a policy (no paths of this machine in it)."""

    model_config = ConfigDict(extra="forbid")

    network: NetworkPolicy = Field(default_factory=NetworkPolicy)
    limits: Limits = Field(default_factory=Limits)
    env: dict[str, str] = Field(default_factory=dict)
    deny_write: list[str] = Field(default_factory=lambda: list(DEFAULT_DENY_WRITE))

    @field_validator("env")
    @classmethod
    def _env_names(cls, v: dict[str, str]) -> dict[str, str]:
        for k in v:
            if not _NAME_ENV_RE.match(k):
                raise ValueError(f"bad environment variable name {k!r}")
        return v


class SkillMount(BaseModel):
    """A skill folder shown read-only inside the sandbox at /skills/<name>."""

    source: Path
    name: str

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _SKILL_NAME_RE.match(v):
            raise ValueError(f"bad skill mount name {v!r}")
        return v

    @property
    def target(self) -> str:
        return f"{SKILLS_ROOT}/{self.name}"


class Policy(PolicySettings):
    """A complete, runnable policy: settings plus this run's data folder and skills."""

    model_config = ConfigDict(extra="forbid")

    data_dir: Path
    skills: list[SkillMount] = Field(default_factory=list)
    ro_files: dict[str, Path] = Field(default_factory=dict)  # path inside -> host file, read-only (CA bundles)

    @field_validator("ro_files")
    @classmethod
    def _ro_files(cls, v: dict[str, Path]) -> dict[str, Path]:
        for inside in v:
            if not inside.startswith("/run/skillstudio/") or ".." in inside.split("/"):
                raise ValueError(f"read-only file must go under /run/skillstudio/: {inside!r}")
        return v

    @classmethod
    def build(cls, data_dir: Path, settings: PolicySettings | None = None,
              skills: list[SkillMount] | None = None, **overrides: Any) -> Policy:
        base = (settings or PolicySettings()).model_dump()
        base.update(overrides)
        return cls(data_dir=data_dir, skills=skills or [], **base)

    def checked(self) -> Policy:
        """This policy with an absolute, existing data folder; a clear error otherwise."""
        data = self.data_dir.expanduser()
        if not data.is_dir():
            raise SkillStudioError(f"data folder {data} does not exist", "create it, or choose an existing folder",
                                   setting="data")
        data = data.resolve()
        for m in self.skills:
            if not m.source.is_dir():
                raise SkillStudioError(f"skill folder {m.source} does not exist", "pass an existing skill folder")
        from skillstudio.sandbox.datafolder import refuse_broad

        refuse_broad(data, [m.source.resolve() for m in self.skills])  # /, $HOME, /etc, /usr, … (issue 12)
        for inside, host in self.ro_files.items():
            if not host.is_file():
                raise SkillStudioError(f"file {host} for {inside} does not exist", "create it first")
        return self.model_copy(update={"data_dir": data,
                                       "skills": [m.model_copy(update={"source": m.source.resolve()}) for m in self.skills]})

    def settings(self) -> PolicySettings:
        return PolicySettings.model_validate(self.model_dump(include=set(PolicySettings.model_fields)))

    def describe(self) -> list[str]:
        """The effective policy in plain words (the app and `exec --verbose` show this)."""
        lim = self.limits
        lines = [f"data folder (read-write, working directory): {self.data_dir}"]
        lines += [f"skill (read-only): {m.source} -> {m.target}" for m in self.skills]
        lines.append("network: " + ("allow " + ", ".join(self.network.allow) if self.network.enabled else "off"))
        lines.append(f"limits: wall {lim.wall_s:g}s, cpu {lim.cpu_s}s, memory {lim.memory_mb} MB, "
                     f"processes {lim.pids}, file size {lim.file_size_mb} MB, output {lim.output_bytes} bytes/stream, "
                     f"disk quota {lim.disk_mb} MB per command")
        lines.append("always denied writes: " + ", ".join(self.deny_write))
        return lines


# ----------------------------------------------------------------------------------------- storage

def _policy_file(workspace: Path, skill: str | None) -> Path:
    if skill is not None and not _SKILL_NAME_RE.match(skill):
        raise SkillStudioError(f"bad skill name {skill!r}", "use the skill's folder name")
    return workspace / POLICIES_DIR / (f"{skill}.json" if skill else WORKSPACE_POLICY)


def save_settings(workspace: Path, settings: PolicySettings, skill: str | None = None) -> Path:
    """Write the workspace's (or one skill's) policy atomically; returns the file."""
    from skillstudio.bundle.fileio import atomic_write
    from skillstudio.secrets import trust

    path = _policy_file(workspace, skill)
    path.parent.mkdir(parents=True, exist_ok=True)
    with trust.keep_approved(workspace, path):  # the user's own save stays approved (if it was)
        atomic_write(path, settings.model_dump_json(indent=2) + "\n")
    return path


def load_settings(workspace: Path, skill: str | None = None, *, approved: bool = True) -> PolicySettings | None:
    """The saved settings, None when there are none; a clear error when the file is broken.

    A policy that came with the workspace applies only after the user approved it (workspace
    trust, secrets/trust.py); `approved=False` reads it anyway, for showing it, never for a run.
    """
    from skillstudio.secrets import trust

    path = _policy_file(workspace, skill)
    if not path.is_file():
        return None
    try:
        settings = PolicySettings.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SkillStudioError(f"broken sandbox policy {path}: {first}", "fix the file or delete it to get the defaults") from exc
    if approved:
        trust.require(workspace)
    return settings


def effective_settings(workspace: Path | None, skill: str | None = None,
                       frontmatter: Any | None = None) -> PolicySettings:
    """Skill file, else workspace file, else defaults suggested by the skill's front matter."""
    if workspace is not None:
        for name in ([skill] if skill else []) + [None]:
            found = load_settings(workspace, name)
            if found is not None:
                return found
    return suggest_settings(frontmatter)


# Claude Code's allowed-tools syntax names domains as WebFetch(domain:example.com).
_WEBFETCH_RE = re.compile(r"domain:\s*([a-z0-9*][a-z0-9.*-]*\.[a-z]{2,})", re.I)
_HOSTNAME_RE = re.compile(r"(?<![@\w.-])((?:\*\.)?(?:[a-z0-9-]+\.)+(?:com|org|net|io|dev|ai|app|cloud|co|gov|edu))\b", re.I)


def suggest_settings(frontmatter: Any | None) -> PolicySettings:
    """Defaults informed by `allowed-tools` and `compatibility`.

    The network stays off unless the skill names the hosts it needs: `WebFetch(domain:x)` in
    allowed-tools, or host names written in `compatibility` ("Requires access to api.x.com").
    Front matter only suggests names: what it yields is a host name (or a narrow `*.org.tld`
    wildcard) on port 443 — never an IP address, a port, or a wildcard the allow list refuses.
    A skill that asks for no shell/Bash tool at all gets a short wall time.
    """
    settings = PolicySettings()
    if frontmatter is None:
        return settings
    tools = str(getattr(frontmatter, "allowed_tools", None) or "")
    compat = str(getattr(frontmatter, "compatibility", None) or "")
    hosts: list[str] = []
    for m in [*_WEBFETCH_RE.findall(tools), *_HOSTNAME_RE.findall(compat)]:
        h = m.lower()
        try:
            parsed = AllowedHost.parse(h)
        except SkillStudioError:
            continue
        if parsed.port is not None or _is_ip(parsed.pattern):
            continue
        if h not in hosts:
            hosts.append(h)
    settings.network = NetworkPolicy(allow=hosts)
    if tools and not re.search(r"\b(bash|shell|exec)\b", tools, re.I):
        settings.limits.wall_s = 30.0
    return settings


SandboxKind = Literal["subprocess", "docker", "none"]
