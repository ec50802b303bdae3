"""The policy model: allow-list matching, validation, saving per workspace and per skill, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from skillstudio.bundle.model import FrontMatter
from skillstudio.errors import SkillStudioError
from skillstudio.sandbox.executor import CappedOutput
from skillstudio.sandbox.policy import (
    AllowedHost,
    NetworkPolicy,
    Policy,
    PolicySettings,
    SkillMount,
    effective_settings,
    load_settings,
    save_settings,
    suggest_settings,
)


@pytest.mark.parametrize(("entry", "host", "port", "ok"), [
    ("api.example.com", "api.example.com", 443, True),
    ("api.example.com", "API.Example.com.", 443, True),
    ("api.example.com", "api.example.com", 80, False),  # no port: HTTPS (443) only
    ("api.example.com:80", "api.example.com", 80, True),
    ("api.example.com", "example.com", 443, False),
    ("api.example.com", "evil-api.example.com", 443, False),
    ("*.example.com", "a.example.com", 443, True),
    ("*.example.com", "a.b.example.com", 443, True),
    ("*.example.com", "example.com", 443, False),
    ("*.example.com", "notexample.com", 443, False),
    ("example.com:8443", "example.com", 8443, True),
    ("example.com:8443", "example.com", 443, False),
])
def test_allow_matching(entry: str, host: str, port: int, ok: bool) -> None:
    assert AllowedHost.parse(entry).matches(host, port) is ok


@pytest.mark.parametrize("bad", ["*", "exa mple.com", "http://x.com", "x.com:0", "x.com:99999", "-x.com", "[::1", "[x.com]:443", "*.com", "*.co.uk", "*.0.1", ""])
def test_bad_allow_entries_are_clear_errors(bad: str) -> None:
    with pytest.raises(SkillStudioError) as err:
        NetworkPolicy(allow=[bad])
    assert err.value.hint


def test_network_off_unless_listed() -> None:
    assert not NetworkPolicy().enabled
    assert not NetworkPolicy().allows("example.com", 443)
    net = NetworkPolicy(allow=["Example.COM"])
    assert net.enabled and net.allow == ["example.com"] and net.allows("example.com", 443)


def test_checked_refuses_missing_or_broad_data(tmp_path: Path) -> None:
    with pytest.raises(SkillStudioError, match="does not exist"):
        Policy(data_dir=tmp_path / "nope").checked()
    with pytest.raises(SkillStudioError, match="too broad"):
        Policy(data_dir=Path("/")).checked()
    rel = Policy(data_dir=tmp_path).checked()
    assert rel.data_dir.is_absolute()
    with pytest.raises(ValueError):
        SkillMount(source=tmp_path, name="../etc")


def test_save_load_per_workspace_and_skill(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    assert load_settings(ws) is None
    w = PolicySettings(network=NetworkPolicy(allow=["*.github.com"]))
    s = PolicySettings(network=NetworkPolicy(allow=["api.salesforce.com:443"]), env={"MODE": "test"})
    s.limits.wall_s = 5
    save_settings(ws, w)
    save_settings(ws, s, skill="crm-query")
    assert (ws / ".skillstudio" / "policies" / "workspace.json").is_file()
    assert load_settings(ws) == w
    assert load_settings(ws, "crm-query") == s
    assert effective_settings(ws, "crm-query") == s
    assert effective_settings(ws, "other-skill") == w  # falls back to the workspace's
    (ws / ".skillstudio" / "policies" / "workspace.json").write_text("{not json")
    with pytest.raises(SkillStudioError, match="broken sandbox policy"):
        load_settings(ws)


def test_defaults_informed_by_front_matter() -> None:
    fm = FrontMatter.from_mapping({"name": "crm", "description": "d",
                                   "compatibility": "Requires network access to api.salesforce.com and login.salesforce.com",
                                   "allowed-tools": "Bash(python:*) WebFetch(domain:docs.example.org)"})
    s = suggest_settings(fm)
    assert s.network.allow == ["docs.example.org", "api.salesforce.com", "login.salesforce.com"]
    assert suggest_settings(None).network.allow == []
    no_shell = suggest_settings(FrontMatter.from_mapping({"name": "x", "allowed-tools": "Read Grep"}))
    assert no_shell.limits.wall_s < PolicySettings().limits.wall_s
    assert effective_settings(None, None, fm) == s


def test_capped_output_keeps_head_and_tail() -> None:
    cap = CappedOutput(10)
    for chunk in (b"12345", b"67890", b"abcde", b"XYZ"):
        cap.feed(chunk)
    assert cap.truncated and cap.dropped == 8
    text = cap.text()
    assert text.startswith("12345") and text.endswith("cdeXYZ"[-5:]) and "8 bytes of output truncated" in text
    small = CappedOutput(100)
    small.feed(b"hello")
    assert small.text() == "hello" and not small.truncated


def test_describe_says_it_plainly(tmp_path: Path) -> None:
    (tmp_path / "skill").mkdir()
    (tmp_path / "data").mkdir()
    p = Policy.build(tmp_path / "data", network=NetworkPolicy(allow=["a.com"]),
                     skills=[SkillMount(source=tmp_path / "skill", name="crm")]).checked()
    text = "\n".join(p.describe())
    assert "network: allow a.com" in text and "/skills/crm" in text and str((tmp_path / "data").resolve()) in text
    assert p.settings().network.allow == ["a.com"]


def test_seccomp_program_shapes() -> None:
    from skillstudio.sandbox import seccomp

    for machine in ("x86_64", "aarch64"):
        prog = seccomp.program(machine)
        assert prog is not None and len(prog) % 8 == 0 and len(prog) // 8 < 64
    assert seccomp.program("riscv64") is None  # no table: no filter, not a wrong one
