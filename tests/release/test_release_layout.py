"""Local OCI image-layout target: push/pull without a server, valid for oras, copyable to a registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from oras.layout.layout import Layout
from release_support import write_skill

from skillstudio.release.layout import LayoutRef, parse_layout_ref

Runner = Callable[..., tuple[int, str, str]]
KeyPair = Callable[..., Path]


def test_layout_round_trip_oras_validates_and_copy_to_registry(oci_registry: str, tmp_path: Path, cli: Runner,
                                                               keypair: KeyPair) -> None:
    pem = keypair("author")
    stranger = keypair("stranger")
    d = write_skill(tmp_path / "ws")
    layout = tmp_path / "release"
    code, out, err = cli("push", d, f"oci-layout:{layout}:1.0.0", "--key", "author")
    assert code == 0, err
    assert "referrer via index.json" in out
    Layout(str(layout)).validate()  # an independent reader accepts the folder
    index = json.loads((layout / "index.json").read_text())
    tagged = [m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name")]
    assert [m["annotations"]["org.opencontainers.image.ref.name"] for m in tagged] == ["1.0.0"]
    assert any(m.get("artifactType") == "application/vnd.dsse.envelope.v1+json" for m in index["manifests"])

    code, _, err = cli("pull", f"oci-layout:{layout}:1.0.0", "-o", tmp_path / "out", "--pubkey", pem)
    assert code == 0, err
    assert (tmp_path / "out" / "scripts" / "query.sh").read_bytes() == (d / "scripts" / "query.sh").read_bytes()
    code, _, _ = cli("pull", f"oci-layout:{layout}:1.0.0", "-o", tmp_path / "out2", "--pubkey", stranger)
    assert code == 1 and not (tmp_path / "out2").exists()

    # copy the layout (bundle + signature) to a real registry, then pull and verify from there
    ref = f"oci://{oci_registry}/copied/demo-skill:1.0.0"
    code, out, err = cli("copy", f"oci-layout:{layout}:1.0.0", ref, "--plain-http")
    assert code == 0 and "1 signature(s)" in out, err
    code, _, err = cli("pull", ref, "-o", tmp_path / "from-registry", "--pubkey", pem, "--plain-http")
    assert code == 0, err

    # a tampered blob inside the layout is refused, nothing written
    zip_digest = [m for m in json.loads(next(
        (layout / "blobs" / "sha256" / t["digest"].split(":")[1]).read_text() for t in tagged))["layers"]][0]["digest"]
    blob = layout / "blobs" / "sha256" / zip_digest.split(":")[1]
    data = bytearray(blob.read_bytes())
    data[-30] ^= 0x01
    blob.write_bytes(bytes(data))
    code, _, err = cli("pull", f"oci-layout:{layout}:1.0.0", "-o", tmp_path / "out3", "--pubkey", pem)
    assert code == 1 and "does not match its digest" in err
    assert not (tmp_path / "out3").exists()


def test_core_push_pull_report_progress_and_honour_cancel(tmp_path: Path, keypair: KeyPair) -> None:
    from skillstudio.cancel import CancelToken
    from skillstudio.errors import Cancelled
    from skillstudio.release import attest, oci
    from skillstudio.release.pack import pack_skill

    pem = keypair("author")
    z = tmp_path / "s.zip"
    pack_skill(write_skill(tmp_path / "ws"), z)
    _, env, _ = attest.sign_bundle(z, "author")
    target = parse_layout_ref(f"oci-layout:{tmp_path / 'lay'}:1.0.0")
    steps: list[str] = []
    oci.push_bundle(z, env, target, progress=steps.append)
    assert steps[0] == "uploading the bundle config" and any("uploading the bundle (" in s for s in steps)
    steps.clear()
    from skillstudio.release import crypto

    key = crypto.load_public_pem(pem.read_bytes())
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        oci.pull_bundle(target, tmp_path / "out", {crypto.key_id(key): key}, cancel=cancel, progress=steps.append)
    assert not (tmp_path / "out").exists() and steps[-1] == "fetching signatures"
    res = oci.pull_bundle(target, tmp_path / "out", {crypto.key_id(key): key}, progress=steps.append)
    assert steps[-1] == f"writing {tmp_path / 'out'}" and res.verified.name == "demo-skill"


def test_layout_refs_and_errors(tmp_path: Path, cli: Runner, keypair: KeyPair) -> None:
    assert parse_layout_ref("oci-layout:/a/b:1.2.0") == LayoutRef(Path("/a/b"), "1.2.0")
    assert parse_layout_ref("oci-layout:rel/dir") == LayoutRef(Path("rel/dir"))
    assert parse_layout_ref("oci-layout:/x@sha256:" + "a" * 64).digest == "sha256:" + "a" * 64
    pem = keypair("author")
    code, _, err = cli("pull", f"oci-layout:{tmp_path / 'none'}:1", "-o", tmp_path / "o", "--pubkey", pem)
    assert code == 2 and "not an OCI image layout" in err
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file.txt").write_text("mine")
    code, _, err = cli("push", write_skill(tmp_path / "ws"), f"oci-layout:{tmp_path / 'busy'}:1", "--key", "author")
    assert code == 2 and "not an OCI image layout" in err
    assert (tmp_path / "busy" / "file.txt").read_text() == "mine"
