"""The same agent loop with the Docker sandbox backend (a warm container per run)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skillstudio.agent.runner import RunRequest, execute
from support.fake_agent_server import FakeAgentServer, Script, message, outputs_sent, response, shell_call

pytestmark = pytest.mark.docker
SKILL = "ledger-reconcile"


def test_docker_backend_runs_the_skill_script(docker_client: Any, make_request: Callable[..., RunRequest],
                                              tmp_path: Path) -> None:
    data = tmp_path / "docker-data"
    data.mkdir()
    if os.getuid() == 0:
        os.chown(data, 1000, 1000)  # the container runs as the data folder's owner
    script = Script(responses=[
        response([shell_call(f"python3 /skills/{SKILL}/scripts/reconcile.py /skills/{SKILL}/assets/sample-2026-10",
                             "echo saved > /data/out.txt", f"touch /skills/{SKILL}/nope")]),
        lambda body: response([message(outputs_sent(body)[-1]["output"][0]["stdout"].splitlines()[0])]),
    ])
    with FakeAgentServer(script) as srv:
        t = execute(make_request(srv.base_url, sandbox="docker", docker_client=docker_client, data_dir=data))
    outs = outputs_sent(srv.bodies()[1])[0]["output"]
    assert outs[0]["outcome"] == {"type": "exit", "exit_code": 0} and "INV-1003" in outs[0]["stdout"]
    assert outs[1]["outcome"] == {"type": "exit", "exit_code": 0} and (data / "out.txt").read_text() == "saved\n"
    assert outs[2]["outcome"]["exit_code"] != 0  # the skill is mounted read-only
    assert t.outcome == "completed" and t.sandbox == "docker" and t.final == "# Bank reconciliation"
