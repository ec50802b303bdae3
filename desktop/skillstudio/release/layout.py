"""An OCI image-layout folder as a target: the same artifacts as a registry, no server needed.

Why: a release can be built and signed offline (or in CI) and copied to any registry later with
standard tools (`oras cp --from-oci-layout`, `skopeo copy oci:`). Layout: `oci-layout`,
`index.json` (tags via `org.opencontainers.image.ref.name`; signature manifests listed too, which is
how layouts carry referrers), and content-addressed `blobs/sha256/<hex>`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillstudio.bundle.fileio import UnreadableFile, atomic_write, read_regular
from skillstudio.cancel import CancelToken
from skillstudio.errors import CheckFailed, SkillStudioError
from skillstudio.release.registry import INDEX, MANIFEST, sha256_digest

REF_NAME = "org.opencontainers.image.ref.name"
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class LayoutRef:
    path: Path
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        return f"oci-layout:{self.path}" + (f"@{self.digest}" if self.digest else f":{self.tag or 'latest'}")


def parse_layout_ref(ref: str) -> LayoutRef:
    """`oci-layout:PATH[:TAG|@sha256:...]`."""
    s = ref.removeprefix("oci-layout:")
    if "@" in s:
        s, digest = s.rsplit("@", 1)
        if not _DIGEST.match(digest):
            raise SkillStudioError(f"{digest!r} is not a sha256 digest", "write oci-layout:PATH@sha256:<hex>")
        return LayoutRef(Path(s), None, digest)
    head, sep, tail = s.rpartition(":")
    if sep and "/" not in tail and _TAG.match(tail):
        return LayoutRef(Path(head), tail)
    if not s:
        raise SkillStudioError("oci-layout: needs a folder", "write oci-layout:PATH[:TAG]")
    return LayoutRef(Path(s))


class LayoutStore:
    """Same calls as RegistryClient, on a folder."""

    def __init__(self, ref: LayoutRef, *, create: bool = False) -> None:
        self.ref = ref
        self.root = Path(ref.path)
        if not (self.root / "oci-layout").is_file():
            if not create:
                raise SkillStudioError(f"{self.root} is not an OCI image layout", "push to it first")
            if self.root.exists() and any(self.root.iterdir()):
                raise SkillStudioError(f"{self.root} exists and is not an OCI image layout",
                                       "choose a new or empty folder")
            atomic_write(self.root / "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}))
            atomic_write(self.root / "index.json", json.dumps({"schemaVersion": 2, "mediaType": INDEX,
                                                               "manifests": []}))

    def __enter__(self) -> LayoutStore:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _blob(self, digest: str) -> Path:
        if not _DIGEST.match(digest):
            raise CheckFailed(f"invalid digest {digest[:80]!r}", "the layout is corrupt")
        return self.root / "blobs" / "sha256" / digest.split(":", 1)[1]

    def _index(self) -> dict[str, Any]:
        try:
            data = json.loads(read_regular(self.root / "index.json", 16 * 1024 * 1024).decode("utf-8"))
        except (OSError, ValueError):  # UnreadableFile (a link, FIFO or huge file) is a ValueError
            raise CheckFailed(f"{self.root}/index.json is unreadable", "the layout is corrupt") from None
        if not isinstance(data, dict) or not isinstance(data.get("manifests"), list):
            raise CheckFailed(f"{self.root}/index.json is not an OCI index", "the layout is corrupt")
        return data

    def _save_index(self, data: dict[str, Any]) -> None:
        atomic_write(self.root / "index.json", json.dumps(data, indent=2) + "\n")

    def push_blob(self, data: bytes, digest: str | None = None, *,
                  progress: Callable[[int, int], None] | None = None, cancel: CancelToken | None = None) -> str:
        digest = digest or sha256_digest(data)
        p = self._blob(digest)
        if cancel:
            cancel.raise_if_cancelled()
        if not p.exists():
            atomic_write(p, data)
        if progress:
            progress(len(data), len(data))
        return digest

    def tags(self) -> list[str]:
        """Tags named in index.json (signature manifests carry no ref name)."""
        return sorted({str(t) for m in self._index()["manifests"]
                       if (t := (m.get("annotations") or {}).get(REF_NAME))})

    def get_blob(self, digest: str, max_bytes: int, *, progress: Callable[[int, int], None] | None = None,
                 cancel: CancelToken | None = None) -> bytes:
        if cancel:
            cancel.raise_if_cancelled()
        p = self._blob(digest)
        if not os.path.lexists(p):
            raise CheckFailed(f"blob {digest[:19]} is missing from {self.root}", "push the bundle again")
        try:  # a regular file, bounded while reading: a blob linked to /dev/zero or a FIFO is refused
            data = read_regular(p, max_bytes)
        except UnreadableFile as exc:
            raise CheckFailed(f"blob {digest[:19]} in {self.root} is refused: {exc}", "the layout is corrupt") from None
        if progress:
            progress(len(data), len(data))
        if sha256_digest(data) != digest:
            raise CheckFailed(f"blob {digest[:19]} does not match its digest (tampered?)", "nothing was written")
        return data

    def put_manifest(self, reference: str, body: bytes, media_type: str) -> None:
        digest = self.push_blob(body)
        if reference.startswith("sha256:"):
            return
        index = self._index()
        index["manifests"] = [m for m in index["manifests"]
                              if (m.get("annotations") or {}).get(REF_NAME) != reference]
        index["manifests"].append({"mediaType": media_type, "digest": digest, "size": len(body),
                                   "annotations": {REF_NAME: reference}})
        self._save_index(index)

    def get_manifest(self, reference: str,
                     accept: tuple[str, ...] = (MANIFEST, INDEX)) -> tuple[bytes, str, str] | None:
        digest = reference
        if not reference.startswith("sha256:"):
            found = [m for m in self._index()["manifests"] if (m.get("annotations") or {}).get(REF_NAME) == reference]
            if not found:
                return None
            digest = str(found[-1].get("digest"))
        if not self._blob(digest).is_file():
            return None
        data = self.get_blob(digest, 4 * 1024 * 1024)
        try:
            media_type = str(json.loads(data).get("mediaType") or MANIFEST)
        except (ValueError, AttributeError):
            raise CheckFailed(f"manifest {digest[:19]} is not JSON", "the layout is corrupt") from None
        return data, media_type, digest

    def referrers(self, digest: str, artifact_type: str | None = None) -> list[dict[str, Any]]:
        out = []
        for m in self._index()["manifests"]:
            if not m.get("artifactType") or (artifact_type and m.get("artifactType") != artifact_type):
                continue
            got = self.get_manifest(str(m.get("digest")))
            if got is not None and (json.loads(got[0]).get("subject") or {}).get("digest") == digest:
                out.append(m)
        return out

    def put_referrer(self, subject: str, body: bytes, desc: dict[str, Any]) -> bool:
        self.push_blob(body)
        index = self._index()
        if not any(m.get("digest") == desc["digest"] for m in index["manifests"]):
            index["manifests"].append(desc)
            self._save_index(index)
        return True
