"""Skill bundles as OCI artifacts, with their DSSE signature attached as a referrer.

Push: config blob (`application/vnd.skillstudio.skill.config.v1+json`), one layer (the zip,
`application/vnd.skillstudio.skill.v1+zip`), an image manifest with OCI annotations, tagged; then a
signature manifest whose `subject` is the bundle manifest. Registries with the Referrers API index
it themselves (they answer with an `OCI-Subject` header); for the others (Distribution 2.8) we
maintain the OCI 1.1 tag-schema fallback: tag `sha256-<hex>` → an index of the referrers.
Pull: resolve the tag, find the signatures, download and verify everything in memory, and only then
extract — a missing or bad signature leaves nothing on disk.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from skillstudio.cancel import CancelToken
from skillstudio.errors import CheckFailed, SkillStudioError
from skillstudio.release import attest, crypto
from skillstudio.release.attest import BundleInfo, Verified
from skillstudio.release.dsse import Envelope
from skillstudio.release.layout import LayoutRef, LayoutStore, parse_layout_ref
from skillstudio.release.registry import (
    MANIFEST,
    OciRef,
    Progress,
    RegistryClient,
    descriptor,
    parse_ref,
    sha256_digest,
)
from skillstudio.release.trust import TrustStore
from skillstudio.release.unpack import MAX_ZIP_BYTES, extract_zip, inspect_zip

CONFIG_TYPE = "application/vnd.skillstudio.skill.config.v1+json"
LAYER_TYPE = "application/vnd.skillstudio.skill.v1+zip"
SIGNATURE_TYPE = "application/vnd.dsse.envelope.v1+json"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY = b"{}"
ANN = "org.opencontainers.image"


class Store(Protocol):
    """What push/pull need from a target: a registry (RegistryClient) or a layout folder (LayoutStore)."""

    def __enter__(self) -> Store: ...
    def __exit__(self, *exc: object) -> None: ...
    def push_blob(self, data: bytes, digest: str | None = None, *, progress: Progress | None = None,
                  cancel: CancelToken | None = None) -> str: ...
    def get_blob(self, digest: str, max_bytes: int, *, progress: Progress | None = None,
                 cancel: CancelToken | None = None) -> bytes: ...
    def tags(self) -> list[str]: ...
    def put_manifest(self, reference: str, body: bytes, media_type: str) -> Any: ...
    def get_manifest(self, reference: str, accept: tuple[str, ...] = ...) -> tuple[bytes, str, str] | None: ...
    def referrers(self, digest: str, artifact_type: str | None = None) -> list[dict[str, Any]]: ...
    def put_referrer(self, subject: str, body: bytes, desc: dict[str, Any]) -> bool: ...


Target = OciRef | LayoutRef


def parse_target(ref: str) -> Target:
    """`oci://host[:port]/repo:tag` (a registry) or `oci-layout:PATH[:tag]` (a local folder)."""
    if ref.startswith("oci-layout:"):
        return parse_layout_ref(ref)
    if ref.startswith("oci://"):
        return parse_ref(ref)
    raise SkillStudioError(f"unknown target {ref!r}",
                           "use oci://host[:port]/repo:tag, oci-layout:PATH[:tag] or openai:")


def open_store(target: Target, *, plain_http: bool = False, credentials: tuple[str, str] | None = None,
               create: bool = False) -> Store:
    if isinstance(target, LayoutRef):
        return LayoutStore(target, create=create)
    return RegistryClient(target, plain_http=plain_http, credentials=credentials)


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class PushResult:
    ref: Target
    manifest_digest: str
    signature_digest: str
    zip_digest: str
    referrers_api: bool


@dataclass
class PullResult:
    ref: Target
    manifest_digest: str
    dest: Path
    verified: Verified
    signatures: int
    trusted_roles: list[str] = field(default_factory=list)
    note: str | None = None  # e.g. which version a non-version tag (`latest`) was signed as


def repository_name(ref: Target) -> str | None:
    """The skill name a reference promises: its repository's last path component.

    A layout folder holds one unnamed repository (whoever can write it can write anything the user
    can), so only its tag binds.
    """
    return ref.repo.rsplit("/", 1)[-1] if isinstance(ref, OciRef) else None


def check_binding(verified: Verified, ref: Target) -> str | None:
    """attest.check_reference for a push/pull target."""
    return attest.check_reference(verified, repository_name(ref), ref.tag if not ref.digest else None, str(ref))


def bundle_manifest(bundle: BundleInfo, zip_bytes: bytes, config: bytes,
                    revision: str | None = None) -> dict[str, Any]:
    ann = {f"{ANN}.title": bundle.name, f"{ANN}.description": bundle.description[:1024],
           "dev.skillstudio.skill.name": bundle.name, "dev.skillstudio.skill.digest": f"sha256:{bundle.sha256}"}
    if bundle.version:
        ann[f"{ANN}.version"] = bundle.version
    if revision:
        ann[f"{ANN}.revision"] = revision
    fname = f"{bundle.name}-{bundle.version}.zip" if bundle.version else f"{bundle.name}.zip"
    return {"schemaVersion": 2, "mediaType": MANIFEST,
            "config": descriptor(CONFIG_TYPE, config),
            "layers": [descriptor(LAYER_TYPE, zip_bytes, digest=f"sha256:{bundle.sha256}",
                                  annotations={f"{ANN}.title": fname})],
            "annotations": {k: v for k, v in ann.items() if v}}


@dataclass
class PushPlan:
    """Exactly what a push will upload (shown to the user for review before anything is sent)."""

    bundle: BundleInfo
    config: bytes
    manifest: dict[str, Any]


def plan_push(zip_bytes: bytes, envelope: Envelope) -> PushPlan:
    """Check that `envelope` signs `zip_bytes` and build the config and manifest a push will send."""
    zip_hex = hashlib.sha256(zip_bytes).hexdigest()
    statement = attest.parse_statement(envelope)
    if attest.subject_sha256(statement) != zip_hex:
        raise SkillStudioError("the signature does not sign this zip", "sign the zip again before pushing")
    pred: dict[str, Any] = statement["predicate"] if isinstance(statement.get("predicate"), dict) else {}
    skill: dict[str, Any] | None = pred["skill"] if isinstance(pred.get("skill"), dict) else None
    if skill and skill.get("name") and isinstance(pred.get("files"), list):  # our statement: no re-read
        inspect_zip(zip_bytes)
        bundle = BundleInfo(str(skill["name"]), skill.get("version"), str(skill.get("description") or ""),
                            zip_hex, pred["files"])
    else:
        bundle = attest.read_bundle(zip_bytes)
    if not attest.is_valid_skill_name(bundle.name):
        raise SkillStudioError(f"the bundle's skill name {bundle.name[:80]!r} is not a valid skill name",
                               "fix the skill (`skillstudio validate`), pack and sign it again")
    source = pred.get("source")
    revision = source.get("revision") if isinstance(source, dict) else None
    config = _canonical({"name": bundle.name, "version": bundle.version, "description": bundle.description,
                         "files": len(bundle.files), "predicateType": attest.PREDICATE_TYPE})
    return PushPlan(bundle, config, bundle_manifest(bundle, zip_bytes, config, revision))


def push_bundle(zip_path: Path, envelope: Envelope, ref: Target, *, plain_http: bool = False,
                credentials: tuple[str, str] | None = None, cancel: CancelToken | None = None,
                progress: Callable[[str], None] | None = None,
                upload_progress: Progress | None = None) -> PushResult:
    """Push bundle + signature referrer. `progress` gets one line per step, `upload_progress(done, total)`
    the zip upload's bytes (both called on this thread). Cancelling stops the upload and nothing is
    tagged: the tag is written only after every blob is in."""
    say = progress or (lambda _msg: None)
    zip_bytes = Path(zip_path).read_bytes()
    plan = plan_push(zip_bytes, envelope)
    bundle, config = plan.bundle, plan.config
    if ref.digest:
        raise SkillStudioError("push needs a tag, not a digest", "write the reference with :TAG")
    tag = ref.tag or bundle.version or "latest"
    ref = dataclasses.replace(ref, tag=tag)
    try:  # never publish what `pull` of this reference would refuse
        check_binding(Verified(bundle.name, bundle.version, bundle.sha256, [], {}), ref)
    except CheckFailed as exc:
        raise SkillStudioError(exc.message.replace("nothing was written", "").rstrip("; "),
                               "push to a repository named after the skill, tagged with its version") from None
    with open_store(ref, plain_http=plain_http, credentials=credentials, create=True) as reg:
        say("uploading the bundle config")
        reg.push_blob(config)
        if cancel:
            cancel.raise_if_cancelled()
        say(f"uploading the bundle ({len(zip_bytes)} bytes)")
        reg.push_blob(zip_bytes, f"sha256:{bundle.sha256}", progress=upload_progress, cancel=cancel)
        if cancel:
            cancel.raise_if_cancelled()
        say("pushing the manifest and the signature")
        manifest = _canonical(plan.manifest)
        reg.put_manifest(tag, manifest, MANIFEST)
        m_desc = descriptor(MANIFEST, manifest)
        existing = _same_signature(reg, m_desc["digest"], bundle.sha256, envelope)
        if existing is not None:  # pushing the same bundle again: its signature is already attached
            return PushResult(ref, m_desc["digest"], existing, f"sha256:{bundle.sha256}", False)
        env_bytes = envelope.to_json()
        reg.push_blob(EMPTY)
        reg.push_blob(env_bytes)
        keyids = ",".join(s["keyid"] for s in envelope.signatures)
        sig_manifest = _canonical({
            "schemaVersion": 2, "mediaType": MANIFEST, "artifactType": SIGNATURE_TYPE,
            "config": descriptor(EMPTY_TYPE, EMPTY),
            "layers": [descriptor(SIGNATURE_TYPE, env_bytes)],
            "subject": m_desc,
            "annotations": {"dev.skillstudio.signature.keyids": keyids},
        })
        sig_digest = sha256_digest(sig_manifest)
        api = reg.put_referrer(m_desc["digest"], sig_manifest, descriptor(
            MANIFEST, sig_manifest, artifactType=SIGNATURE_TYPE,
            annotations={"dev.skillstudio.signature.keyids": keyids}))
    return PushResult(ref, m_desc["digest"], sig_digest, f"sha256:{bundle.sha256}", api)


def _same_signature(reg: Store, subject: str, zip_hex: str, envelope: Envelope) -> str | None:
    """The digest of a referrer that already holds valid signatures by all of `envelope`'s signers over
    a release statement of this zip, if any. Why: a signed statement carries its signing time, so a
    re-push of unchanged content would otherwise add one referrer per push."""
    from skillstudio.release import keys

    wanted = {s["keyid"] for s in envelope.signatures}
    try:
        known = {k: v for k, v in keys.known_public_keys().items() if k in wanted}
    except SkillStudioError:
        return None  # an unreadable key index: push a new referrer, as before
    if not wanted or set(known) != wanted:
        return None
    for digest, env in _signature_referrers(reg, subject):
        try:
            st = attest.parse_statement(env)
        except CheckFailed:
            continue
        if st.get("predicateType") == attest.PREDICATE_TYPE and attest.subject_sha256(st) == zip_hex \
                and wanted <= set(env.verified_keyids(known)):
            return digest
    return None


def _signature_envelopes(reg: Store, subject: str) -> list[Envelope]:
    return [env for _, env in _signature_referrers(reg, subject)]


def _signature_referrers(reg: Store, subject: str) -> list[tuple[str, Envelope]]:
    """(signature manifest digest, envelope) of every DSSE referrer of `subject`."""
    refs = reg.referrers(subject, SIGNATURE_TYPE)
    out: list[tuple[str, Envelope]] = []
    for d in refs:
        if d.get("artifactType") not in (SIGNATURE_TYPE, None) or not isinstance(d.get("digest"), str):
            continue
        got = reg.get_manifest(d["digest"], (MANIFEST,))
        if got is None:
            continue
        try:
            m = json.loads(got[0])
        except ValueError:
            continue
        if (m.get("subject") or {}).get("digest") != subject:
            continue  # a referrer copied from another manifest: not about this one
        for layer in m.get("layers") or []:
            if isinstance(layer, dict) and layer.get("mediaType") == SIGNATURE_TYPE and layer.get("size", 0) <= 1 << 20:
                try:
                    out.append((d["digest"], Envelope.from_json(reg.get_blob(layer["digest"], 1 << 20),
                                                                "signature referrer")))
                except CheckFailed:
                    continue
    return out


def pull_bundle(ref: Target, dest: Path, public_keys: dict[str, crypto.PublicKey], *,
                trust: TrustStore | None = None, require_roles: list[str] | None = None,
                plain_http: bool = False, credentials: tuple[str, str] | None = None,
                cancel: CancelToken | None = None, progress: Callable[[str], None] | None = None,
                download_progress: Progress | None = None) -> PullResult:
    """Verify, then extract into `dest`. Raises CheckFailed (nothing written) when anything is off."""
    say = progress or (lambda _msg: None)
    say(f"resolving {ref}")
    with open_store(ref, plain_http=plain_http, credentials=credentials) as reg:
        got = reg.get_manifest(ref.reference, (MANIFEST,))
        if got is None:
            raise SkillStudioError(f"{ref} does not exist", "check the repository and tag")
        raw, _, m_digest = got
        try:
            manifest = json.loads(raw)
        except ValueError:
            raise CheckFailed(f"{ref} has an unreadable manifest", "nothing was written") from None
        layers = manifest.get("layers") or []
        if (manifest.get("config") or {}).get("mediaType") != CONFIG_TYPE or len(layers) != 1 \
                or layers[0].get("mediaType") != LAYER_TYPE:
            raise CheckFailed(f"{ref} is not a Skill Studio bundle", "pull a reference pushed by `skillstudio push`")
        if int(layers[0].get("size", 0)) > MAX_ZIP_BYTES:
            raise CheckFailed(f"{ref} is larger than {MAX_ZIP_BYTES // 2**20} MB", "nothing was written")
        say("fetching signatures")
        envelopes = _signature_envelopes(reg, m_digest)
        if not envelopes:
            raise CheckFailed(f"{ref} is not signed (no signature referrer)",
                              "ask the publisher to push it signed; nothing was written")
        if cancel:
            cancel.raise_if_cancelled()
        say(f"downloading the bundle ({layers[0].get('size', '?')} bytes)")
        zip_bytes = reg.get_blob(layers[0]["digest"], MAX_ZIP_BYTES, progress=download_progress, cancel=cancel)
    say("verifying signatures")
    keys = dict(public_keys)
    if trust is not None:
        keys.update(trust.public_keys())
    verified: Verified | None = None
    keyids: list[str] = []
    refused: attest.NotARelease | None = None
    for env in envelopes:
        try:
            v = attest.verify_bundle(zip_bytes, env, keys)
        except attest.NotARelease as exc:
            refused = refused or exc
            continue
        except CheckFailed:
            continue
        check_binding(v, ref)  # every valid release signature must be about this name and version
        verified = verified or v
        keyids += [k for k in v.keyids if k not in keyids]
    if verified is None:
        if refused is not None:
            raise CheckFailed(f"{ref}: {refused.message}", refused.hint)
        raise CheckFailed(f"{ref}: no valid signature by the given key",
                          "the bundle was altered or signed by someone else; nothing was written")
    note = check_binding(verified, ref)
    if public_keys and not any(k in public_keys for k in keyids):
        raise CheckFailed(f"{ref}: not signed by the given key",
                          "the bundle was signed by someone else; nothing was written")
    verified.keyids = keyids
    roles: list[str] = []
    if trust is not None:
        trust.check_policy(keyids, require_roles)
        roles = sorted(trust.roles_of(keyids))
    inspect_zip(zip_bytes)
    if cancel:
        cancel.raise_if_cancelled()
    dest = Path(dest)
    if dest.is_dir() and any(dest.iterdir()):
        if any((dest / n).exists() for n in ("SKILL.md", "skill.md")):
            raise SkillStudioError(f"{dest} already holds a skill", "pull into a new folder or a workspace folder")
        dest = dest / verified.name  # a workspace: the skill goes into its own folder
    say(f"writing {dest}")
    extract_zip(zip_bytes, dest)
    return PullResult(ref, m_digest, dest, verified, len(envelopes), roles, note)


def copy_bundle(src: Target, dst: Target, *, plain_http: bool = False) -> tuple[str, int]:
    """Copy a bundle and its signature referrers between targets (e.g. a layout folder to a registry).

    Bytes are copied unchanged, so digests and signatures stay valid; nothing is verified here —
    `pull` verifies. Returns (manifest digest, number of referrers copied).
    """
    if dst.digest:
        raise SkillStudioError("the destination needs a tag, not a digest", "write the destination with :TAG")
    with open_store(src, plain_http=plain_http) as a, open_store(dst, plain_http=plain_http, create=True) as b:
        got = a.get_manifest(src.reference, (MANIFEST,))
        if got is None:
            raise SkillStudioError(f"{src} does not exist", "check the source reference")
        raw, _, digest = got
        m = json.loads(raw)
        for d in [m.get("config") or {}, *(m.get("layers") or [])]:
            b.push_blob(a.get_blob(str(d.get("digest")), MAX_ZIP_BYTES))
        b.put_manifest(dst.tag or src.tag or "latest", raw, MANIFEST)
        copied = 0
        for r in a.referrers(digest, SIGNATURE_TYPE):
            rgot = a.get_manifest(str(r.get("digest")), (MANIFEST,))
            if rgot is None:
                continue
            rm = json.loads(rgot[0])
            for d in [rm.get("config") or {}, *(rm.get("layers") or [])]:
                b.push_blob(a.get_blob(str(d.get("digest")), 1 << 20))
            b.put_referrer(digest, rgot[0], descriptor(MANIFEST, rgot[0], artifactType=SIGNATURE_TYPE,
                                                       annotations=r.get("annotations")))
            copied += 1
    return digest, copied


def approve(ref: Target, key_name: str, *, plain_http: bool = False,
            credentials: tuple[str, str] | None = None) -> tuple[str, int]:
    """Add `key_name`'s signature to a published bundle (the approver's step), as one more referrer.

    The new envelope keeps the author's statement and signatures and adds ours, so one referrer
    carries author + approver. The zip is fetched and its digest checked against the statement first.
    Returns (manifest digest, signatures on the new envelope).
    """
    from skillstudio.release import keys

    private = keys.load_private(key_name)
    with open_store(ref, plain_http=plain_http, credentials=credentials) as reg:
        got = reg.get_manifest(ref.reference, (MANIFEST,))
        if got is None:
            raise SkillStudioError(f"{ref} does not exist", "check the repository and tag")
        raw, _, m_digest = got
        layers = json.loads(raw).get("layers") or []
        if len(layers) != 1 or layers[0].get("mediaType") != LAYER_TYPE:
            raise CheckFailed(f"{ref} is not a Skill Studio bundle", "approve a reference pushed by `skillstudio push`")
        zip_bytes = reg.get_blob(layers[0]["digest"], MAX_ZIP_BYTES)
        zip_hex = sha256_digest(zip_bytes).split(":", 1)[1]
        base = None
        for env in _signature_envelopes(reg, m_digest):
            try:
                if attest.subject_sha256(attest.parse_statement(env)) == zip_hex:
                    base = env if base is None or len(env.signatures) > len(base.signatures) else base
            except CheckFailed:
                continue
        if base is None:
            raise CheckFailed(f"{ref} has no signature to approve", "the author must push it signed first")
        st = attest.parse_statement(base)
        pred: dict[str, Any] = st["predicate"] if isinstance(st.get("predicate"), dict) else {}
        skill: dict[str, Any] = pred["skill"] if isinstance(pred.get("skill"), dict) else {}
        if st.get("predicateType") != attest.PREDICATE_TYPE \
                or not attest.is_valid_skill_name(st["subject"][0].get("name")):
            raise CheckFailed(f"{ref}: the signed statement is not a Skill Studio release of a valid skill",
                              "approve only bundles pushed by `skillstudio push`")
        check_binding(Verified(str(st["subject"][0]["name"]), skill.get("version"), zip_hex, [], st), ref)
        base.sign(private)
        env_bytes = base.to_json()
        reg.push_blob(EMPTY)
        reg.push_blob(env_bytes)
        keyids = ",".join(s["keyid"] for s in base.signatures)
        sig_manifest = _canonical({
            "schemaVersion": 2, "mediaType": MANIFEST, "artifactType": SIGNATURE_TYPE,
            "config": descriptor(EMPTY_TYPE, EMPTY), "layers": [descriptor(SIGNATURE_TYPE, env_bytes)],
            "subject": descriptor(MANIFEST, raw), "annotations": {"dev.skillstudio.signature.keyids": keyids}})
        reg.put_referrer(m_digest, sig_manifest, descriptor(MANIFEST, sig_manifest, artifactType=SIGNATURE_TYPE,
                                                            annotations={"dev.skillstudio.signature.keyids": keyids}))
    return m_digest, len(base.signatures)
