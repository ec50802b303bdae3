"""A run saved as a trigger case or as a regression fixture, and the fixture replayed in the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skillstudio.agent.fixtures import replay, save_fixture, save_trigger_case
from skillstudio.agent.runner import RunRequest, execute, sandbox_for
from skillstudio.bundle.triggers import load_cases
from skillstudio.errors import SkillStudioError
from support.fake_agent_server import FakeAgentServer, Script, message, response, shell_call

SKILL = "ledger-reconcile"
SAMPLE = f"/skills/{SKILL}/assets/sample-2026-10"


def _run(make_request: Callable[..., RunRequest]) -> dict[str, Any]:
    script = Script(responses=[
        response([shell_call(f"python3 /skills/{SKILL}/scripts/reconcile.py {SAMPLE} --json", "echo ok")]),
        response([message("done")])])
    with FakeAgentServer(script) as srv:
        return execute(make_request(srv.base_url, "Reconcile the October cash account, please")).to_json()


def test_save_trigger_case_keeps_comments_and_refuses_duplicates(bwrap_available: None, example_workspace: Path,
                                                                 make_request: Callable[..., RunRequest]) -> None:
    doc = _run(make_request)
    path = example_workspace / SKILL / "evals" / "triggers.yaml"
    before = path.read_text()
    case = save_trigger_case(example_workspace, doc, SKILL, why="from a run")
    after = path.read_text()
    assert after.startswith(before)  # appended: comments and layout untouched
    cases = load_cases(example_workspace / SKILL)
    assert cases[-1].prompt == doc["prompt"] and cases[-1].expect == "trigger" == case.expect
    assert save_trigger_case(example_workspace, doc, "crm-query").expect == "no_trigger"  # not loaded there
    with pytest.raises(SkillStudioError, match="already has a case"):
        save_trigger_case(example_workspace, doc, SKILL)
    with pytest.raises(SkillStudioError, match="no skill"):
        save_trigger_case(example_workspace, doc, "nope")


def test_fixture_replays_unchanged_then_detects_a_changed_script(bwrap_available: None, example_workspace: Path,
                                                                 make_request: Callable[..., RunRequest],
                                                                 tmp_path: Path) -> None:
    doc = _run(make_request)
    path = save_fixture(example_workspace, doc, "october")
    fixture = json.loads(path.read_text())
    assert [c["commands"][1] for c in fixture["calls"]] == ["echo ok"]
    assert fixture["calls"][0]["outputs"][0]["exit_code"] == 0
    data = tmp_path / "replay-data"
    data.mkdir()
    shell = sandbox_for(example_workspace, data_dir=data)
    try:
        assert replay(path, shell) == []
        script = example_workspace / SKILL / "scripts" / "reconcile.py"
        script.write_text(script.read_text().replace("amount_mismatch", "amount_changed"))
        changed = replay(path, shell)
    finally:
        shell.executor.close()
    assert [m.field for m in changed] == ["stdout"] and "reconcile.py" in changed[0].command
    # The CLI: exit 1 and the change named.
    env = dict(os.environ, COLUMNS="200")
    proc = subprocess.run([sys.executable, "-m", "skillstudio", "replay", str(example_workspace), "october",
                           "--data", str(data)], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 1 and "changed:" in proc.stderr and "stdout" in proc.stderr
    with pytest.raises(SkillStudioError, match="bad fixture name"):
        save_fixture(example_workspace, doc, "../x")


def test_cli_saves_a_case_from_a_saved_run(bwrap_available: None, example_workspace: Path,
                                           make_request: Callable[..., RunRequest]) -> None:
    doc = _run(make_request)
    env = dict(os.environ, COLUMNS="200")
    proc = subprocess.run([sys.executable, "-m", "skillstudio", "transcripts", str(example_workspace), doc["run_id"],
                           "--save-case", "support-reply"], capture_output=True, text=True, env=env, timeout=60,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "expect no_trigger" in proc.stdout
    assert load_cases(example_workspace / "support-reply")[-1].prompt == doc["prompt"]
