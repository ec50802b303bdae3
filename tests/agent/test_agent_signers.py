"""Pinned runs check the lock's signers: trusted here, and a locally available signature verifies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from skillstudio.agent.routing import Pin, plan
from skillstudio.errors import CheckFailed
from skillstudio.release import attest, keys, lockfile, oci, trust
from skillstudio.release.layout import parse_layout_ref
from skillstudio.release.pack import pack_skill

SKILL = "ledger-reconcile"


def _key(name: str) -> keys.KeyInfo:
    keys.delete(name)  # the session keyring is shared by tests
    return keys.generate(name, rotate=True)


@pytest.fixture()
def signed(real_keyring: None, example_workspace: Path, tmp_path: Path) -> tuple[Path, Path, keys.KeyInfo]:
    """The skill packed, signed by a trusted approver, pushed to an OCI layout and approved in skills.lock."""
    approver = _key("run-approver")
    trust.add_key(example_workspace, "security", approver.public_pem.encode(), ["approver"])
    z = tmp_path / "bundle.zip"
    pack_skill(example_workspace / SKILL, z)
    _, env, _ = attest.sign_bundle(z, "run-approver")
    layout = tmp_path / "layout"
    version = str(lockfile.workspace_digest(example_workspace / SKILL)[1])
    source = f"oci-layout:{layout}:{version}"
    oci.push_bundle(z, env, parse_layout_ref(source))
    entry = lockfile.lock_from_signature(example_workspace, example_workspace / SKILL, env,
                                         trust.load(example_workspace), source)
    assert entry.signers == [approver.keyid]
    return example_workspace, layout, approver


def test_signature_found_locally_is_verified(signed: tuple[Path, Path, keys.KeyInfo]) -> None:
    ws, _, _ = signed
    r = plan(ws, Pin(SKILL))
    assert r.lock == "approved" and r.signature == "verified"
    assert r.record()["signature"] == "verified"


def test_no_local_signature_is_said_in_the_routing_record(signed: tuple[Path, Path, keys.KeyInfo]) -> None:
    ws, layout, approver = signed
    shutil.rmtree(layout)
    r = plan(ws, Pin(SKILL))
    assert r.lock == "approved" and r.signature == "unverified"
    note = next(n for n in r.record()["notes"] if "no signature" in n)
    assert approver.keyid[:16] in note and "not verified" in note and str(layout) in note


def test_signer_missing_from_the_trust_store_is_refused(signed: tuple[Path, Path, keys.KeyInfo]) -> None:
    ws, _, _ = signed
    trust.remove_key(ws, "security")
    with pytest.raises(CheckFailed, match="not in the workspace trust store"):
        plan(ws, Pin(SKILL))


def test_a_signature_by_another_key_than_the_approved_one_is_refused(signed: tuple[Path, Path, keys.KeyInfo]) -> None:
    ws, _, _ = signed
    other = _key("run-other-approver")
    trust.add_key(ws, "other", other.public_pem.encode(), ["approver"])
    lock_path = ws / lockfile.LOCK_NAME
    data = yaml.safe_load(lock_path.read_text())
    data["skills"][SKILL]["signers"] = [other.keyid]  # the lock approves a signer whose signature is not here
    lock_path.write_text(yaml.safe_dump(data))
    with pytest.raises(CheckFailed, match="no local signature matches the lock"):
        plan(ws, Pin(SKILL))
