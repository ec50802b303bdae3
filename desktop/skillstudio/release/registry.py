"""A compact OCI Distribution client (blobs, manifests, referrers) on httpx.

Why not oras-py here: its Registry retries every failure with growing sleeps (a refused
connection or a wrong password takes minutes to surface), its token backend cannot answer a plain
`Basic` challenge (Distribution with htpasswd), and its manifest upload hard-codes the image-manifest
media type (the OCI 1.1 referrers fallback needs an index). The wire protocol we need is small:
upload (POST + PUT), HEAD/GET blobs, PUT/GET manifests, the Referrers API, and the WWW-Authenticate
dance for basic and bearer tokens. Every failure becomes one clear error.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from skillstudio.cancel import CancelToken
from skillstudio.errors import CheckFailed, EnvironmentProblem, SkillStudioError

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
CRED_SERVICE = "skillstudio-registry"
_REPO = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
CHUNK = 256 * 1024
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # the limit Distribution itself applies to manifests it accepts
MAX_ANSWER_BYTES = 4 * 1024 * 1024  # any other answer (errors, tag lists, tokens)
Progress = Callable[[int, int], None]  # (bytes done, bytes total)


class _Chunks:
    """A re-iterable upload body (httpx may resend it after an auth challenge) that reports progress
    and stops the upload when cancelled: raising here aborts the PUT, so the blob is never committed."""

    def __init__(self, data: bytes, progress: Progress | None, cancel: CancelToken | None) -> None:
        self.data, self.progress, self.cancel = data, progress, cancel

    def __iter__(self) -> Iterator[bytes]:
        view = memoryview(self.data)
        for start in range(0, len(view), CHUNK):
            if self.cancel:
                self.cancel.raise_if_cancelled()
            yield bytes(view[start:start + CHUNK])
            if self.progress:
                self.progress(min(start + CHUNK, len(view)), len(view))


@dataclass(frozen=True)
class OciRef:
    host: str
    repo: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        return f"oci://{self.host}/{self.repo}" + (f"@{self.digest}" if self.digest else f":{self.tag or 'latest'}")


def parse_ref(ref: str) -> OciRef:
    """`oci://host[:port]/repo[:tag|@sha256:...]` (the oci:// prefix is optional)."""
    usage = "write it as oci://host[:port]/repository:tag"
    s = ref.removeprefix("oci://")
    if "/" not in s:
        raise SkillStudioError(f"{ref!r} is not an OCI reference", usage)
    host, rest = s.split("/", 1)
    digest = tag = None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST.match(digest):
            raise SkillStudioError(f"{digest!r} is not a sha256 digest", usage)
    elif ":" in rest.rsplit("/", 1)[-1]:
        rest, tag = rest.rsplit(":", 1)
        if not _TAG.match(tag):
            raise SkillStudioError(f"{tag!r} is not a valid tag", "use letters, digits, '.', '_' or '-'")
    if not host or not _REPO.match(rest):
        raise SkillStudioError(f"{ref!r} has an invalid repository name {rest!r}",
                               "use lower-case letters, digits and . _ - / in the repository")
    return OciRef(host, rest, tag, digest)


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(media_type: str, data: bytes, *, digest: str | None = None, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"mediaType": media_type, "digest": digest or sha256_digest(data), "size": len(data)}
    d.update({k: v for k, v in extra.items() if v})
    return d


# ----------------------------------------------------------------------------------- credentials

def _keyring_credentials(host: str) -> tuple[str, str] | None:
    from skillstudio.release.keys import _keyring_call

    try:
        raw = _keyring_call("get_password", CRED_SERVICE, host)
    except EnvironmentProblem:
        return None  # no keyring: fall back to docker config / anonymous
    if not raw:
        return None
    try:
        d = json.loads(raw)
        return str(d["username"]), str(d["password"])
    except (ValueError, KeyError, TypeError):
        return None


def store_credentials(host: str, username: str, password: str) -> None:
    """`registry login`: credentials go to the OS keyring, never to a file."""
    from skillstudio.release.keys import _keyring_call

    _keyring_call("set_password", CRED_SERVICE, host, json.dumps({"username": username, "password": password}))


def delete_credentials(host: str) -> None:
    from skillstudio.release.keys import _keyring_call

    _keyring_call("delete_password", CRED_SERVICE, host)


def _docker_credentials(host: str) -> tuple[str, str] | None:
    cfg_dir = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    try:
        cfg = json.loads((cfg_dir / "config.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(cfg, dict):
        return None
    for key in (host, f"https://{host}", f"http://{host}", f"https://{host}/v1/"):
        entry = (cfg.get("auths") or {}).get(key)
        if isinstance(entry, dict):
            if entry.get("auth"):
                try:
                    user, _, pw = base64.b64decode(entry["auth"]).decode().partition(":")
                    return user, pw
                except (ValueError, UnicodeDecodeError):
                    return None
            if entry.get("username") and entry.get("password"):
                return str(entry["username"]), str(entry["password"])
    helper = (cfg.get("credHelpers") or {}).get(host) or cfg.get("credsStore")
    if helper and shutil.which(f"docker-credential-{helper}"):
        try:
            out = subprocess.run([f"docker-credential-{helper}", "get"], input=host, capture_output=True,
                                 text=True, timeout=20, check=False)
            d = json.loads(out.stdout) if out.returncode == 0 else None
            if isinstance(d, dict) and d.get("Username"):
                return str(d["Username"]), str(d.get("Secret", ""))
        except (OSError, ValueError, subprocess.SubprocessError):
            return None
    return None


def find_credentials(host: str) -> tuple[str, str] | None:
    return _keyring_credentials(host) or _docker_credentials(host)


# ---------------------------------------------------------------------------------------- client

def _human(n: int) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n:,} bytes"


def _read_some(resp: httpx.Response, limit: int) -> bytes:
    buf = bytearray()
    for chunk in resp.iter_bytes(CHUNK):
        buf += chunk
        if len(buf) > limit:
            break
    return bytes(buf[:limit])


def _check_declared(resp: httpx.Response, limit: int, what: str, host: str) -> None:
    """Refuse from the headers alone when the server says the body is over `limit`."""
    declared = resp.headers.get("content-length")
    if declared is None:
        return
    try:
        size = int(declared)
    except ValueError:
        raise CheckFailed(f"{what} from {host} has an unreadable Content-Length", "refusing it") from None
    if size > limit:
        raise CheckFailed(f"{what} from {host} is {size:,} bytes (limit {_human(limit)})",
                          "refusing to read it; nothing was written")

def _challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    return scheme.lower(), dict(re.findall(r'(\w+)="([^"]*)"', rest))


class RegistryClient:
    """One repository on one registry. Use as a context manager."""

    def __init__(self, ref: OciRef, *, plain_http: bool = False, credentials: tuple[str, str] | None = None,
                 timeout: float = 60.0) -> None:
        self.ref = ref
        self.plain_http = plain_http
        self.base = f"{'http' if plain_http else 'https'}://{ref.host}"
        self.credentials = credentials if credentials is not None else find_credentials(ref.host)
        self._auth: str | None = None
        self._http = httpx.Client(timeout=timeout, follow_redirects=True)

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def close(self) -> None:
        self._http.close()

    # -- transport
    def _url(self, path: str) -> str:
        return f"{self.base}/v2/{self.ref.repo}/{path}"

    def _request(self, method: str, url: str, *, content: bytes | _Chunks | None = None,
                 headers: dict[str, str] | None = None, limit: int = MAX_ANSWER_BYTES,
                 what: str = "the answer") -> httpx.Response:
        """One request; the answer's body is read only up to `limit` bytes (header checked first)."""
        for attempt in range(2):
            h = dict(headers or {})
            if self._auth:
                h["Authorization"] = self._auth
            try:
                r = self._send_capped(method, url, content, h, limit, what)
            except httpx.TransportError as exc:
                hint = ("is the registry running and the address right?" if self.plain_http else
                        "is the registry running? for a plain-HTTP registry add --plain-http")
                raise EnvironmentProblem(f"cannot reach registry {self.ref.host} ({exc.__class__.__name__}: {exc})",
                                         hint) from None
            if r.status_code != 401 or attempt == 1:
                break
            self._authenticate(r)
        if r.status_code == 401:
            raise EnvironmentProblem(f"registry {self.ref.host} refused the credentials",
                                     f"log in again: `skillstudio registry login {self.ref.host} -u USER`")
        if r.status_code == 403:
            raise EnvironmentProblem(f"registry {self.ref.host} denied access to {self.ref.repo}",
                                     "check that your account may push/pull this repository")
        return r

    def _send_capped(self, method: str, url: str, content: bytes | _Chunks | None, headers: dict[str, str],
                     limit: int, what: str) -> httpx.Response:
        """Why: a hostile registry can answer with a 2 GB manifest or an endless stream; neither may be
        read into memory. A declared Content-Length over the limit is refused before reading, and the
        stream is cut as soon as it passes the limit, whatever the headers said."""
        headers = {"Accept-Encoding": "identity", **headers}  # no compressed answers: no bombs in transit
        req = self._http.build_request(method, url, content=content, headers=headers)
        resp = self._http.send(req, stream=True)
        try:
            buf = bytearray()
            if method != "HEAD":  # a HEAD's Content-Length is the size of what a GET would send
                _check_declared(resp, limit, what, self.ref.host)
                for chunk in resp.iter_bytes(CHUNK):
                    buf += chunk
                    if len(buf) > limit:
                        raise CheckFailed(f"{what} from {self.ref.host} is larger than {_human(limit)}",
                                          "refusing to read it; nothing was written")
        finally:
            resp.close()
        drop = ("content-encoding", "transfer-encoding") + (() if method == "HEAD" else ("content-length",))
        headers_out = [(k, v) for k, v in resp.headers.multi_items() if k.lower() not in drop]
        return httpx.Response(resp.status_code, headers=headers_out, content=bytes(buf), request=req)

    def _authenticate(self, r: httpx.Response) -> None:
        scheme, params = _challenge(r.headers.get("www-authenticate", ""))
        if scheme == "basic":
            if not self.credentials:
                raise EnvironmentProblem(f"registry {self.ref.host} requires a login",
                                         f"run `skillstudio registry login {self.ref.host} -u USER` (password on stdin)"
                                         " or `docker login`")
            if self._auth and self._auth.startswith("Basic"):
                return  # already sent: the retry's 401 reports wrong credentials
            token = base64.b64encode(":".join(self.credentials).encode()).decode()
            self._auth = f"Basic {token}"
            return
        if scheme == "bearer" and params.get("realm"):
            q = {k: params[k] for k in ("service", "scope") if params.get(k)}
            auth = httpx.BasicAuth(*self.credentials) if self.credentials else None
            try:
                with self._http.stream("GET", params["realm"], params=q, auth=auth,
                                       headers={"Accept-Encoding": "identity"}) as t:
                    _check_declared(t, MAX_ANSWER_BYTES, "the token answer", self.ref.host)
                    text = _read_some(t, MAX_ANSWER_BYTES + 1)
                    status, ctype = t.status_code, t.headers.get("content-type", "")
            except httpx.TransportError as exc:
                raise EnvironmentProblem(f"cannot reach the token service of {self.ref.host} ({exc})",
                                         "check your network") from None
            if status != 200:
                raise EnvironmentProblem(f"registry {self.ref.host} refused a token ({status})",
                                         f"log in: `skillstudio registry login {self.ref.host} -u USER`")
            if len(text) > MAX_ANSWER_BYTES:
                raise CheckFailed(f"the token answer from {self.ref.host} is larger than {_human(MAX_ANSWER_BYTES)}",
                                  "refusing it")
            try:
                body = json.loads(text) if ctype.startswith("application/json") else {}
            except ValueError:
                body = {}
            body = body if isinstance(body, dict) else {}
            bearer = body.get("token") or body.get("access_token")
            if not bearer:
                raise EnvironmentProblem(f"token service of {self.ref.host} returned no token", "check the registry")
            self._auth = f"Bearer {bearer}"
            return
        raise EnvironmentProblem(f"registry {self.ref.host} asks for an unsupported login ({scheme or 'none'})",
                                 "use a registry with basic or token auth")

    def _fail(self, r: httpx.Response, what: str) -> SkillStudioError:
        detail = ""
        try:
            errs = r.json().get("errors") or []
            detail = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in errs if isinstance(e, dict))
        except (ValueError, AttributeError):
            detail = r.text[:200]
        return SkillStudioError(f"{what} failed: HTTP {r.status_code} {detail}".strip(),
                                "check the repository name and that the registry accepts OCI artifacts")

    # -- blobs
    def blob_exists(self, digest: str) -> bool:
        return self._request("HEAD", self._url(f"blobs/{digest}")).status_code == 200

    def push_blob(self, data: bytes, digest: str | None = None, *, progress: Progress | None = None,
                  cancel: CancelToken | None = None) -> str:
        """Monolithic upload, streamed in chunks so `progress(done, total)` and `cancel` act mid-upload."""
        digest = digest or sha256_digest(data)
        if self.blob_exists(digest):
            if progress:
                progress(len(data), len(data))
            return digest
        r = self._request("POST", self._url("blobs/uploads/"), content=b"")
        if r.status_code != 202 or "location" not in r.headers:
            raise self._fail(r, "starting a blob upload")
        loc = urljoin(self.base + "/", r.headers["location"])
        loc += ("&" if "?" in loc else "?") + f"digest={digest}"
        body: bytes | _Chunks = data if progress is None and cancel is None else _Chunks(data, progress, cancel)
        r = self._request("PUT", loc, content=body, headers={"Content-Type": "application/octet-stream",
                                                             "Content-Length": str(len(data))})
        if r.status_code not in (201, 204):
            raise self._fail(r, "uploading a blob")
        return digest

    def get_blob(self, digest: str, max_bytes: int, *, progress: Progress | None = None,
                 cancel: CancelToken | None = None) -> bytes:
        """Download and check a blob; streamed so a huge or cancelled download stops early."""
        r = self._request("HEAD", self._url(f"blobs/{digest}"), limit=max_bytes,  # authenticates; checks the size
                          what=f"blob {digest[:19]}")
        if r.status_code == 404:
            raise CheckFailed(f"blob {digest[:19]} is missing from {self.ref.host}/{self.ref.repo}",
                              "push the bundle again")
        _check_declared(r, max_bytes, f"blob {digest[:19]}", self.ref.host)
        h = {"Authorization": self._auth, "Accept-Encoding": "identity"} if self._auth else \
            {"Accept-Encoding": "identity"}
        buf = bytearray()
        try:
            with self._http.stream("GET", self._url(f"blobs/{digest}"), headers=h) as resp:
                if resp.status_code != 200:
                    raise self._fail(httpx.Response(resp.status_code, content=_read_some(resp, MAX_ANSWER_BYTES)),
                                     "downloading a blob")
                _check_declared(resp, max_bytes, f"blob {digest[:19]}", self.ref.host)
                total = int(resp.headers.get("content-length") or 0)
                for chunk in resp.iter_bytes(CHUNK):
                    buf += chunk
                    if len(buf) > max_bytes:
                        raise CheckFailed(f"blob {digest[:19]} is larger than {max_bytes} bytes",
                                          "refusing to download it")
                    if cancel:
                        cancel.raise_if_cancelled()
                    if progress:
                        progress(len(buf), max(total, len(buf)))
        except httpx.TransportError as exc:
            raise EnvironmentProblem(f"download from {self.ref.host} failed ({exc.__class__.__name__})",
                                     "check the registry and try again") from None
        content = bytes(buf)
        if sha256_digest(content) != digest:
            raise CheckFailed(f"blob {digest[:19]} from the registry does not match its digest (tampered?)",
                              "nothing was written; report it to the registry's owner")
        return content

    # -- manifests
    def put_manifest(self, reference: str, body: bytes, media_type: str) -> httpx.Response:
        r = self._request("PUT", self._url(f"manifests/{reference}"), content=body,
                          headers={"Content-Type": media_type})
        if r.status_code not in (200, 201):
            raise self._fail(r, f"pushing manifest {reference}")
        return r

    def get_manifest(self, reference: str,
                     accept: tuple[str, ...] = (MANIFEST, INDEX)) -> tuple[bytes, str, str] | None:
        """(bytes, media type, digest) or None when the reference does not exist."""
        r = self._request("GET", self._url(f"manifests/{reference}"), headers={"Accept": ", ".join(accept)},
                          limit=MAX_MANIFEST_BYTES, what=f"manifest {reference[:40]}")
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise self._fail(r, f"fetching manifest {reference}")
        digest = sha256_digest(r.content)
        if reference.startswith("sha256:") and digest != reference:
            raise CheckFailed(f"manifest {reference[:19]} does not match its digest (tampered?)", "nothing was written")
        if len(r.content) > 4 * 1024 * 1024:
            raise CheckFailed("manifest larger than 4 MB", "refusing it")
        return r.content, r.headers.get("content-type", "").split(";")[0], digest

    def referrers(self, digest: str, artifact_type: str | None = None) -> list[dict[str, Any]]:
        """Referrers of a manifest: the Referrers API where offered, else the tag-schema fallback index."""
        found = self.referrers_api(digest, artifact_type)
        if found is not None:
            return found
        idx = self.get_manifest(self.fallback_tag(digest), (INDEX,))
        if idx is None:
            return []
        try:
            return [m for m in json.loads(idx[0]).get("manifests") or [] if isinstance(m, dict)]
        except (ValueError, AttributeError):
            return []

    def put_referrer(self, subject: str, body: bytes, desc: dict[str, Any]) -> bool:
        """Push a manifest whose `subject` is `subject`; returns True when the registry indexed it itself.

        Registries with the Referrers API answer with an `OCI-Subject` header; for the others the
        OCI 1.1 fallback applies: read-modify-write the index tagged `sha256-<hex>` of the subject.
        """
        r = self.put_manifest(desc["digest"], body, desc["mediaType"])
        if r.headers.get("OCI-Subject"):
            return True
        tag = self.fallback_tag(subject)
        existing = self.get_manifest(tag, (INDEX,))
        manifests: list[dict[str, Any]] = []
        if existing is not None:
            try:
                manifests = [m for m in json.loads(existing[0]).get("manifests") or [] if isinstance(m, dict)]
            except (ValueError, AttributeError):
                manifests = []
        if not any(m.get("digest") == desc["digest"] for m in manifests):
            index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": manifests + [desc]}
            self.put_manifest(tag, json.dumps(index, sort_keys=True, separators=(",", ":")).encode(), INDEX)
        return False

    def referrers_api(self, digest: str, artifact_type: str | None = None) -> list[dict[str, Any]] | None:
        """Descriptors from the Referrers API, or None when the registry does not offer it."""
        url = self._url(f"referrers/{digest}")
        if artifact_type:
            url += f"?artifactType={artifact_type}"
        r = self._request("GET", url, headers={"Accept": INDEX})
        if r.status_code != 200 or not r.headers.get("content-type", "").startswith(INDEX):
            return None
        try:
            manifests = r.json().get("manifests") or []
        except ValueError:
            return None
        return [m for m in manifests if isinstance(m, dict)]

    def tags(self) -> list[str]:
        """The repository's tags (Distribution's tags/list, following `Link` pages)."""
        return self._paged(self._url("tags/list?n=1000"), "tags", "listing tags")

    def catalog(self) -> list[str]:
        """Repositories on the registry (`/v2/_catalog`); registries without it (GHCR, ECR) refuse."""
        return self._paged(f"{self.base}/v2/_catalog?n=1000", "repositories", "listing repositories")

    def _paged(self, url: str, key: str, what: str) -> list[str]:
        out: list[str] = []
        for _ in range(100):
            r = self._request("GET", url)
            if r.status_code == 404 and key == "tags":
                return out
            if r.status_code in (404, 405):
                raise SkillStudioError(f"{self.ref.host} does not offer a catalog",
                                       "type the repository name (host/repo) instead")
            if r.status_code != 200:
                raise self._fail(r, what)
            try:
                out += [str(x) for x in (r.json().get(key) or [])]
            except (ValueError, AttributeError):
                raise SkillStudioError(f"{what} on {self.ref.host}: unreadable answer", "check the registry") from None
            link = re.match(r'\s*<([^>]+)>', r.headers.get("link", ""))
            if not link:
                break
            url = urljoin(self.base + "/", link.group(1))
        return out

    @staticmethod
    def fallback_tag(digest: str) -> str:
        """OCI 1.1 referrers tag schema: `<alg>-<hex>` names the index of a manifest's referrers."""
        return digest.replace(":", "-")[:128]
