"""`push ... openai:` against a local server speaking the Skills API wire format (the only fake allowed)."""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from release_support import write_skill

from skillstudio.release.unpack import inspect_zip

Runner = Callable[..., tuple[int, str, str]]
KeyPair = Callable[..., Path]


class SkillsAPI(BaseHTTPRequestHandler):
    """POST/GET /v1/skills, POST /v1/skills/{id}/versions — JSON shapes of the SDK's Skill/SkillVersion."""

    skills: dict[str, dict[str, Any]] = {}
    uploads: list[tuple[str, str, bytes, dict[str, str]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _form(self) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
        files: list[tuple[str, bytes]] = []
        fields: dict[str, str] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if part.get_filename():
                files.append((str(part.get_filename()), bytes(part.get_payload(decode=True))))
            else:
                fields[str(name)] = str(part.get_content())
            assert name in ("files", "files[]", "default"), name
        return files, fields

    def do_GET(self) -> None:  # noqa: N802
        if self.headers.get("Authorization") != "Bearer sk-test":
            return self._send(401, {"error": {"message": "bad key", "type": "invalid_request_error"}})
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) == 3:
            if parts[2] not in self.skills:
                return self._send(404, {"error": {"message": "No such skill", "type": "invalid_request_error"}})
            return self._send(200, self.skills[parts[2]])
        if self.path.startswith("/v1/skills"):
            data = list(self.skills.values())
            return self._send(200, {"object": "list", "data": data, "has_more": False,
                                    "first_id": data[0]["id"] if data else None,
                                    "last_id": data[-1]["id"] if data else None})
        self._send(404, {"error": {"message": "not found"}})

    def do_DELETE(self) -> None:  # noqa: N802
        sid = self.path.strip("/").split("/")[2]
        self.skills.pop(sid)
        self._send(200, {"id": sid, "object": "skill.deleted", "deleted": True})

    def do_POST(self) -> None:  # noqa: N802
        if self.headers.get("Content-Type", "").startswith("application/json"):  # update default_version
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            sid = self.path.strip("/").split("/")[2]
            self.skills[sid]["default_version"] = body["default_version"]
            return self._send(200, self.skills[sid])
        files, fields = self._form()
        (fname, data), = files
        if self.path == "/v1/skills":
            sid = f"skill_{len(self.skills) + 1:04d}"
            self.skills[sid] = {"id": sid, "object": "skill", "created_at": int(time.time()), "name": "demo-skill",
                                "description": "d", "default_version": "1", "latest_version": "1"}
            self.uploads.append((self.path, fname, data, fields))
            return self._send(200, self.skills[sid])
        sid = self.path.split("/")[3]
        s = self.skills[sid]
        s["latest_version"] = str(int(s["latest_version"]) + 1)
        if fields.get("default") == "true":
            s["default_version"] = s["latest_version"]
        self.uploads.append((self.path, fname, data, fields))
        self._send(200, {"id": f"skillver_{s['latest_version']}", "object": "skill.version", "skill_id": sid,
                         "version": s["latest_version"], "name": s["name"], "description": "d",
                         "created_at": int(time.time())})


@pytest.fixture()
def skills_api() -> Iterator[str]:
    SkillsAPI.skills, SkillsAPI.uploads = {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), SkillsAPI)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
    t.join(5)


def test_push_creates_the_skill_then_a_new_default_version(skills_api: str, tmp_path: Path, cli: Runner,
                                                           keypair: KeyPair, monkeypatch: pytest.MonkeyPatch) -> None:
    keypair("author")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    d = write_skill(tmp_path / "ws")
    code, out, err = cli("push", d, "openai:", "--key", "author", "--base-url", skills_api)
    assert code == 0, err
    assert "OpenAI skill skill_0001" in out and "@1" in out
    path, fname, data, _ = SkillsAPI.uploads[0]
    assert (path, fname) == ("/v1/skills", "demo-skill.zip")
    assert [e.name for e in inspect_zip(data)][0] == "SKILL.md"

    code, out, err = cli("push", d, "openai:", "--key", "author", "--base-url", skills_api)
    assert code == 0, err
    assert "demo-skill@2" in out
    path, _, data2, fields = SkillsAPI.uploads[1]
    assert path == "/v1/skills/skill_0001/versions" and fields.get("default") == "true"
    assert data2 == data  # deterministic bundle: same bytes uploaded
    assert SkillsAPI.skills["skill_0001"]["default_version"] == "2"


def test_bad_api_key_and_unreachable_server_are_exit_2(skills_api: str, tmp_path: Path, cli: Runner,
                                                       keypair: KeyPair, monkeypatch: pytest.MonkeyPatch) -> None:
    keypair("author")
    d = write_skill(tmp_path / "ws")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    code, _, err = cli("push", d, "openai:", "--key", "author", "--base-url", skills_api)
    assert code == 2 and "rejected the API key" in err
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    code, _, err = cli("push", d, "openai:", "--key", "author", "--base-url", "http://127.0.0.1:9/v1")
    assert code == 2 and "cannot reach the OpenAI API" in err


def test_list_retrieve_default_and_delete(skills_api: str, tmp_path: Path, cli: Runner, keypair: KeyPair,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from skillstudio.errors import SkillStudioError
    from skillstudio.release import openai_skills

    keypair("author")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    d = write_skill(tmp_path / "ws")
    cli("push", d, "openai:", "--key", "author", "--base-url", skills_api)
    cli("push", d, "openai:skill_0001", "--key", "author", "--base-url", skills_api)
    [s] = openai_skills.list_skills(base_url=skills_api)
    assert (s.skill_id, s.name, s.default_version, s.latest_version) == ("skill_0001", "demo-skill", "2", "2")
    assert openai_skills.set_default_version("skill_0001", "1", base_url=skills_api).default_version == "1"
    assert openai_skills.retrieve("skill_0001", base_url=skills_api).default_version == "1"
    assert openai_skills.delete("skill_0001", base_url=skills_api) is True
    assert openai_skills.list_skills(base_url=skills_api) == []
    with pytest.raises(SkillStudioError, match="404"):
        openai_skills.retrieve("skill_0001", base_url=skills_api)
