"""skills.lock and routes.yaml: approve what was signed, refuse drift and unapproved versions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from release_support import write_skill

from skillstudio.errors import CheckFailed
from skillstudio.release import attest, lockfile, trust
from skillstudio.release.dsse import Envelope
from skillstudio.release.pack import pack_skill

Runner = Callable[..., tuple[int, str, str]]
KeyPair = Callable[..., Path]


@pytest.fixture()
def approved(tmp_path: Path, cli: Runner, keypair: KeyPair) -> tuple[Path, Path, Path]:
    """A workspace with one skill signed by author + approver and a policy requiring the approver."""
    author, approver = keypair("author"), keypair("approver", "ecdsa-p256")
    ws = tmp_path / "ws"
    d = write_skill(ws, name="crm-query", version="1.2.0")
    write_skill(ws, name="unlocked", version="0.1.0")
    cli("trust", "add", ws, "alice", author, "--role", "author")
    cli("trust", "add", ws, "security", approver, "--role", "approver")
    cli("trust", "policy", ws, "--require-role", "approver")
    z = tmp_path / "crm.zip"
    pack_skill(d, z)
    attest.sign_bundle(z, "author")
    sig = tmp_path / "crm.zip.sig.json"
    return ws, z, sig


def test_lock_requires_the_policy_then_records_digest_and_signers(approved: tuple[Path, Path, Path],
                                                                  cli: Runner) -> None:
    ws, z, sig = approved
    code, _, err = cli("lock", ws / "crm-query", "--signature", sig, "--source", "oci://r/skills/crm-query:1.2.0")
    assert code == 1 and "approver" in err
    assert not (ws / "skills.lock").exists()

    attest.sign_bundle(z, "approver", sig)
    code, out, err = cli("lock", ws / "crm-query", "--signature", sig, "--source", "oci://r/skills/crm-query:1.2.0")
    assert code == 0, err
    data = yaml.safe_load((ws / "skills.lock").read_text())
    entry = data["skills"]["crm-query"]
    assert entry["version"] == "1.2.0"
    assert entry["digest"] == "sha256:" + attest.read_bundle(z.read_bytes()).sha256
    assert sorted(entry["signers"]) == sorted(trust.load(ws).keys)
    assert entry["sources"] == ["oci://r/skills/crm-query:1.2.0"]
    assert cli("lock", ws, "--check")[0] == 0

    # the same bundle published to the OpenAI Skills API too: sources merge, ids recorded
    code, _, err = cli("lock", ws / "crm-query", "--signature", sig, "--source", "openai:skill_0042@3")
    assert code == 0, err
    entry = yaml.safe_load((ws / "skills.lock").read_text())["skills"]["crm-query"]
    assert entry["sources"] == ["oci://r/skills/crm-query:1.2.0", "openai:skill_0042@3"]
    assert entry["openai"] == {"skill_id": "skill_0042", "version": "3"}


def test_verify_lock_refuses_drift_unapproved_versions_and_bad_routes(approved: tuple[Path, Path, Path],
                                                                      cli: Runner) -> None:
    ws, z, sig = approved
    attest.sign_bundle(z, "approver", sig)
    lockfile.lock_from_signature(ws, ws / "crm-query", Envelope.from_json(sig.read_bytes()), trust.load(ws))
    lockfile.set_route(ws, "pipeline-report", "crm-query", "1.2.0")
    assert lockfile.verify_lock(ws) == []

    md = ws / "crm-query" / "references" / "fields.md"
    md.write_text(md.read_text() + "| churn | lost revenue |\n")
    problems = lockfile.verify_lock(ws)
    assert len(problems) == 1 and "differs from the approved bundle" in problems[0]
    code, out, _ = cli("lock", ws, "--check")
    assert code == 1 and "crm-query@1.2.0" in out

    skill_md = ws / "crm-query" / "SKILL.md"
    skill_md.write_text(skill_md.read_text().replace('"1.2.0"', '"1.3.0"'))
    assert lockfile.verify_lock(ws) == ["crm-query: version 1.3.0 is not the approved 1.2.0"]

    lockfile.set_route(ws, "pipeline-report", "crm-query", "1.1.0")
    lockfile.set_route(ws, "triage", "unlocked", "0.1.0")
    problems = lockfile.verify_lock(ws)
    assert "route pipeline-report: crm-query@1.1.0 is not the approved 1.2.0" in problems
    assert "route triage: unlocked is not in skills.lock" in problems
    assert lockfile.load_routes(ws)["triage"] == ("unlocked", "0.1.0")


def test_check_bundle_for_pinned_runs(approved: tuple[Path, Path, Path]) -> None:
    ws, z, sig = approved
    attest.sign_bundle(z, "approver", sig)
    store = trust.load(ws)
    env = Envelope.from_json(sig.read_bytes())
    lockfile.lock_from_signature(ws, ws / "crm-query", env, store)
    entry = lockfile.check_bundle(ws, "crm-query", z.read_bytes(), env, store)
    assert entry.version == "1.2.0"

    with pytest.raises(CheckFailed, match="not the approved"):
        lockfile.check_bundle(ws, "crm-query", z.read_bytes() + b"x", env, store)
    with pytest.raises(CheckFailed, match="must be signed"):
        lockfile.check_bundle(ws, "crm-query", z.read_bytes(), None, store)
    only_author = Envelope.from_json(sig.read_bytes())
    only_author.signatures = only_author.signatures[:1]
    with pytest.raises(CheckFailed, match="approved key"):
        lockfile.check_bundle(ws, "crm-query", z.read_bytes(), only_author, store)
    with pytest.raises(CheckFailed, match="not approved"):
        lockfile.check_bundle(ws, "unlocked", z.read_bytes(), env, store)
