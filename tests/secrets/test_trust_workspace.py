"""Hostile tests for workspace trust: a pull request edits bindings or policies; nothing applies until approved.

Real keyring (the secret's value), real files, the real CLI in a subprocess; the approval store is
the user config folder the suite redirects (SKILLSTUDIO_CONFIG_DIR).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from skillstudio.sandbox.policy import (
    NetworkPolicy,
    PolicySettings,
    effective_settings,
    load_settings,
    save_settings,
)
from skillstudio.secrets import trust
from skillstudio.secrets.placeholders import SecretSession
from skillstudio.secrets.vault import Vault
from support.leaks import register_test_secret

VALUE = register_test_secret("tok-trust-REAL-31415926")
ROOT = Path(__file__).resolve().parents[2]


def _ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "crm-query").mkdir(parents=True)
    (ws / "crm-query" / "SKILL.md").write_text("---\nname: crm-query\ndescription: Query the CRM.\n---\nBody\n")
    return ws


def _pr_edit(path: Path, old: str, new: str) -> None:
    """What a merged pull request does: the file changes under the user's feet."""
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "desktop")}
    return subprocess.run([sys.executable, "-m", "skillstudio", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120, check=False)


@pytest.mark.keyring
def test_a_redirected_binding_does_not_apply_until_approved(real_keyring: None, tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    Vault(ws).set("CRM_TOKEN", VALUE, domains=["api.crm.example.com"])
    assert trust.state(ws).trusted  # the user's own write is approved with it
    assert SecretSession.open(["CRM_TOKEN"], workspace=ws).bound_domains() == ["api.crm.example.com"]

    _pr_edit(ws / ".skillstudio" / "secrets.yaml", "api.crm.example.com", "collector.evil.example.net")
    with pytest.raises(trust.UntrustedWorkspace) as err:
        SecretSession.open(["CRM_TOKEN"], workspace=ws)
    assert "trust show" in err.value.hint and "changed: .skillstudio/secrets.yaml" in err.value.message
    st = trust.state(ws)
    assert [c.line() for c in st.changes] == ["changed: .skillstudio/secrets.yaml"]
    assert "\n-    - api.crm.example.com\n+    - collector.evil.example.net\n" in st.changes[0].diff

    # The user's unrelated edit does not launder the change.
    Vault(ws).bind("CRM_TOKEN", description="CRM read token")
    assert not trust.state(ws).trusted

    trust.approve(ws)
    assert SecretSession.open(["CRM_TOKEN"], workspace=ws).bound_domains() == ["collector.evil.example.net"]
    # Stored with the user, not in the workspace.
    assert trust.store_path().is_relative_to(Path(os.environ["SKILLSTUDIO_CONFIG_DIR"]))
    assert sorted(p.name for p in (ws / ".skillstudio").iterdir()) == ["secrets.yaml"]


def test_a_committed_policy_applies_only_after_approval_and_again_after_each_change(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    pol = ws / ".skillstudio" / "policies"
    pol.mkdir(parents=True)
    (pol / "workspace.json").write_text(json.dumps({"network": {"allow": ["api.example.com"]},
                                                    "limits": {"wall_s": 30}}))
    with pytest.raises(trust.UntrustedWorkspace, match="added: .skillstudio/policies/workspace.json"):
        load_settings(ws)
    with pytest.raises(trust.UntrustedWorkspace):
        effective_settings(ws, "crm-query")
    shown = load_settings(ws, approved=False)  # shown to the user, never run
    assert shown is not None and shown.network.allow == ["api.example.com"]

    trust.approve(ws)
    assert effective_settings(ws, "crm-query").network.allow == ["api.example.com"]

    # A later commit removes every limit for one skill: a new file, pending again.
    (pol / "crm-query.json").write_text(json.dumps({"network": {"allow": ["api.example.com:8443"]},
                                                    "limits": {"wall_s": 100000, "memory_mb": None}}))
    with pytest.raises(trust.UntrustedWorkspace, match="added: .skillstudio/policies/crm-query.json"):
        effective_settings(ws, "crm-query")
    # Removing an approved file is a change too.
    (pol / "crm-query.json").unlink()
    assert trust.state(ws).trusted
    (pol / "workspace.json").unlink()
    assert [c.line() for c in trust.state(ws).changes] == ["removed: .skillstudio/policies/workspace.json"]


def test_the_users_own_save_stays_approved_a_pending_file_stays_pending(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    save_settings(ws, PolicySettings(network=NetworkPolicy(allow=["api.example.com"])))
    assert trust.state(ws).trusted
    save_settings(ws, PolicySettings(network=NetworkPolicy(allow=["api.example.org"])), "crm-query")
    assert trust.state(ws).trusted
    _pr_edit(ws / ".skillstudio" / "policies" / "workspace.json", "api.example.com", "api.example.net")
    save_settings(ws, PolicySettings(network=NetworkPolicy(allow=["api.example.com"])))  # overwrites the PR
    assert trust.state(ws).trusted  # the save wrote back exactly the approved content
    _pr_edit(ws / ".skillstudio" / "policies" / "crm-query.json", "api.example.org", "api.example.net")
    save_settings(ws, PolicySettings(network=NetworkPolicy(allow=["api.example.com"])))  # another file
    assert [c.line() for c in trust.state(ws).changes] == ["changed: .skillstudio/policies/crm-query.json"]


def test_a_moved_workspace_and_a_swapped_link_target_need_approval_again(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    save_settings(ws, PolicySettings(network=NetworkPolicy(allow=["api.example.com"])))
    moved = tmp_path / "moved"
    shutil.copytree(ws, moved)
    assert trust.state(ws).trusted and not trust.state(moved).trusted

    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"network": {"allow": ["api.example.com"]}}))
    target = ws / ".skillstudio" / "policies" / "crm-query.json"
    target.symlink_to(outside)
    trust.approve(ws)
    outside.write_text(json.dumps({"network": {"allow": ["*.example.net"]}}))  # the link's target changed
    assert [c.line() for c in trust.state(ws).changes] == ["changed: .skillstudio/policies/crm-query.json"]
    # The user's own save through Skill Studio replaces the link with a file; the change stays pending.
    save_settings(ws, PolicySettings(), "crm-query")
    assert not target.is_symlink() and json.loads(outside.read_text())["network"]["allow"] == ["*.example.net"]
    assert [c.line() for c in trust.state(ws).changes] == ["changed: .skillstudio/policies/crm-query.json"]


def test_cli_show_approve_and_refusal_with_exit_2(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    pol = ws / ".skillstudio" / "policies"
    pol.mkdir(parents=True)
    (pol / "crm-query.json").write_text(json.dumps({"network": {"allow": ["api.example.com"]}}) + "\n")
    data = tmp_path / "data"
    data.mkdir()

    r = _cli("exec", "--data", str(data), "--skill", str(ws / "crm-query"), "--", "true")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "unapproved changes" in lines[0] and f"skillstudio trust approve {ws}" in lines[0]
    assert "Traceback" not in r.stderr

    r = _cli("trust", "show", str(ws))
    assert r.returncode == 0 and "1 unapproved: added: .skillstudio/policies/crm-query.json" in r.stdout
    assert '+{"network": {"allow": ["api.example.com"]}}' in r.stdout
    r = _cli("trust", "show", str(ws), "--json")
    assert json.loads(r.stdout)["trusted"] is False

    r = _cli("trust", "approve", str(ws))
    assert r.returncode == 0 and "approved 1 file(s)" in r.stdout
    r = _cli("trust", "show", str(ws), "--json")
    assert json.loads(r.stdout)["trusted"] is True and json.loads(r.stdout)["changes"] == []

    r = _cli("trust", "show", str(tmp_path / "nope"))
    assert r.returncode == 2 and "is not a folder" in r.stderr


def test_hosts_trusted_with_secrets_are_the_users(tmp_path: Path) -> None:
    assert trust.secret_hosts() == []
    assert trust.trust_secret_host("LLM.Example.com") == ["llm.example.com"]
    with pytest.raises(Exception, match="invalid host"):
        trust.trust_secret_host("https://llm.example.com/v1")
    assert trust.trust_secret_host("llm.example.com", trusted=False) == []
