"""`skillstudio exec` end to end (a real process, real sandboxes) and `skillstudio doctor`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from skillstudio.errors import EnvironmentProblem, SkillStudioError
from skillstudio.sandbox.backends import open_executor


def skillstudio(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skillstudio", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.mark.bwrap
def test_exec_subprocess_exit_codes(bwrap_available: None, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    ok = skillstudio("exec", "--data", str(data), "--", "sh", "-c", "echo out; echo err >&2; echo f > made")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == "out\n" and "err" in ok.stderr and (data / "made").read_text() == "f\n"
    assert skillstudio("exec", "--data", str(data), "--", "sh", "-c", "exit 9").returncode == 9
    slow = skillstudio("exec", "--sandbox", "subprocess", "--data", str(data), "--timeout", "1", "--",
                       "sh", "-c", "sleep 30")
    assert slow.returncode == 124 and "timed out" in slow.stderr
    missing = skillstudio("exec", "--data", str(tmp_path / "nope"), "--", "true")
    assert missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    bad = skillstudio("exec", "--data", str(data), "--allow-domain", "not a host", "--", "true")
    assert bad.returncode == 2 and "bad allowed domain" in bad.stderr
    assert skillstudio("exec", "--data", str(data)).returncode == 2  # no command
    refused = skillstudio("exec", "--sandbox", "none", "--data", str(data), "--", "true")
    assert refused.returncode == 2 and "--unsandboxed-i-know" in refused.stderr
    unsafe = skillstudio("exec", "--sandbox", "none", "--unsandboxed-i-know", "--data", str(data), "--", "pwd")
    assert unsafe.returncode == 0 and unsafe.stdout.strip() == str(data.resolve()) and "WITHOUT a sandbox" in unsafe.stderr
    js = skillstudio("exec", "--json", "--max-output", "100", "--data", str(data), "--", "sh", "-c", "seq 1 1000")
    result = json.loads(js.stdout)
    assert js.returncode == 0 and result["truncated"] is True and result["exit_code"] == 0


@pytest.mark.docker
def test_exec_docker_exit_codes(docker_client: object, docker_executor: object, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    if os.getuid() == 0:
        os.chown(data, 1000, 1000)
    r = skillstudio("exec", "--sandbox", "docker", "--data", str(data), "--", "sh", "-c", "id -u; exit 5")
    assert r.returncode == 5, r.stderr
    assert r.stdout.strip() == "1000"
    t = skillstudio("exec", "--sandbox", "docker", "--data", str(data), "--timeout", "1", "--", "sleep", "30")
    assert t.returncode == 124


def test_missing_bwrap_is_an_environment_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without bubblewrap on PATH
    with pytest.raises(EnvironmentProblem) as err:
        open_executor("subprocess")
    assert "apt-get install bubblewrap" in err.value.hint
    with pytest.raises(SkillStudioError, match="refusing to run without a sandbox"):
        open_executor("none")


def test_doctor_reports(bwrap_available: None) -> None:
    from skillstudio.cli import doctor_cmd

    app = typer.Typer()
    doctor_cmd.register(app)
    res = CliRunner().invoke(app, ["doctor", "--json"])
    assert res.exit_code == 0, res.output
    checks = {c["name"]: c for c in json.loads(res.output)["checks"]}
    assert checks["bubblewrap (subprocess sandbox)"]["ok"] is True
    assert checks["a sandbox backend"]["ok"] is True
    text = CliRunner().invoke(app, ["sandbox", "doctor"])
    assert text.exit_code == 0 and "bubblewrap" in text.output
