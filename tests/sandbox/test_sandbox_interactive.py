"""The console's core (sandbox.interactive): live output on both backends, redacted even mid-stream."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skillstudio.errors import SkillStudioError
from skillstudio.sandbox.interactive import ConsoleRequest, defaults, describe, run, skill_scripts
from skillstudio.sandbox.policy import Limits, PolicySettings, save_settings
from support.leaks import register_sweep_root, register_test_secret

VALUE = register_test_secret("sk-interactive-LIVE-0a1b2c3d4e5f")


def _data(tmp_path: Path, kind: str) -> Path:
    d = register_sweep_root(tmp_path / "data")
    d.mkdir()
    if kind == "docker" and os.getuid() == 0:
        os.chown(d, 1000, 1000)
    return d


@pytest.mark.bwrap
@pytest.mark.docker
@pytest.mark.parametrize("kind", ["subprocess", "docker"])
def test_output_is_live(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The command waits for a file that only the output callback creates: without live output it times out."""
    request.getfixturevalue("bwrap_available" if kind == "subprocess" else "docker_executor")
    data = _data(tmp_path, kind)
    seen: list[tuple[str, str]] = []

    def on_output(stream: str, text: str) -> None:
        seen.append((stream, text))
        if "ready" in text:
            (data / "go").touch()

    events: list[str] = []
    req = ConsoleRequest(backend=kind, data_dir=data, limits=Limits(wall_s=30), allow=["api.allowed.test"])
    script = ("echo ready; while [ ! -e go ]; do sleep 0.05; done; "
              "curl -s --max-time 10 -o /dev/null https://refused.example.com/; echo done >&2; exit 3")
    out = run(req, script, on_output=on_output, on_proxy=lambda e: events.append(e.line()))
    assert out.result.exit_code == 3 and not out.result.timed_out
    assert "".join(t for s, t in seen if s == "stdout") == "ready\n"
    assert "".join(t for s, t in seen if s == "stderr") == "done\n"
    assert events == ["refused CONNECT refused.example.com:443 (not on the allow list)"]
    assert out.warnings == [] and out.secret_exposed == []


@pytest.mark.bwrap
@pytest.mark.keyring
def test_exposed_value_split_across_writes_is_redacted_live(bwrap_available: None, real_keyring: None,
                                                            tmp_path: Path) -> None:
    from skillstudio.secrets.vault import Vault

    Vault().set("API_TOKEN", VALUE, domains=["api.test.local"])
    data = _data(tmp_path, "subprocess")
    chunks: list[str] = []
    req = ConsoleRequest(data_dir=data, secrets=["API_TOKEN"], exposed=True)
    script = ('v="$API_TOKEN"; head="${v%????????????}"; printf "x=%s" "$head"; sleep 0.3; '
              'printf "%s\\n" "${v#"$head"}"; echo "$v" | base64')
    out = run(req, script, on_output=lambda s, t: chunks.append(t))
    live = "".join(chunks)
    assert live.splitlines()[0] == "x=[secret:API_TOKEN]"  # one value in two writes, still caught
    assert VALUE not in live and VALUE not in out.result.stdout
    assert out.result.stdout == live and out.secret_exposed == ["API_TOKEN"]
    assert out.warnings[0].startswith("secret exposed: API_TOKEN")
    lines = describe(req, ["api.test.local"])
    assert "secrets: API_TOKEN as RAW VALUES in the environment (secret exposed); real values only on " \
           "requests to bound domains" in lines and "network: allow api.test.local" in lines


def test_defaults_scripts_and_errors(example_workspace: Path, tmp_path: Path) -> None:
    skill = example_workspace / "ledger-reconcile"
    assert skill_scripts(skill) == ["python3 /skills/ledger-reconcile/scripts/reconcile.py"]
    assert skill_scripts(None) == [] and skill_scripts(example_workspace / "crm-query") == []
    save_settings(example_workspace, PolicySettings(network={"allow": ["api.bank.example.com"]},
                                                    limits=Limits(wall_s=7)), "ledger-reconcile")
    d = defaults(example_workspace, skill)
    assert d.allow == ["api.bank.example.com"] and d.limits.wall_s == 7
    assert "not runnable yet: choose a data folder" in describe(d)
    with pytest.raises(SkillStudioError, match="no command"):
        run(d, "  ")
    d.data_dir = tmp_path / "d"
    d.allow = ["not a domain!"]
    with pytest.raises(SkillStudioError, match="bad allowed domain"):
        run(d, "true")
