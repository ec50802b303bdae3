"""Generated route snippets actually run: against a local server speaking the Responses wire format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from release_support import write_skill

from skillstudio.errors import SkillStudioError
from skillstudio.release import lockfile, snippets
from skillstudio.release.pack import pack_skill


def _response(rid: str, output: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": rid, "object": "response", "created_at": 0, "model": "gpt-5.4", "status": "completed",
            "output": output, "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}


def _message(text: str) -> dict[str, Any]:
    return {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


class ResponsesAPI(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        env = body["tools"][0]["environment"]
        if env["type"] == "container_auto":
            out = _response("resp_h", [_message("hosted ok")])
        elif "previous_response_id" not in body:
            out = _response("resp_1", [{"type": "shell_call", "id": "sc_1", "call_id": "call_1",
                                        "status": "completed",
                                        "action": {"commands": ["cat /skills/crm-query/SKILL.md"],
                                                   "timeout_ms": None, "max_output_length": None}}])
        else:
            out = _response("resp_2", [_message("local ok")])
        raw = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture()
def responses_api() -> Iterator[str]:
    ResponsesAPI.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ResponsesAPI)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
    t.join(5)


@pytest.fixture()
def routed(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    d = write_skill(ws, name="crm-query", version="1.2.0")
    res = pack_skill(d, tmp_path / "crm.zip")
    lockfile.record(ws, "crm-query", lockfile.LockEntry("1.2.0", res.digest, ["ab" * 32], ["openai:skill_7@4"],
                                                        {"skill_id": "skill_7", "version": "4"}))
    lockfile.set_route(ws, "pipeline-report", "crm-query", "1.2.0")
    return ws


def _run(code: str, tmp_path: Path, base_url: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "snippet.py"
    script.write_text(code)
    env = dict(os.environ, OPENAI_BASE_URL=base_url, OPENAI_API_KEY="sk-test",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([sys.executable, str(script), "How is Acme's pipeline?"], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_hosted_snippet_pins_the_skill_reference(routed: Path, responses_api: str, tmp_path: Path,
                                                 cli: Callable[..., tuple[int, str, str]]) -> None:
    code, out, err = cli("snippet", routed, "pipeline-report", "--hosted")
    assert code == 0, err
    assert out == snippets.hosted(routed, "pipeline-report")
    r = _run(out, tmp_path, responses_api)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "hosted ok"
    [req] = ResponsesAPI.requests
    assert req["input"] == "How is Acme's pipeline?"
    assert req["tools"][0]["environment"]["skills"] == [{"type": "skill_reference", "skill_id": "skill_7",
                                                         "version": "4"}]


def test_local_snippet_checks_the_lock_and_runs_shell_calls_in_the_sandbox(
        routed: Path, responses_api: str, tmp_path: Path, bwrap_available: None) -> None:
    code = snippets.local(routed, "pipeline-report")
    r = _run(code, tmp_path, responses_api)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "local ok"
    first, second = ResponsesAPI.requests
    assert first["tools"][0]["environment"]["skills"][0]["path"] == "/skills/crm-query"
    [out] = second["input"]
    assert out["type"] == "shell_call_output" and out["call_id"] == "call_1"
    assert out["output"][0]["outcome"] == {"type": "exit", "exit_code": 0}
    assert "name: crm-query" in out["output"][0]["stdout"]

    # an unapproved change: the snippet stops before calling the model
    ResponsesAPI.requests = []
    (routed / "crm-query" / "references" / "fields.md").write_text("tampered\n")
    r = _run(code, tmp_path, responses_api)
    assert r.returncode != 0 and ResponsesAPI.requests == []
    assert "differs from the approved bundle" in r.stderr


def test_snippets_need_an_approved_route(routed: Path) -> None:
    with pytest.raises(SkillStudioError, match="no route"):
        snippets.hosted(routed, "missing")
    lockfile.set_route(routed, "old", "crm-query", "1.0.0")
    with pytest.raises(SkillStudioError, match="not approved"):
        snippets.local(routed, "old")
