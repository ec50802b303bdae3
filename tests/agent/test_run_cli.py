"""`skillstudio run` end to end: a real process, the scripted server, the real sandbox, CONTRACT's JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from support.fake_agent_server import FakeAgentServer, Script, message, outputs_sent, response, shell_call

SKILL = "network-config"


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, OPENAI_API_KEY="sk-test-key", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "skillstudio", "run", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120, check=False)


def test_run_cli_json_matches_contract(bwrap_available: None, example_workspace: Path, tmp_path: Path) -> None:
    def final(body: dict[str, Any]) -> dict[str, Any]:
        return response([message("Config rendered: " + outputs_sent(body)[-1]["output"][0]["stdout"].splitlines()[0])])

    script = Script(responses=[response([shell_call(f"cat /skills/{SKILL}/SKILL.md")]),
                               response([shell_call("ls /data && echo rendered")]), final])
    data = tmp_path / "data"
    data.mkdir()
    (data / "input.txt").write_text("x")
    out = tmp_path / "run.json"
    with FakeAgentServer(script) as srv:
        proc = _run([str(example_workspace), "--prompt", "Render the switch config", "--base-url", srv.base_url,
                     "--model", "gpt-test", "--pin", SKILL, "--data", str(data), "--json", str(out),
                     "--max-turns", "5", "--stream", "--markdown", str(tmp_path / "run.md")], tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert list(doc)[:5] == ["final", "skills_loaded", "items", "usage", "compactions"]
    assert doc["final"] == "Config rendered: input.txt" and doc["skills_loaded"] == [SKILL]
    assert doc["usage"] == {"input_tokens": 300, "output_tokens": 60} and doc["compactions"] == 0
    assert [i["type"] for i in doc["items"]] == ["shell_call", "shell_call_output", "shell_call",
                                                 "shell_call_output", "message"]
    call, output = doc["items"][0], doc["items"][1]
    assert call["commands"] == [f"cat /skills/{SKILL}/SKILL.md"]
    assert output["exit_code"] == 0 and output["stderr"] == ""
    assert output["stdout"] == (example_workspace / SKILL / "SKILL.md").read_text()
    assert doc["items"][3]["stdout"] == "input.txt\nrendered\n" and doc["items"][4]["text"] == doc["final"]
    # The transcript streamed to the terminal, and was saved and exported.
    assert f"$ cat /skills/{SKILL}/SKILL.md" in proc.stdout and "skill loaded: network-config" in proc.stdout
    assert proc.stdout.count("Config rendered: input.txt") == 1  # streamed once, not printed again
    assert (example_workspace / ".skillstudio" / "runs" / "agent" / f"{doc['run_id']}.json").is_file()
    assert "$ ls /data && echo rendered" in (tmp_path / "run.md").read_text()
    # The run store: listed, and exported again from disk.
    env = dict(os.environ, COLUMNS="200")
    listed = subprocess.run([sys.executable, "-m", "skillstudio", "transcripts", str(example_workspace)],
                            capture_output=True, text=True, env=env, timeout=60, check=False)
    assert listed.returncode == 0 and doc["run_id"] in listed.stdout and f"pinned {SKILL}" in listed.stdout
    md = subprocess.run([sys.executable, "-m", "skillstudio", "transcripts", str(example_workspace), doc["run_id"][:18],
                         "--markdown"], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert md.returncode == 0 and md.stdout == (tmp_path / "run.md").read_text()


def test_run_cli_pinned_violation_exits_1(bwrap_available: None, example_workspace: Path, tmp_path: Path) -> None:
    script = Script(responses=[response([shell_call("cat /skills/crm-query/SKILL.md")]), response([message("x")])])
    with FakeAgentServer(script) as srv:
        proc = _run([str(example_workspace), "--prompt", "Render the switch config", "--base-url", srv.base_url,
                     "--pin", f"{SKILL}@1.0.0", "--json", "-"], tmp_path)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["outcome"] == "routing_violation" and doc["skills_loaded"] == ["crm-query"]
    assert f"pinned run failed: pinned to {SKILL}@1.0.0, but the model touched crm-query" in proc.stderr


def test_run_cli_bad_input_is_one_line(example_workspace: Path, tmp_path: Path) -> None:
    proc = _run([str(example_workspace), "--prompt", "x", "--base-url", "http://127.0.0.1:9/v1",
                 "--pin", f"{SKILL}@9.9.9"], tmp_path)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"pinned {SKILL}@9.9.9, but {SKILL} is at version" in proc.stderr
    proc = _run([str(tmp_path / "nope"), "--prompt", "x", "--base-url", "http://127.0.0.1:9/v1"], tmp_path)
    assert proc.returncode == 2 and "no such folder" in proc.stderr and "Traceback" not in proc.stderr
    proc = _run([str(example_workspace), "--prompt", "x", "--base-url", "http://127.0.0.1:9/v1", "--pin", "Bad Name"],
                tmp_path)
    assert proc.returncode == 2 and "bad pinned skill 'Bad Name' (--pin)" in proc.stderr


def test_run_cli_unwritable_json_path_is_one_line(bwrap_available: None, example_workspace: Path,
                                                  tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    with FakeAgentServer(Script(responses=[response([message("hi")])])) as srv:
        proc = _run([str(example_workspace), "--prompt", "hello", "--base-url", srv.base_url,
                     "--json", str(tmp_path / "a-file" / "x.json")], tmp_path)
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr
    assert "the transcript is saved at" in proc.stderr
