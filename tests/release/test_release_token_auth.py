"""Bearer-token auth against a real Distribution registry configured for token auth.

The registry is the real one; only the token service (normally docker_auth, Harbor core, …) is ours,
a few lines issuing ES256 JWTs the way the Distribution token spec describes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from release_support import free_port, need, wait_port, write_skill

Runner = Callable[..., tuple[int, str, str]]
KeyPair = Callable[..., Path]
USER, PASSWORD, SERVICE, ISSUER = "bob", "t0ken-pw", "skillstudio-test-registry", "skillstudio-test-issuer"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class _TokenService(BaseHTTPRequestHandler):
    key: ec.EllipticCurvePrivateKey
    cert_der: bytes
    issued: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        auth = self.headers.get("Authorization", "")
        if auth != "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode():
            self.send_response(401)
            self.end_headers()
            return
        q = parse_qs(urlparse(self.path).query)
        access = []
        for scope in q.get("scope", []):
            kind, name, actions = scope.split(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        claims = {"iss": ISSUER, "sub": USER, "aud": q.get("service", [""])[0], "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        token = f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
        self.issued.append(",".join(q.get("scope", [])))
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture()
def token_registry(tmp_path: Path) -> Iterator[str]:
    need(shutil.which("docker-registry") is not None, "docker-registry not installed (apt-get install docker-registry)")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "token-signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "root.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _TokenService.key, _TokenService.cert_der, _TokenService.issued = key, cert.public_bytes(
        serialization.Encoding.DER), []
    tokens = ThreadingHTTPServer(("127.0.0.1", 0), _TokenService)
    tokens.daemon_threads = True
    t = threading.Thread(target=tokens.serve_forever, daemon=True)
    t.start()
    port = free_port()
    (tmp_path / "config.yml").write_text(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
        f"    rootdirectory: {tmp_path / 'data'}\nhttp:\n  addr: 127.0.0.1:{port}\n"
        f"auth:\n  token:\n    realm: http://127.0.0.1:{tokens.server_address[1]}/token\n"
        f"    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {tmp_path / 'root.pem'}\n")
    proc = subprocess.Popen(["docker-registry", "serve", str(tmp_path / "config.yml")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_port(port), "docker-registry did not start"
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        tokens.shutdown()
        tokens.server_close()
        t.join(5)


def test_push_pull_with_bearer_tokens(token_registry: str, tmp_path: Path, cli: Runner, keypair: KeyPair,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pem = keypair("author")
    d = write_skill(tmp_path / "ws", name="tokened")
    ref = f"oci://{token_registry}/team/tokened:1.0.0"
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    cli("registry", "logout", token_registry)
    code, _, err = cli("push", d, ref, "--key", "author", "--plain-http")
    assert code == 2 and "refused a token" in err

    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text(json.dumps(
        {"auths": {token_registry: {"username": USER, "password": PASSWORD}}}))
    code, out, err = cli("push", d, ref, "--key", "author", "--plain-http")
    assert code == 0, err
    assert any("repository:team/tokened:" in s and "push" in s for s in _TokenService.issued)
    code, _, err = cli("pull", ref, "-o", tmp_path / "out", "--pubkey", pem, "--plain-http")
    assert code == 0, err
    assert (tmp_path / "out" / "SKILL.md").read_bytes() == (d / "SKILL.md").read_bytes()
