"""A cost limit stops the run (outcome `limit_cost`) with the transcript kept; prices from prices.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from skillstudio import userdirs
from skillstudio.agent.loop import RunLimits
from skillstudio.agent.runner import RunRequest, execute
from skillstudio.errors import SkillStudioError
from support.fake_agent_server import FakeAgentServer, Script, response, shell_call

BUSY = [response([shell_call("echo step")], in_tokens=900, out_tokens=200)] * 5  # $0.017 a turn at the prices below


@pytest.fixture()
def priced() -> None:
    """The user's prices.json (it overrides the shipped table) prices the test model."""
    path = userdirs.config_dir() / "prices.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"models": {"gpt-test": {"input": 10.0, "output": 40.0}}}))


def test_cost_limit_stops_the_run_and_keeps_the_transcript(bwrap_available: None, priced: None,
                                                           make_request: Callable[..., RunRequest]) -> None:
    with FakeAgentServer(Script(responses=list(BUSY))) as srv:
        t = execute(make_request(srv.base_url, limits=RunLimits(max_cost_usd=0.03)))
    assert t.outcome == "limit_cost" and t.stop_reason == "max cost reached ($0.0340 of $0.03)"
    assert len(srv.bodies()) == 2 and t.turns == 2  # $0.017 after one turn, $0.034 after two: no third request
    assert [i["stdout"] for i in t.items if i["type"] == "shell_call_output"] == ["step\n", "step\n"]
    assert t.saved_to is not None
    saved = json.loads(t.saved_to.read_text())
    assert saved["outcome"] == "limit_cost" and saved["usage"] == {"input_tokens": 1800, "output_tokens": 400}

    with FakeAgentServer(Script(responses=list(BUSY))) as srv:  # a limit above what the run costs: no stop
        t = execute(make_request(srv.base_url, limits=RunLimits(max_cost_usd=1.0, max_turns=3)))
    assert t.outcome == "limit" and "max turns" in t.stop_reason


def test_cost_limit_for_a_model_without_a_price_is_refused_before_anything_runs(
        make_request: Callable[..., RunRequest]) -> None:
    with FakeAgentServer(Script(responses=list(BUSY))) as srv:
        with pytest.raises(SkillStudioError, match="no price for model 'gpt-test'"):
            execute(make_request(srv.base_url, limits=RunLimits(max_cost_usd=0.5)))
        assert srv.bodies() == []


def test_run_cli_max_cost(bwrap_available: None, priced: None, example_workspace: Path, tmp_path: Path) -> None:
    env = dict(os.environ, OPENAI_API_KEY="sk-test-key", COLUMNS="200")
    with FakeAgentServer(Script(responses=list(BUSY))) as srv:
        proc = subprocess.run([sys.executable, "-m", "skillstudio", "run", str(example_workspace), "--prompt", "go",
                               "--base-url", srv.base_url, "--model", "gpt-test", "--max-cost", "0.02", "--json", "-"],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["outcome"] == "limit_cost" and doc["turns"] == 2
    assert "stopped at its cost limit" in proc.stderr and "Traceback" not in proc.stderr
