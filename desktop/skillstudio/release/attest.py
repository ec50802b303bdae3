"""What a skill signature says: an in-toto Statement v1 about one zip, inside a DSSE envelope.

The subject is the zip (name = skill name, digest = sha256 of the zip bytes), so the signature
binds every byte of the bundle. The predicate (our own type) repeats what a reviewer approves:
skill name and version, every file's sha256, the git revision it came from and who signed first.
Signing an existing envelope adds a signature (author, then approver) over the same payload.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
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


@dataclass
class BundleInfo:
    name: str
    version: str | None
    description: str
    sha256: str
    files: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Verified:
    name: str
    version: str | None
    sha256: str
    keyids: list[str]
    statement: dict[str, Any]


def read_bundle(source: Path | bytes) -> BundleInfo:
    """Name, version and per-file digests of a (safety-checked) skill zip."""
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    entries = inspect_zip(raw)
    files: list[dict[str, Any]] = []
    name, version, description = "", None, ""
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        for e in entries:
            if e.is_dir:
                continue
            data = zf.read(e.info)
            files.append({"path": e.name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
            if e.name in SKILL_MD_NAMES:
                try:
                    fm, _ = skillmd.load_front_matter(data.decode("utf-8", "replace"))
                except skillmd.FrontMatterError as exc:
                    raise CheckFailed(f"the bundle's SKILL.md is invalid: {exc}", "fix the skill and pack it again") from None
                name = str(fm.get("name") or "").strip()
                meta = fm.get("metadata")
                if isinstance(meta, dict) and meta.get("version") is not None:
                    version = str(meta["version"])
                description = str(fm.get("description") or "").strip()
    if not name:
        raise CheckFailed("the bundle's SKILL.md has no name", "set `name` in the front matter and pack again")
    return BundleInfo(name, version, description, hashlib.sha256(raw).hexdigest(), files)


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


def build_statement(bundle: BundleInfo, *, signer: keys.KeyInfo | None = None,
                    source_dir: Path | None = None) -> dict[str, Any]:
    predicate: dict[str, Any] = {
        "skill": {"name": bundle.name, "version": bundle.version, "description": bundle.description},
        "files": bundle.files,
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
        statement = build_statement(bundle, signer=keys.current(key_name), source_dir=source_dir)
        env = Envelope(payload=json.dumps(statement, sort_keys=True, separators=(",", ":")).encode())
    kid = env.sign(private)
    atomic_write(out, env.to_json())
    return out, env, kid


def verify_bundle(zip_source: Path | bytes, env: Envelope, public_keys: dict[str, crypto.PublicKey]) -> Verified:
    """Check that `env` signs exactly these zip bytes with at least one of `public_keys`."""
    raw = zip_source if isinstance(zip_source, bytes) else Path(zip_source).read_bytes()
    st = parse_statement(env)
    ok = env.verified_keyids(public_keys)
    if not ok:
        signers = sorted({str(sig.get("keyid", "")) for sig in env.signatures} - {""})
        if signers and not set(signers) & set(public_keys):
            # nothing was tampered with as far as we can tell: the signer is simply not one we trust
            raise CheckFailed(f"signed by key {', '.join(k[:16] for k in signers)}, which is not among the "
                              "trusted keys given",
                              "add its public key to the trust store (`skillstudio trust add`) or pass it as --pubkey")
        raise CheckFailed("no valid signature by the given public key",
                          "the bundle or its signature was altered, or it was signed with another key")
    digest = hashlib.sha256(raw).hexdigest()
    if subject_sha256(st) != digest:
        raise CheckFailed("the signature is for a different bundle (digest mismatch)",
                          "the zip was altered after signing; do not use it")
    pred: dict[str, Any] = st["predicate"] if isinstance(st.get("predicate"), dict) else {}
    skill: dict[str, Any] = pred["skill"] if isinstance(pred.get("skill"), dict) else {}
    return Verified(name=str(st["subject"][0].get("name") or skill.get("name") or ""),
                    version=skill.get("version"), sha256=digest, keyids=ok, statement=st)
