"""`skills.lock` and `routes.yaml`: what production may run, pinned by digest and signer.

Why: "the security team approves specific skill versions, then the system executes them
predictably". The lock names, per skill, the approved version, the sha256 of its deterministic zip,
the key ids that signed it and where it was published; `routes.yaml` maps workflow names to
`skill@version`. `verify_lock` re-packs the workspace and refuses any drift; `check_bundle` is what a
pinned run calls before using a bundle.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from skillstudio.bundle import safeyaml
from skillstudio.bundle.fileio import atomic_write, read_text_file
from skillstudio.bundle.workspace import workspace_skill_dirs
from skillstudio.errors import CheckFailed, SkillStudioError
from skillstudio.release import attest
from skillstudio.release.dsse import Envelope
from skillstudio.release.pack import pack_skill
from skillstudio.release.trust import TrustStore

LOCK_NAME = "skills.lock"
ROUTES_NAME = "routes.yaml"
HEADER = "# Approved skill versions, written by `skillstudio lock`. Review changes like code.\n"


@dataclass
class LockEntry:
    version: str
    digest: str  # sha256:<hex> of the deterministic zip
    signers: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    openai: dict[str, str] = field(default_factory=dict)


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = safeyaml.safe_load(read_text_file(path, 4 << 20, root=path.parent)) or {}
    except (OSError, ValueError, yaml.YAMLError) as exc:  # ValueError: a link out, a FIFO, binary
        raise SkillStudioError(safeyaml.explain(path.name, exc), f"fix {path}") from None
    if not isinstance(data, dict):
        raise SkillStudioError(f"{path.name} must be a mapping", f"fix {path}")
    return data


def load_lock(workspace: Path) -> dict[str, LockEntry]:
    data = _load_yaml(Path(workspace) / LOCK_NAME)
    out: dict[str, LockEntry] = {}
    for name, e in (data.get("skills") or {}).items():
        if not isinstance(e, dict) or not e.get("version") or not e.get("digest"):
            raise SkillStudioError(f"{LOCK_NAME}: entry {name!r} needs version and digest", "fix or re-run `lock`")
        out[str(name)] = LockEntry(str(e["version"]), str(e["digest"]), [str(k) for k in e.get("signers") or []],
                                   [str(s) for s in e.get("sources") or []],
                                   {str(k): str(v) for k, v in (e.get("openai") or {}).items()})
    return out


def save_lock(workspace: Path, lock: dict[str, LockEntry]) -> None:
    body = {"lockVersion": 1, "skills": {n: {k: v for k, v in asdict(e).items() if v}
                                         for n, e in sorted(lock.items())}}
    atomic_write(Path(workspace) / LOCK_NAME, HEADER + yaml.safe_dump(body, sort_keys=False))


def record(workspace: Path, name: str, entry: LockEntry) -> LockEntry:
    """Add or replace a skill's approved version; same digest keeps and merges sources/signers."""
    lock = load_lock(workspace)
    old = lock.get(name)
    if old and old.digest == entry.digest:
        entry.sources = sorted(set(old.sources) | set(entry.sources))
        entry.signers = sorted(set(old.signers) | set(entry.signers))
        entry.openai = entry.openai or old.openai
    lock[name] = entry
    save_lock(workspace, lock)
    return entry


def load_routes(workspace: Path) -> dict[str, tuple[str, str | None]]:
    data = _load_yaml(Path(workspace) / ROUTES_NAME)
    out: dict[str, tuple[str, str | None]] = {}
    for route, target in (data.get("routes") or {}).items():
        skill, _, version = str(target).partition("@")
        out[str(route)] = (skill.strip(), version.strip() or None)
    return out


def set_route(workspace: Path, route: str, skill: str, version: str) -> None:
    path = Path(workspace) / ROUTES_NAME
    data = _load_yaml(path)
    routes = data.setdefault("routes", {})
    routes[route] = f"{skill}@{version}"
    atomic_write(path, yaml.safe_dump(data, sort_keys=True))


def workspace_digest(skill_dir: Path, *, legacy: bool = False) -> tuple[str, str | None]:
    """(sha256:<hex>, version) of the skill folder as it would be packed now (`legacy`: deflated, as
    bundles were packed before stored entries made the digest independent of the zlib build)."""
    with tempfile.TemporaryDirectory(prefix="skillstudio-lock-") as tmp:
        res = pack_skill(skill_dir, Path(tmp) / "bundle.zip", legacy=legacy)
        return res.digest, res.version


