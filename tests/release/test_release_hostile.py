"""A registry with write access but no key: swapped names, rollbacks, foreign statements, names that are
paths, huge or endless answers, and zips that nest too deep. Each is refused with one line, exit 1 (or 2
for a usage error), and nothing is written. The real Distribution registry plays the attacker's
registry wherever it can; only the endless/huge answers need a hostile HTTP server of our own (no real
registry serves a 2 GB manifest)."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from release_support import tree, write_skill

from skillstudio.errors import CheckFailed
from skillstudio.release import attest, keys, oci
from skillstudio.release.dsse import Envelope
from skillstudio.release.pack import pack_skill
from skillstudio.release.registry import MANIFEST, RegistryClient, descriptor, parse_ref, sha256_digest
from skillstudio.release.unpack import extract_zip

Runner = Callable[..., tuple[int, str, str]]
KeyPair = Callable[..., Path]


def _publish_raw(ref: str, zip_bytes: bytes, env: Envelope) -> None:
    """What an attacker with write access can do: put any manifest and referrer, no checks of ours."""
    target = parse_ref(ref)
    with RegistryClient(target, plain_http=True) as reg:
        config = b'{"name":"x"}'
        reg.push_blob(config)
        reg.push_blob(zip_bytes)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST,
                               "config": descriptor(oci.CONFIG_TYPE, config),
                               "layers": [descriptor(oci.LAYER_TYPE, zip_bytes)]}).encode()
        reg.put_manifest(target.tag or "latest", manifest, MANIFEST)
        env_bytes = env.to_json()
        reg.push_blob(oci.EMPTY)
        reg.push_blob(env_bytes)
        sig = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST, "artifactType": oci.SIGNATURE_TYPE,
                          "config": descriptor(oci.EMPTY_TYPE, oci.EMPTY),
                          "layers": [descriptor(oci.SIGNATURE_TYPE, env_bytes)],
                          "subject": descriptor(MANIFEST, manifest)}).encode()
        reg.put_referrer(sha256_digest(manifest), sig, descriptor(MANIFEST, sig, artifactType=oci.SIGNATURE_TYPE))


def _signed_statement(zip_bytes: bytes, key: str, **changes: object) -> Envelope:
    """A genuine signature (the key holder's) over a statement with some fields changed."""
    st = attest.build_statement(attest.read_bundle(zip_bytes))
    for k, v in changes.items():
        if k == "name":
            st["subject"][0]["name"] = v
            st["predicate"]["skill"]["name"] = v
        else:
            st[k] = v
    env = Envelope(payload=json.dumps(st).encode())
    env.sign(keys.load_private(key))
    return env


def test_a_signed_bundle_served_under_another_name_or_newer_tag_is_refused(
        oci_registry: str, tmp_path: Path, cli: Runner, keypair: KeyPair) -> None:
    pem = keypair("author")
    base = f"oci://{oci_registry}/hostile"
    support = write_skill(tmp_path / "src", name="support-reply", version="1.0.0")
    crm = write_skill(tmp_path / "src", name="crm-query", version="1.0.0")
    assert cli("push", support, f"{base}/support-reply:1.0.0", "--key", "author", "--plain-http")[0] == 0
    assert cli("push", crm, f"{base}/crm-query:1.0.0", "--key", "author", "--plain-http")[0] == 0
    # the attacker copies manifests and their genuine signatures to other names and tags
    oci.copy_bundle(oci.parse_target(f"{base}/support-reply:1.0.0"), oci.parse_target(f"{base}/crm-query:1.0.1"),
                    plain_http=True)
    oci.copy_bundle(oci.parse_target(f"{base}/crm-query:1.0.0"), oci.parse_target(f"{base}/crm-query:1.1.0"),
                    plain_http=True)
    oci.copy_bundle(oci.parse_target(f"{base}/crm-query:1.0.0"), oci.parse_target(f"{base}/crm-query:v1.1.0"),
                    plain_http=True)
    oci.copy_bundle(oci.parse_target(f"{base}/crm-query:1.0.0"), oci.parse_target(f"{base}/crm-query:stable"),
                    plain_http=True)
    dest = tmp_path / "dest"
    code, _, err = cli("pull", f"{base}/crm-query:1.0.1", "-o", dest, "--pubkey", pem, "--plain-http")
    assert code == 1 and "signed as skill 'support-reply', not 'crm-query'" in err and "Traceback" not in err
    for tag in ("1.1.0", "v1.1.0"):
        code, _, err = cli("pull", f"{base}/crm-query:{tag}", "-o", dest, "--pubkey", pem, "--plain-http")
        assert code == 1 and f"tag {tag} but the signed version is 1.0.0" in err, err
    assert not dest.exists()
    # a non-version tag is fine, and says which version it really is
    code, out, err = cli("pull", f"{base}/crm-query:stable", "-o", dest, "--pubkey", pem, "--plain-http")
    assert code == 0 and "signed version is 1.0.0" in out, err
    # the lock refuses to record (and lock --check reports) a source that names another skill or version
    ws = tmp_path / "src"
    z = tmp_path / "crm.zip"
    pack_skill(crm, z)
    attest.sign_bundle(z, "author")
    cli("trust", "add", ws, "author", pem, "--role", "author")
    code, _, err = cli("lock", crm, "--signature", f"{z}.sig.json", "--source", f"{base}/crm-query:1.1.0")
    assert code == 2 and "not the approved version 1.0.0" in err
    code, _, err = cli("lock", crm, "--signature", f"{z}.sig.json", "--source", f"{base}/support-reply:1.0.0")
    assert code == 2 and "repository of 'support-reply'" in err
    assert cli("lock", crm, "--signature", f"{z}.sig.json", "--source", f"{base}/crm-query:1.0.0")[0] == 0
    lock = (ws / "skills.lock").read_text()
    (ws / "skills.lock").write_text(lock.replace("crm-query:1.0.0", "support-reply:1.0.0"))
    code, out, _ = cli("lock", ws, "--check")
    assert code == 1 and "repository of 'support-reply'" in out


def test_only_release_statements_count_and_signed_names_are_never_paths(
        oci_registry: str, tmp_path: Path, cli: Runner, keypair: KeyPair) -> None:
    pem = keypair("author")
    d = write_skill(tmp_path / "src", name="demo-skill")
    z = tmp_path / "b.zip"
    pack_skill(d, z)
    raw = z.read_bytes()
    ws = tmp_path / "workspace"
    (ws / "other").mkdir(parents=True)
    before = tree(tmp_path)

    foreign = _signed_statement(raw, "author", predicateType="https://slsa.dev/provenance/v1")
    _publish_raw(f"oci://{oci_registry}/hostile2/demo-skill:1.0.0", raw, foreign)
    code, _, err = cli("pull", f"oci://{oci_registry}/hostile2/demo-skill:1.0.0", "-o", ws, "--pubkey", pem,
                       "--plain-http")
    assert code == 1 and "not a Skill Studio release" in err

    for name in ("../../escaped", "/tmp/absolute", "a/b", "UPPER", ".."):
        env = _signed_statement(raw, "author", name=name)
        _publish_raw(f"oci://{oci_registry}/hostile2/path:1.0.0", raw, env)
        code, _, err = cli("pull", f"oci://{oci_registry}/hostile2/path:1.0.0", "-o", ws, "--pubkey", pem,
                           "--plain-http")
        assert code == 1 and "is not a valid skill name" in err and "Traceback" not in err, (name, err)
    assert tree(tmp_path) == before
    assert not (tmp_path / "escaped").exists() and not Path("/tmp/absolute").exists()


def test_pack_sign_and_push_refuse_invalid_skills(oci_registry: str, tmp_path: Path, cli: Runner,
                                                  keypair: KeyPair) -> None:
    keypair("author")
    d = write_skill(tmp_path / "src", name="bad-skill")
    md = d / "SKILL.md"
    md.write_text(md.read_text().replace("name: bad-skill", "name: ../../x"))
    code, _, err = cli("pack", d, "-o", tmp_path / "bad.zip")
    assert code == 2 and "not a valid skill" in err and not (tmp_path / "bad.zip").exists()
    ref = f"oci://{oci_registry}/hostile3/bad-skill:1.0.0"
    code, _, err = cli("push", d, ref, "--key", "author", "--plain-http")
    assert code == 2 and "not a valid skill" in err
    with RegistryClient(parse_ref(ref), plain_http=True) as reg:
        assert reg.get_manifest("1.0.0") is None  # nothing was published
    # a zip built by hand around the invalid SKILL.md cannot be signed either
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("SKILL.md", md.read_text())
    (tmp_path / "hand.zip").write_bytes(buf.getvalue())
    code, _, err = cli("sign", tmp_path / "hand.zip", "--key", "author")
    assert code == 2 and "not a valid skill name" in err and not (tmp_path / "hand.zip.sig.json").exists()
    # nor one with a version that is not semver, or a field other runtimes refuse
    for broken in (md.read_text().replace("name: ../../x", "name: bad-skill").replace('"1.0.0"', '"one"'),
                   md.read_text().replace("name: ../../x", "name: bad-skill\nfavourite-colour: red")):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("SKILL.md", broken)
        (tmp_path / "hand.zip").write_bytes(buf.getvalue())
        code, _, err = cli("sign", tmp_path / "hand.zip", "--key", "author")
        assert code == 2 and ("semver" in err or "not valid" in err), err
        assert not (tmp_path / "hand.zip.sig.json").exists()


class _Hostile(BaseHTTPRequestHandler):
    """A 'registry' whose manifest is 2 GB by its headers, or endless without them."""

    sent = 0

    def log_message(self, *args: object) -> None:
        return None

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Length", str(2 * 1024**3) if "declared" in self.path else "100")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if "/manifests/" not in self.path and "/blobs/" not in self.path:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", MANIFEST)
        if "declared" in self.path:
            self.send_header("Content-Length", str(2 * 1024**3))
            self.end_headers()
            chunks = 4
        else:
            self.send_header("Connection", "close")
            self.end_headers()
            chunks = 2048  # 512 MB at most, then the server gives up
        try:
            for _ in range(chunks):
                self.wfile.write(b" " * 256 * 1024)
                type(self).sent += 256 * 1024
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture()
def hostile_registry() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("repo", ["declared/demo-skill", "endless/demo-skill"])
def test_huge_or_endless_manifests_are_cut_off_while_streaming(hostile_registry: str, tmp_path: Path, cli: Runner,
                                                                keypair: KeyPair, repo: str) -> None:
    pem = keypair("author")
    _Hostile.sent = 0
    code, _, err = cli("pull", f"oci://{hostile_registry}/{repo}:1.0.0", "-o", tmp_path / "d", "--pubkey", pem,
                       "--plain-http")
    assert code == 1 and "manifest" in err and "Traceback" not in err, err
    assert ("2,147,483,648 bytes" in err) if repo.startswith("declared") else ("larger than 4 MB" in err)
    assert _Hostile.sent < 64 * 1024 * 1024  # we stopped reading long before the end
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize("repo", ["declared/demo-skill", "endless/demo-skill"])
def test_huge_or_endless_blobs_are_cut_off(hostile_registry: str, repo: str) -> None:
    _Hostile.sent = 0
    with RegistryClient(parse_ref(f"oci://{hostile_registry}/{repo}:1"), plain_http=True) as reg, \
            pytest.raises(CheckFailed, match="larger than|limit") as exc:
        reg.get_blob("sha256:" + "0" * 64, 1024 * 1024)
    assert "\n" not in exc.value.message
    assert _Hostile.sent < 64 * 1024 * 1024


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_deeply_nested_entries_and_failed_extractions_leave_nothing(tmp_path: Path) -> None:
    skill_md = b"---\nname: deep\ndescription: d\n---\n"
    for name in ("/".join(["d"] * 5000) + "/x", "/".join(["d"] * 40) + "/x", "a" * 300 + "/x"):
        dest = tmp_path / "new" / "parents" / "dest"
        with pytest.raises(CheckFailed) as exc:
            extract_zip(_zip({"SKILL.md": skill_md, name: b"x"}), dest)
        assert "\n" not in exc.value.message and len(exc.value.message) < 300
        assert not (tmp_path / "new").exists()
    # a failure while writing (a corrupted entry) also takes back the folders it created
    raw = bytearray(_zip({"SKILL.md": skill_md, "references/a.md": b"hello world" * 100}))
    at = raw.find(b"hello world")
    raw[at] ^= 0xFF
    with pytest.raises(CheckFailed, match="corrupt"):
        extract_zip(bytes(raw), tmp_path / "new" / "parents" / "dest")
    assert tree(tmp_path) == []
    assert hashlib.sha256(bytes(raw)).hexdigest()  # the zip itself was read, not the disk


