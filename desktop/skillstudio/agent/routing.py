"""Deterministic routing: which skills a run offers, and whether the model kept to them.

Auto: the whole catalog is offered and the model chooses. Pinned (`--pin name[@version]`): only
that skill is offered (and mounted), the instructions say "Use the <name> skill", its
`metadata.version` must be the pinned one and — when the workspace has a `skills.lock` — its
deterministic bundle digest must be the approved one; when the lock lists signer key ids, the
workspace trust store must hold them and a signature found locally (an OCI layout the lock names as
a source, or the local registry) must verify — when none is found locally the routing record says
so ("signature": "unverified") rather than pretending. The run then fails loudly (CheckFailed,
exit 1) if the transcript shows the model touched another skill or never loaded the pinned one.
Which skill a command touches is decided by the trigger-test rule (`evals.decision`).
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstudio.bundle.model import Skill
from skillstudio.bundle.workspace import load_workspace
from skillstudio.errors import CheckFailed, SkillStudioError
from skillstudio.evals.decision import skill_read_by
from skillstudio.sandbox.policy import SKILLS_ROOT

_PIN_RE = re.compile(r"^([a-z0-9][a-z0-9._-]*)(?:@(.+))?$")


@dataclass(frozen=True)
class Pin:
    name: str
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> Pin:
        m = _PIN_RE.match(text.strip())
        if not m or (m.group(2) is not None and not m.group(2).strip()):
            raise SkillStudioError(f"bad pin {text!r}", "give NAME or NAME@VERSION, e.g. crm-query@1.2.0",
                                   setting="pin")
        return cls(m.group(1), m.group(2).strip() if m.group(2) else None)

    def __str__(self) -> str:
        return f"{self.name}@{self.version}" if self.version else self.name


@dataclass(frozen=True)
class OfferedSkill:
    """A skill as one run sees it: where it lives here, and where the sandbox (and model) sees it."""

    name: str
    description: str
    source: Path
    version: str | None
    digest: str  # sha256:<hex> of the deterministic bundle (or of SKILL.md when packing is unavailable)
    path: str  # inside the sandbox: /skills/<name>

    def local_param(self) -> dict[str, str]:
        """The Responses `LocalSkillParam`."""
        return {"name": self.name, "description": self.description, "path": self.path}

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "digest": self.digest, "path": self.path,
                "source": str(self.source)}


@dataclass
class Routing:
    mode: str  # "auto" | "pinned"
    offered: list[OfferedSkill]
    catalog: list[OfferedSkill]  # every skill of the workspace, to see touches of skills not offered
    pin: Pin | None = None
    lock: str = "none"  # "none" (no skills.lock), "approved" (digest matched)
    signature: str = "n/a"  # "n/a" (no signers locked), "verified", "unverified" (no signature available locally)
    notes: list[str] = field(default_factory=list)
    root: Path = Path(".")  # the workspace folder (its .skillstudio/ keeps the runs)
    hosted: bool = False  # hosted containers show skills at paths we do not choose
    lock_openai: dict[str, str] = field(default_factory=dict)  # the approved uploaded version, if any

    def instructions(self) -> str | None:
        if self.pin is None:
            return None
        s = self.offered[0]
        return (f"Use the {s.name} skill (read {s.path}/SKILL.md first and follow it). "
                "Do not use any other skill.")

    def record(self) -> dict[str, Any]:
        return {"mode": self.mode, "pin": str(self.pin) if self.pin else None, "lock": self.lock,
                "signature": self.signature, "offered": [s.name for s in self.offered], "notes": self.notes}

    def touched(self, commands: list[str]) -> list[str]:
        if self.hosted:
            return _touched_by_name(commands, [s.name for s in self.catalog])
        return skills_touched(commands, [(s.name, s.path) for s in self.catalog])

    def violation_before_running(self, commands: list[str]) -> str | None:
        """A pinned run refuses a call that reaches into another skill (it is not executed)."""
        if self.pin is None:
            return None
        others = [n for n in self.touched(commands) if n != self.pin.name]
        if others:
            return (f"pinned to {self.pin}, but the model touched {', '.join(others)} "
                    f"({' && '.join(commands)[:200]})")
        return None

    def violations(self, skills_loaded: list[str], finished: bool) -> list[str]:
        if self.pin is None:
            return []
        out = [f"pinned to {self.pin}, but the model touched {n}" for n in skills_loaded if n != self.pin.name]
        if finished and self.pin.name not in skills_loaded:
            out.append(f"pinned to {self.pin}, but the model never loaded it")
        return out


def skills_touched(commands: list[str], catalog: list[tuple[str, str]]) -> list[str]:
    """Every skill whose folder any command points into, in order of first touch."""
    out: list[str] = []
    for command in commands:
        first = skill_read_by([command], catalog)
        hits = [first] if first else []
        hits += [name for name, path in catalog if name != first and skill_read_by([command], [(name, path)])]
        out += [h for h in hits if h not in out]
    return out


def _touched_by_name(commands: list[str], names: list[str]) -> list[str]:
    """Hosted runs: a path segment named after a skill (`.../<name>/...`) counts as touching it."""
    out: list[str] = []
    for command in commands:
        for name in sorted(names, key=len, reverse=True):
            if name not in out and re.search(rf"(?:^|[/\s'\"=]){re.escape(name)}/", command):
                out.append(name)
    return out


def _digest(skill: Skill) -> str:
    try:
        from skillstudio.release.pack import pack_skill
    except ImportError:  # packing not available in this build: SKILL.md alone
        return "sha256:" + hashlib.sha256(skill.text.encode("utf-8")).hexdigest()
    with tempfile.TemporaryDirectory(prefix="skillstudio-run-") as tmp:
        return pack_skill(skill.path, Path(tmp) / "bundle.zip").digest


def _offered(skill: Skill, digest: bool = True) -> OfferedSkill:
    return OfferedSkill(skill.name, skill.description or "", skill.path.resolve(), skill.version,
                        _digest(skill) if digest else "", f"{SKILLS_ROOT}/{skill.name}")


def _local_signatures(workspace: Path, name: str, sources: list[str], version: str) -> tuple[list[Any], list[str]]:
    """Signature envelopes of `name`@`version` available on this machine, and where we looked.

    Places: the OCI layouts the lock lists as sources, and the local registry (the app's default
    export target). Remote registries are not asked: a run does not go to the network for this.
    """
    from skillstudio.release import oci
    from skillstudio.release.browse import default_local_root, local_target
    from skillstudio.release.layout import LayoutStore, parse_layout_ref

    refs = [parse_layout_ref(s) for s in sources if s.startswith("oci-layout:")]
    refs.append(local_target(default_local_root(), name, version))
    envelopes: list[Any] = []
    looked: list[str] = []
    for ref in refs:
        path = ref.path if ref.path.is_absolute() else workspace / ref.path
        ref = type(ref)(path, ref.tag, ref.digest)
        looked.append(str(ref))
        if not (path / "oci-layout").is_file():
            continue
        try:
            with LayoutStore(ref) as store:
                got = store.get_manifest(ref.reference)
                if got is not None:
                    envelopes += oci._signature_envelopes(store, got[2])
        except (SkillStudioError, OSError):
            continue  # an unreadable layout is no signature; the record says what was found
    return envelopes, looked


def _check_signers(workspace: Path, skill: OfferedSkill, entry: Any) -> tuple[str, str | None]:
    """(signature status, note) for a lock entry with signers; CheckFailed when they do not hold."""
    from skillstudio.release import trust
    from skillstudio.release.lockfile import check_bundle

    ids = ", ".join(k[:16] for k in entry.signers)
    store = trust.load(workspace)
    missing = [k for k in entry.signers if k not in store.keys]
    if missing:
        raise CheckFailed(f"pinned skill {skill.name}@{skill.version}: approved signer key(s) "
                          f"{', '.join(k[:16] for k in missing)} are not in the workspace trust store",
                          "add the approvers' public keys with `skillstudio trust add WORKSPACE NAME KEY.pem`")
    envelopes, looked = _local_signatures(workspace, skill.name, entry.sources, entry.version)
    if not envelopes:
        return "unverified", (f"signers {ids} are in the trust store, but no signature of {skill.name}@{skill.version} "
                              f"is available locally (looked in {', '.join(looked)}): signatures not verified")
    from skillstudio.release.pack import pack_skill

    with tempfile.TemporaryDirectory(prefix="skillstudio-run-") as tmp:
        zip_bytes = pack_skill(skill.source, Path(tmp) / "bundle.zip").path.read_bytes()
    problems: list[str] = []
    for env in envelopes:
        try:
            check_bundle(workspace, skill.name, zip_bytes, env, store)
        except CheckFailed as exc:
            problems.append(str(exc))
            continue
        return "verified", f"signature by {ids} verified"
    raise CheckFailed(f"pinned skill {skill.name}@{skill.version}: no local signature matches the lock "
                      f"({problems[0]})",
                      "use the bundle the approvers signed, or re-approve it with `skillstudio lock`")


def _check_lock(workspace: Path, skill: OfferedSkill) -> tuple[str, dict[str, str], str, str | None]:
    """(lock status, approved OpenAI upload, signature status, note) for a pinned skill."""
    try:
        from skillstudio.release.lockfile import LOCK_NAME, load_lock
    except ImportError:
        return "none", {}, "n/a", None
    if not (workspace / LOCK_NAME).is_file():
        return "none", {}, "n/a", None
    entry = load_lock(workspace).get(skill.name)
    if entry is None:
        raise CheckFailed(f"pinned skill {skill.name} is not approved in {LOCK_NAME}",
                          "approve it with `skillstudio lock`, or run without a pin", setting="pin")
    if skill.version != entry.version:
        raise CheckFailed(f"pinned skill {skill.name} is at version {skill.version}, "
                          f"{LOCK_NAME} approves {entry.version}",
                          f"pin {skill.name}@{entry.version} and restore that version")
    if skill.digest != entry.digest:
        raise CheckFailed(f"pinned skill {skill.name}@{skill.version}: content differs from the approved bundle "
                          f"({skill.digest[:19]}… vs {entry.digest[:19]}…)",
                          "restore the approved content or re-approve it with `skillstudio lock`")
    signature, note = _check_signers(workspace, skill, entry) if entry.signers else ("n/a", None)
    return "approved", dict(entry.openai), signature, note


def pin_for_route(workspace: Path, route: str) -> Pin:
    """The `skill@version` a route of `routes.yaml` names."""
    try:
        from skillstudio.release.lockfile import ROUTES_NAME, load_routes
    except ImportError as exc:  # pragma: no cover - release ships with the app
        raise SkillStudioError("routes are not available in this build", "pin NAME@VERSION instead",
                               setting="pin") from exc
    routes = load_routes(Path(workspace))
    if route not in routes:
        known = ", ".join(sorted(routes)) or "none"
        raise SkillStudioError(f"no route {route!r} in {ROUTES_NAME}", f"known routes: {known}")
    name, version = routes[route]
    return Pin.parse(f"{name}@{version}" if version else name)


def plan(workspace: Path, pin: Pin | None = None) -> Routing:
    """The skills this run offers; clear errors for a broken workspace or a pin that cannot hold."""
    workspace = Path(workspace)
    if not workspace.is_dir():
        raise SkillStudioError(f"{workspace}: no such folder",
                               "give a workspace (a folder of skills) or a skill folder")
    ws = load_workspace(workspace, with_files=False)
    usable = [s for s in ws.skills if not s.parse_error and s.name and s.description]
    notes = [f"{s.path.name}: left out ({s.parse_error or 'no description'})"
             for s in ws.skills if s not in usable]
    if not usable:
        raise SkillStudioError(f"{workspace}: no usable skills", "a skill is a folder holding a valid SKILL.md")
    names = [s.name for s in usable]
    if len(set(names)) != len(names):
        raise SkillStudioError("two skills share a name", "rename one (folder and front-matter name)")
    root = workspace if not (workspace / "SKILL.md").exists() and not (workspace / "skill.md").exists() \
        else workspace.parent
    if pin is None:
        offered = [_offered(s) for s in usable]
        return Routing("auto", offered, offered, notes=notes, root=root)
    chosen = next((s for s in usable if s.name == pin.name), None)
    if chosen is None:
        broken = next((s for s in ws.skills if s.path.name == pin.name), None)
        if broken is not None:
            why = broken.parse_error or "no description"
            raise SkillStudioError(f"pinned skill {pin.name} cannot be offered ({why})",
                                   f"run `skillstudio validate {broken.path}` and fix it")
        raise SkillStudioError(f"pinned skill {pin.name} is not in {workspace}",
                               f"use one of: {', '.join(sorted(names))}")
    if pin.version is not None and chosen.version != pin.version:
        raise CheckFailed(f"pinned {pin}, but {pin.name} is at version {chosen.version or '(none)'}",
                          f"check out version {pin.version} or pin {pin.name}@{chosen.version}")
    pinned = _offered(chosen)
    lock, lock_openai, signature, note = _check_lock(root, pinned)
    if note:
        notes.append(note)
    catalog = [pinned] + [_offered(s, digest=False) for s in usable if s is not chosen]
    return Routing("pinned", [pinned], catalog, pin=pin, lock=lock, signature=signature, notes=notes, root=root,
                   lock_openai=lock_openai)
