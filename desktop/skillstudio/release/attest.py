"""What a skill signature says: an in-toto Statement v1 about one zip, inside a DSSE envelope.

The subject is the zip (name = skill name, digest = sha256 of the zip bytes), so the signature
binds every byte of the bundle. The predicate (our own type) repeats what a reviewer approves:
skill name and version, every file's sha256, the git revision it came from and who signed first.
Signing an existing envelope adds a signature (author, then approver) over the same payload.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import re
import shutil
import subprocess
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstudio.bundle import skillmd
from skillstudio.bundle.fileio import atomic_write
from skillstudio.bundle.model import SKILL_MD_NAMES
from skillstudio.errors import CheckFailed, SkillStudioError
from skillstudio.release import crypto, keys
from skillstudio.release.dsse import INTOTO_PAYLOAD_TYPE, Envelope
from skillstudio.release.unpack import inspect_zip

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://skillstudio.dev/skill-release/v1"
MAX_SKILL_NAME = 64
_SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


def is_valid_skill_name(name: object) -> bool:
    """The Agent Skills rule (lower-case letters, digits, single inner hyphens, <= 64 characters).

    Why here: a signed name becomes a folder name on pull, so it must never hold a separator, a dot
    segment or anything the spec (and so `validate`) would refuse.
    """
    if not isinstance(name, str) or not name or len(name) > MAX_SKILL_NAME:
        return False
    if unicodedata.normalize("NFKC", name) != name or name != name.lower():
        return False
    if name.startswith("-") or name.endswith("-") or "--" in name:
        return False
    return all(c.isalnum() or c == "-" for c in name)


def is_semver(text: str | None) -> bool:
    return bool(text) and _SEMVER.match(str(text)) is not None


def same_version(a: str | None, b: str | None) -> bool:
    """1.2.0 == v1.2.0 (tags often carry the v); otherwise exact."""
    return a is not None and b is not None and str(a).removeprefix("v") == str(b).removeprefix("v")


class NotARelease(CheckFailed):
    """A statement that is not a release of a valid skill (another predicate type, a name that is a path)."""


@dataclass
class BundleInfo:
    name: str
    version: str | None
    description: str
    sha256: str
    files: list[dict[str, Any]] = field(default_factory=list)
    skill_md: str = ""  # the SKILL.md text, for validation before signing


@dataclass
class Verified:
    name: str
    version: str | None
    sha256: str
    keyids: list[str]
    statement: dict[str, Any]

    @property
    def signed_at(self) -> str | None:
        pred = self.statement.get("predicate")
        value = pred.get("timestamp") if isinstance(pred, dict) else None
        return str(value) if value else None


def read_bundle(source: Path | bytes) -> BundleInfo:
    """Name, version and per-file digests of a (safety-checked) skill zip."""
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    entries = inspect_zip(raw)
    files: list[dict[str, Any]] = []
    name, version, description, text = "", None, "", ""
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        for e in entries:
            if e.is_dir:
                continue
            data = zf.read(e.info)
            files.append({"path": e.name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
            if e.name in SKILL_MD_NAMES:
                text = data.decode("utf-8", "replace")
                try:
                    fm, _ = skillmd.load_front_matter(text)
                except skillmd.FrontMatterError as exc:
                    raise CheckFailed(f"the bundle's SKILL.md is invalid: {exc}",
                                      "fix the skill and pack it again") from None
                name = str(fm.get("name") or "").strip()
                meta = fm.get("metadata")
                if isinstance(meta, dict) and meta.get("version") is not None:
                    version = str(meta["version"])
                description = str(fm.get("description") or "").strip()
    if not name:
        raise CheckFailed("the bundle's SKILL.md has no name", "set `name` in the front matter and pack again")
    return BundleInfo(name, version, description, hashlib.sha256(raw).hexdigest(), files, text)


def git_revision(folder: Path) -> dict[str, Any] | None:
    """The commit a skill folder is at (and whether it has uncommitted changes), if it is in git."""
    if shutil.which("git") is None or not Path(folder).is_dir():
        return None
    try:
        rev = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=False)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(folder), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return {"revision": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}


def check_signable(bundle: BundleInfo) -> None:
    """Refuse to sign what pull would refuse: a name that is not a skill name, a version that is not semver."""
    if not is_valid_skill_name(bundle.name):
        raise SkillStudioError(f"the bundle's skill name {bundle.name!r} is not a valid skill name",
                               "use lower-case letters, digits and single hyphens (run `skillstudio validate`)")
    if bundle.version is not None and not is_semver(bundle.version):
        raise SkillStudioError(f"the bundle's metadata.version {bundle.version!r} is not a semver version",
                               "set metadata.version to e.g. \"1.2.0\" and pack again")
    if bundle.skill_md:
        from skillstudio.bundle.specparse import read_front_matter
        from skillstudio.bundle.validate import spec_problems

        errors = [p for p in spec_problems(read_front_matter(bundle.skill_md), bundle.name) if p.severity == "error"]
        if errors:
            raise SkillStudioError(f"the bundle's SKILL.md is not valid: {errors[0]}",
                                   "fix the skill (`skillstudio validate`), pack and sign it again")


def build_statement(bundle: BundleInfo, *, signer: keys.KeyInfo | None = None,
                    source_dir: Path | None = None, now: datetime.datetime | None = None) -> dict[str, Any]:
    """The in-toto statement; `timestamp` (RFC 3339, UTC) is when the first signature was made."""
    when = (now or datetime.datetime.now(datetime.UTC)).astimezone(datetime.UTC)
    predicate: dict[str, Any] = {
        "skill": {"name": bundle.name, "version": bundle.version, "description": bundle.description},
        "files": bundle.files,
        "timestamp": when.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    src = git_revision(source_dir) if source_dir else None
    if src:
        predicate["source"] = src
    if signer:
        predicate["signer"] = {"keyid": signer.keyid, "name": signer.name, "algorithm": signer.algorithm}
    return {"_type": STATEMENT_TYPE,
            "subject": [{"name": bundle.name, "digest": {"sha256": bundle.sha256}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": predicate}


def parse_statement(env: Envelope) -> dict[str, Any]:
    if env.payload_type != INTOTO_PAYLOAD_TYPE:
        raise CheckFailed(f"signature payload type is {env.payload_type!r}, not an in-toto statement",
                          "give the .sig.json written by `skillstudio sign`")
    try:
        st = json.loads(env.payload)
    except ValueError:
        raise CheckFailed("signed payload is not JSON", "the signature file is corrupt; sign again") from None
    subj = st.get("subject") if isinstance(st, dict) else None
    if not isinstance(st, dict) or st.get("_type") != STATEMENT_TYPE or not isinstance(subj, list) or len(subj) != 1 \
            or not isinstance(subj[0], dict) or not isinstance(subj[0].get("digest"), dict):
        raise CheckFailed("signed payload is not an in-toto Statement v1 with one subject",
                          "the signature file is not one of ours; sign again")
    return st


def subject_sha256(statement: dict[str, Any]) -> str:
    return str(statement["subject"][0]["digest"].get("sha256", ""))


def sign_bundle(zip_path: Path, key_name: str, out: Path | None = None, *,
                source_dir: Path | None = None) -> tuple[Path, Envelope, str]:
    """Sign a zip (new envelope) or add a signature to `out` if it already signs this zip.

    An explicit `out` that signs another bundle is refused (it may hold an approver's signature);
    the default `FILE.zip.sig.json` left over from an earlier pack of FILE.zip is replaced.
    """
    explicit = out is not None
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise SkillStudioError(f"{zip_path} does not exist", "pack the skill first: `skillstudio pack DIR -o FILE.zip`")
    out = Path(out) if out else zip_path.with_name(zip_path.name + ".sig.json")
    private = keys.load_private(key_name)
    raw = zip_path.read_bytes()
    env: Envelope | None = None
    if out.exists():
        env = Envelope.from_json(out.read_bytes(), str(out))
        st = parse_statement(env)
        if subject_sha256(st) != hashlib.sha256(raw).hexdigest():
            if explicit:
                raise SkillStudioError(f"{out} signs a different bundle",
                                       "choose another -o or delete the old signature")
            env = None  # stale signature of an earlier FILE.zip: start a new envelope
    if env is None:
        bundle = read_bundle(raw)
        check_signable(bundle)
        statement = build_statement(bundle, signer=keys.current(key_name), source_dir=source_dir)
        env = Envelope(payload=json.dumps(statement, sort_keys=True, separators=(",", ":")).encode())
    kid = env.sign(private)
    atomic_write(out, env.to_json())
    return out, env, kid


def verify_bundle(zip_source: Path | bytes, env: Envelope, public_keys: dict[str, crypto.PublicKey]) -> Verified:
    """Check that `env` signs exactly these zip bytes with at least one of `public_keys`."""
    raw = zip_source if isinstance(zip_source, bytes) else Path(zip_source).read_bytes()
    st = parse_statement(env)
    if st.get("predicateType") != PREDICATE_TYPE:
        # a valid signature over some other statement (provenance, SBOM, ...) is not a release approval
        raise NotARelease(f"the signed statement is not a Skill Studio release (predicate type "
                          f"{str(st.get('predicateType'))[:80]!r})",
                          f"only {PREDICATE_TYPE} statements count; sign the bundle with `skillstudio sign`")
    ok = env.verified_keyids(public_keys)
    if not ok:
        signers = sorted({str(sig.get("keyid", "")) for sig in env.signatures} - {""})
        if signers and not set(signers) & set(public_keys):
            # nothing was tampered with as far as we can tell: the signer is simply not one we trust
            raise CheckFailed(f"signed by key {', '.join(k[:16] for k in signers)}, which is not among the "
                              "trusted keys given",
                              "add its public key to the trust store (`skillstudio trust add`) "
                              "or give it as a public key",
                              setting="pubkey")
        raise CheckFailed("no valid signature by the given public key",
                          "the bundle or its signature was altered, or it was signed with another key")
    digest = hashlib.sha256(raw).hexdigest()
    if subject_sha256(st) != digest:
        raise CheckFailed("the signature is for a different bundle (digest mismatch)",
                          "the zip was altered after signing; do not use it")
    pred: dict[str, Any] = st["predicate"] if isinstance(st.get("predicate"), dict) else {}
    skill: dict[str, Any] = pred["skill"] if isinstance(pred.get("skill"), dict) else {}
    name = st["subject"][0].get("name")
    if skill.get("name") is not None and skill.get("name") != name:
        raise NotARelease(f"the statement names two skills ({str(name)[:64]!r} and {str(skill.get('name'))[:64]!r})",
                          "the signature is inconsistent; do not use the bundle")
    if not is_valid_skill_name(name):
        raise NotARelease(f"the signed skill name {str(name)[:80]!r} is not a valid skill name",
                          "refusing it (it would be used as a folder name); nothing was written")
    version = skill.get("version")
    if version is not None and not isinstance(version, str):
        raise CheckFailed("the signed version is not a string", "the signature is not one of ours")
    return Verified(name=str(name), version=version, sha256=digest, keyids=ok, statement=st)


def check_reference(verified: Verified, repository: str | None, tag: str | None, what: str) -> str | None:
    """Refuse a bundle served under a name or semver tag it was not signed for.

    Why: anyone with write access to a registry (no key needed) can copy a signed manifest and its
    signature to another repository or tag. The signature stays valid; only this check notices that
    `crm-query:1.1.0` is really `support-reply@1.0.0`, or an older `crm-query@1.0.0` (a rollback).
    `repository` is the reference's last path component. Returns a note for a non-semver tag
    (`latest`): which version was signed.
    """
    if repository is not None and repository != verified.name:
        raise CheckFailed(f"{what}: signed as skill {verified.name!r}, not {repository!r} (the repository name)",
                          "the registry serves another skill under this name; nothing was written")
    if tag is None:
        return None
    if is_semver(tag):
        if not same_version(tag, verified.version):
            raise CheckFailed(f"{what}: tag {tag} but the signed version is {verified.version or 'none'} "
                              "(a rollback or a moved tag?)", "nothing was written; pull the tag of the signed "
                              "version or ask the publisher")
        return None
    return f"tag {tag!r} is not a version: the signed version is {verified.version or 'not set'}"
