"""Read-only views of a registry for the app's browser: repositories, tags, a tag's annotations and signatures.

Why a module of its own: the browser shows what is published without downloading bundles, on a
registry (catalog + tags/list API) and on the default local store (a folder of OCI layouts, one per
skill, or a single layout folder) through the same calls. Signatures are listed from the referrers
(Referrers API, tag-schema fallback or index.json); they are shown, not trusted — `pull` verifies.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillstudio import userdirs
from skillstudio.errors import CheckFailed, SkillStudioError
from skillstudio.release import attest
from skillstudio.release.dsse import Envelope
from skillstudio.release.layout import LayoutRef
from skillstudio.release.oci import CONFIG_TYPE, SIGNATURE_TYPE, Target, open_store
from skillstudio.release.registry import MANIFEST, OciRef, RegistryClient

_FALLBACK_TAG = re.compile(r"^sha256-[0-9a-f]{64}$")


def default_local_root() -> Path:
    """The default registry: a folder of OCI image layouts, one per skill (no server needed)."""
    return userdirs.data_dir() / "registry"


def local_target(root: Path, skill: str, version: str | None) -> LayoutRef:
    """Where an export to the local registry goes: ROOT/<skill> tagged with the version."""
    return LayoutRef(Path(root) / skill, version or "latest")


@dataclass(frozen=True)
class Location:
    """A registry host (`oci://host[:port]`) or a local folder (one layout, or a folder of layouts)."""

    host: str | None = None
    path: Path | None = None
    plain_http: bool = False

    def __str__(self) -> str:
        return f"oci://{self.host}" if self.host else str(self.path)


def parse_location(text: str, *, plain_http: bool = False) -> Location:
    text = text.strip()
    if not text:
        raise SkillStudioError("no registry given", "type oci://host[:port] or choose a local folder")
    if text.startswith("oci://"):
        host = text.removeprefix("oci://").split("/", 1)[0]
        if not host:
            raise SkillStudioError(f"{text!r} has no host", "write oci://host[:port]")
        return Location(host=host, plain_http=plain_http)
    path = Path(text.removeprefix("oci-layout:")).expanduser()
    if not path.is_dir():
        raise SkillStudioError(f"{path} is not a folder", "choose the local registry folder or an OCI layout")
    return Location(path=path)


def _client(loc: Location, repo: str = "library/placeholder") -> RegistryClient:
    assert loc.host is not None
    return RegistryClient(OciRef(loc.host, repo), plain_http=loc.plain_http)


def list_repositories(loc: Location) -> list[str]:
    """Repository names: the registry's catalog, or the layout folders under a local root ('.' = itself)."""
    if loc.host:
        with _client(loc) as c:
            return sorted(c.catalog())
    assert loc.path is not None
    if (loc.path / "oci-layout").is_file():
        return ["."]
    return sorted(p.name for p in loc.path.iterdir() if (p / "oci-layout").is_file())


def target(loc: Location, repo: str, tag: str | None = None) -> Target:
    if loc.host:
        return OciRef(loc.host, repo, tag)
    assert loc.path is not None
    return LayoutRef(loc.path if repo == "." else loc.path / repo, tag)


def list_tags(loc: Location, repo: str) -> list[str]:
    """Tags of a repository, without the `sha256-<hex>` referrer-index tags (they are signatures)."""
    with open_store(target(loc, repo), plain_http=loc.plain_http) as store:
        return sorted(t for t in store.tags() if not _FALLBACK_TAG.match(t))


@dataclass
class SignatureInfo:
    digest: str
    keyids: list[str]
    signer: str = ""
    error: str = ""


@dataclass
class ArtifactInfo:
    ref: Target
    manifest_digest: str
    is_skill: bool
    annotations: dict[str, str] = field(default_factory=dict)
    zip_digest: str = ""
    zip_size: int = 0
    signatures: list[SignatureInfo] = field(default_factory=list)


def describe(loc: Location, repo: str, tag: str) -> ArtifactInfo:
    """A tag's manifest annotations, bundle layer and signature referrers (read, not verified)."""
    ref = target(loc, repo, tag)
    with open_store(ref, plain_http=loc.plain_http) as store:
        got = store.get_manifest(tag, (MANIFEST,))
        if got is None:
            raise SkillStudioError(f"{ref} does not exist", "refresh the list")
        raw, _, digest = got
        try:
            m: dict[str, Any] = json.loads(raw)
        except ValueError:
            raise CheckFailed(f"{ref} has an unreadable manifest", "it was not pushed by Skill Studio") from None
        layers = [x for x in m.get("layers") or [] if isinstance(x, dict)]
        info = ArtifactInfo(ref, digest, (m.get("config") or {}).get("mediaType") == CONFIG_TYPE,
                            {str(k): str(v) for k, v in (m.get("annotations") or {}).items()})
        if layers:
            info.zip_digest, info.zip_size = str(layers[0].get("digest", "")), int(layers[0].get("size", 0))
        for d in store.referrers(digest, SIGNATURE_TYPE):
            info.signatures.append(_signature(store, d))
    return info


def _signature(store: Any, desc: dict[str, Any]) -> SignatureInfo:
    sig = SignatureInfo(str(desc.get("digest", "")),
                        [k for k in str((desc.get("annotations") or {}).get("dev.skillstudio.signature.keyids", ""))
                         .split(",") if k])
    try:
        got = store.get_manifest(sig.digest, (MANIFEST,))
        layer = (json.loads(got[0]).get("layers") or [{}])[0] if got else {}
        env = Envelope.from_json(store.get_blob(str(layer.get("digest")), 1 << 20), "signature referrer")
        sig.keyids = [str(s.get("keyid", "")) for s in env.signatures]
        pred = attest.parse_statement(env).get("predicate") or {}
        signer = pred.get("signer") if isinstance(pred, dict) else None
        sig.signer = str(signer.get("name", "")) if isinstance(signer, dict) else ""
    except (SkillStudioError, ValueError, AttributeError, TypeError) as exc:
        sig.error = str(exc)
    return sig