def test_a_layout_folder_whose_blob_is_a_link_to_a_device_is_refused(tmp_path: Path, cli: Runner,
                                                                     keypair: KeyPair) -> None:
    pem = keypair("author")
    d = write_skill(tmp_path / "src", name="layout-skill")
    layout = tmp_path / "layout"
    assert cli("push", d, f"oci-layout:{layout}:1.0.0", "--key", "author")[0] == 0
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = next(m["digest"] for m in index["manifests"]
                           if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == "1.0.0")
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_digest.split(":")[1]).read_text())
    blob = layout / "blobs" / "sha256" / manifest["layers"][0]["digest"].split(":")[1]
    blob.unlink()
    blob.symlink_to("/dev/zero")  # would be read forever
    code, _, err = cli("pull", f"oci-layout:{layout}:1.0.0", "-o", tmp_path / "out", "--pubkey", pem)
    assert code == 1 and "symbolic link" in err and "Traceback" not in err, err
    assert not (tmp_path / "out").exists()


def test_trust_store_and_lockfile_that_are_links_or_fifos_are_one_line_errors(tmp_path: Path, cli: Runner) -> None:
    import os

    ws = tmp_path / "ws"
    write_skill(ws, name="demo-skill")
    trust_dir = ws / ".skillstudio" / "trust"
    trust_dir.mkdir(parents=True)
    (trust_dir / "mallory.pem").symlink_to("/dev/zero")  # would be read forever
    z = tmp_path / "x.zip"
    pack_skill(ws / "demo-skill", z)
    (tmp_path / "x.zip.sig.json").write_text("{}")
    code, _, err = cli("verify", z, "--trust", ws)
    assert code == 2 and "mallory.pem cannot be read" in err and "Traceback" not in err, err
    os.mkfifo(ws / "skills.lock")  # would block forever
    code, _, err = cli("lock", ws, "--check")
    assert code == 2 and "skills.lock" in err and "FIFO" in err, err
