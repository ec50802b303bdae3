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

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstudio.cancel import CancelToken
from skillstudio.errors import CheckFailed, SkillStudioError
from skillstudio.release import attest, crypto
from skillstudio.release.attest import BundleInfo, Verified
from skillstudio.release.dsse import Envelope
from skillstudio.release.registry import INDEX, MANIFEST, OciRef, RegistryClient, descriptor, sha256_digest
from skillstudio.release.trust import TrustStore
from skillstudio.release.unpack import MAX_ZIP_BYTES, extract_zip, inspect_zip

CONFIG_TYPE = "application/vnd.skillstudio.skill.config.v1+json"
LAYER_TYPE = "application/vnd.skillstudio.skill.v1+zip"
SIGNATURE_TYPE = "application/vnd.dsse.envelope.v1+json"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY = b"{}"
ANN = "org.opencontainers.image"


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class PushResult:
    ref: OciRef
    manifest_digest: str
    signature_digest: str
    zip_digest: str
    referrers_api: bool


@dataclass
class PullResult:
    ref: OciRef
    manifest_digest: str
    dest: Path
    verified: Verified
    signatures: int
    trusted_roles: list[str] = field(default_factory=list)


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
            "layers": [descriptor(LAYER_TYPE, zip_bytes, annotations={f"{ANN}.title": fname})],
            "annotations": {k: v for k, v in ann.items() if v}}


def push_bundle(zip_path: Path, envelope: Envelope, ref: OciRef, *, plain_http: bool = False,
                credentials: tuple[str, str] | None = None, cancel: CancelToken | None = None) -> PushResult:
    zip_bytes = Path(zip_path).read_bytes()
    bundle = attest.read_bundle(zip_bytes)
    statement = attest.parse_statement(envelope)
    if attest.subject_sha256(statement) != bundle.sha256:
        raise SkillStudioError("the signature does not sign this zip", "sign the zip again before pushing")
    pred = statement.get("predicate") or {}
    revision = (pred.get("source") or {}).get("revision") if isinstance(pred, dict) else None
    config = _canonical({"name": bundle.name, "version": bundle.version, "description": bundle.description,
                         "files": len(bundle.files), "predicateType": attest.PREDICATE_TYPE})
    if ref.digest:
        raise SkillStudioError("push needs a tag, not a digest", "write the reference as oci://host/repo:TAG")
    tag = ref.tag or bundle.version or "latest"
    ref = OciRef(ref.host, ref.repo, tag)
    with RegistryClient(ref, plain_http=plain_http, credentials=credentials) as reg:
        for blob in (config, zip_bytes):
            if cancel:
                cancel.raise_if_cancelled()
            reg.push_blob(blob)
        manifest = _canonical(bundle_manifest(bundle, zip_bytes, config, revision))
        reg.put_manifest(tag, manifest, MANIFEST)
        m_desc = descriptor(MANIFEST, manifest)
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
        r = reg.put_manifest(sig_digest, sig_manifest, MANIFEST)
        api = bool(r.headers.get("OCI-Subject"))
        if not api:
            _add_to_fallback_index(reg, m_desc["digest"], descriptor(
                MANIFEST, sig_manifest, artifactType=SIGNATURE_TYPE,
                annotations={"dev.skillstudio.signature.keyids": keyids}))
    return PushResult(ref, m_desc["digest"], sig_digest, f"sha256:{bundle.sha256}", api)


def _add_to_fallback_index(reg: RegistryClient, subject: str, desc: dict[str, Any]) -> None:
    tag = reg.fallback_tag(subject)
    existing = reg.get_manifest(tag, (INDEX,))
    manifests: list[dict[str, Any]] = []
    if existing is not None:
        try:
            old = json.loads(existing[0])
            manifests = [m for m in old.get("manifests") or [] if isinstance(m, dict)]
        except ValueError:
            manifests = []
    if any(m.get("digest") == desc["digest"] for m in manifests):
        return
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests + [desc]}
    reg.put_manifest(tag, _canonical(index), INDEX)


def _signature_envelopes(reg: RegistryClient, subject: str) -> list[Envelope]:
    refs = reg.referrers(subject, SIGNATURE_TYPE)
    if refs is None:
        idx = reg.get_manifest(reg.fallback_tag(subject), (INDEX,))
        refs = []
        if idx is not None:
            try:
                refs = [m for m in json.loads(idx[0]).get("manifests") or [] if isinstance(m, dict)]
            except ValueError:
                refs = []
    out: list[Envelope] = []
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
                    out.append(Envelope.from_json(reg.get_blob(layer["digest"], 1 << 20), "signature referrer"))
                except CheckFailed:
                    continue
    return out


def pull_bundle(ref: OciRef, dest: Path, public_keys: dict[str, crypto.PublicKey], *,
                trust: TrustStore | None = None, require_roles: list[str] | None = None,
                plain_http: bool = False, credentials: tuple[str, str] | None = None,
                cancel: CancelToken | None = None) -> PullResult:
    """Verify, then extract into `dest`. Raises CheckFailed (nothing written) when anything is off."""
    with RegistryClient(ref, plain_http=plain_http, credentials=credentials) as reg:
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
        envelopes = _signature_envelopes(reg, m_digest)
        if not envelopes:
            raise CheckFailed(f"{ref} is not signed (no signature referrer)",
                              "ask the publisher to push it with `skillstudio push --key`; nothing was written")
        if cancel:
            cancel.raise_if_cancelled()
        zip_bytes = reg.get_blob(layers[0]["digest"], MAX_ZIP_BYTES)
    keys = dict(public_keys)
    if trust is not None:
        keys.update(trust.public_keys())
    verified: Verified | None = None
    keyids: list[str] = []
    for env in envelopes:
        try:
            v = attest.verify_bundle(zip_bytes, env, keys)
        except CheckFailed:
            continue
        verified = verified or v
        keyids += [k for k in v.keyids if k not in keyids]
    if verified is None:
        raise CheckFailed(f"{ref}: no valid signature by the given key",
                          "the bundle was altered or signed by someone else; nothing was written")
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
        dest = dest / verified.name  # a workspace: the skill goes into its own folder
    extract_zip(zip_bytes, dest)
    return PullResult(ref, m_digest, dest, verified, len(envelopes), roles)