def source_problems(name: str, version: str, source: str) -> list[str]:
    """A recorded oci:// source must name the skill's repository and, for a semver tag, its version.

    Why: `pull` refuses a bundle served under another name or version tag; a lock pointing
    production at `oci://…/support-reply:1.0.0` for crm-query would be the same swap, written down.
    """
    if not source.startswith("oci://"):
        return []
    from skillstudio.release.registry import parse_ref

    try:
        ref = parse_ref(source)
    except SkillStudioError as exc:
        return [f"{name}: source {source} is not a valid reference ({exc.message})"]
    out = []
    repo = ref.repo.rsplit("/", 1)[-1]
    if repo != name:
        out.append(f"{name}: source {source} is the repository of {repo!r}, not {name!r}")
    if ref.tag and attest.is_semver(ref.tag) and not attest.same_version(ref.tag, version):
        out.append(f"{name}: source {source} is tagged {ref.tag}, not the approved version {version}")
    return out


def lock_from_signature(workspace: Path, skill_dir: Path, envelope: Envelope, trust: TrustStore,
                        source: str | None = None) -> LockEntry:
    """Approve what is in the workspace now, if the envelope signs exactly it under the trust policy."""
    with tempfile.TemporaryDirectory(prefix="skillstudio-lock-") as tmp:
        res = pack_skill(skill_dir, Path(tmp) / "bundle.zip")
        v = attest.verify_bundle(res.path, envelope, trust.public_keys())
    trust.check_policy(v.keyids)
    if not res.version:
        raise SkillStudioError(f"{res.name} has no metadata.version", "set a semver version before locking it")
    if v.name != res.name or not attest.same_version(v.version, res.version):
        raise CheckFailed(f"the signature is for {v.name}@{v.version}, not {res.name}@{res.version}",
                          "sign this skill's bundle and approve that signature")
    bad = source_problems(res.name, res.version, source or "")
    if bad:
        raise SkillStudioError(bad[0], "give the reference the bundle was pushed to (repository = skill name)")
    entry = LockEntry(res.version, res.digest, sorted(v.keyids), [source] if source else [])
    if source and source.startswith("openai:") and "@" in source:  # openai:<skill_id>@<version>
        sid, _, ver = source.removeprefix("openai:").partition("@")
        entry.openai = {"skill_id": sid, "version": ver}
    return record(workspace, res.name, entry)


def verify_lock(workspace: Path) -> list[str]:
    """Problems (empty when all is well): drifted digests, unapproved versions, routes off the lock."""
    workspace = Path(workspace)
    lock = load_lock(workspace)
    problems: list[str] = []
    by_name = {p.name: p for p in workspace_skill_dirs(workspace)}
    for name, entry in sorted(lock.items()):
        d = by_name.get(name)
        if d is None:
            problems.append(f"{name}: locked but not in the workspace")
            continue
        digest, version = workspace_digest(d)
        if version != entry.version:
            problems.append(f"{name}: version {version} is not the approved {entry.version}")
        elif digest != entry.digest:
            if workspace_digest(d, legacy=True)[0] == entry.digest:
                problems.append(f"{name}@{version}: content is unchanged, but {LOCK_NAME} holds the digest of the "
                                f"old compressed bundle format; re-approve it (`skillstudio lock`) to record "
                                f"{digest} (bundles are now stored uncompressed, the same on every zlib build)")
            else:
                problems.append(f"{name}@{version}: content differs from the approved bundle ({digest[:19]}…)")
        for source in entry.sources:
            problems += source_problems(name, entry.version, source)
    for route, (skill, version) in sorted(load_routes(workspace).items()):
        approved = lock.get(skill)
        if approved is None:
            problems.append(f"route {route}: {skill} is not in {LOCK_NAME}")
        elif version and version != approved.version:
            problems.append(f"route {route}: {skill}@{version} is not the approved {approved.version}")
    return problems


def check_bundle(workspace: Path, name: str, zip_bytes: bytes, envelope: Envelope | None,
                 trust: TrustStore | None = None) -> LockEntry:
    """Refuse a bundle whose digest or signers do not match the lock (for pinned runs)."""
    entry = load_lock(workspace).get(name)
    if entry is None:
        raise CheckFailed(f"{name} is not approved in {LOCK_NAME}", "approve it with `skillstudio lock`")
    digest = "sha256:" + hashlib.sha256(zip_bytes).hexdigest()
    if digest != entry.digest:
        raise CheckFailed(f"{name}: bundle digest {digest[:19]}… is not the approved {entry.digest[:19]}…",
                          "use the approved version")
    if entry.signers:
        if envelope is None:
            raise CheckFailed(f"{name}: the approved bundle must be signed", "give its .sig.json")
        if trust is None:
            raise CheckFailed(f"{name}: no trust store to check the approved signers", "pass the workspace trust store")
        v = attest.verify_bundle(zip_bytes, envelope, trust.public_keys())
        if v.name != name or not attest.same_version(v.version, entry.version):
            raise CheckFailed(f"{name}: the signature is for {v.name}@{v.version}, not the approved "
                              f"{name}@{entry.version}", "use the bundle the approvers signed")
        got = v.keyids
        missing = [k for k in entry.signers if k not in got]
        if missing:
            raise CheckFailed(f"{name}: not signed by the approved key(s) {', '.join(k[:16] for k in missing)}",
                              "use the bundle the approvers signed")
    return entry
