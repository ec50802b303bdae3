"""The local CA: key only in the keyring, public files for sandboxes, leaves that verify."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import keyring
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from skillstudio.secrets.tls_ca import (
    BUNDLE_FILE,
    CA_FILE,
    KEYRING_SERVICE,
    KEYRING_USER,
    LocalCA,
    sandbox_env,
)


def test_ca_is_created_once_and_key_stays_in_keyring(real_keyring: None, tmp_path: Path) -> None:
    folder = tmp_path / "ca"
    ca = LocalCA.load_or_create(folder=folder)
    again = LocalCA.load_or_create(folder=folder)
    assert again.cert == ca.cert  # per install, not per run
    stored = keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    assert stored and "PRIVATE KEY" in stored
    key_line = stored.splitlines()[1]
    for p in folder.iterdir():
        text = p.read_text()
        assert "PRIVATE KEY" not in text and key_line not in text, p
    assert (folder / CA_FILE).read_bytes() == ca.cert_pem
    bundle = (folder / BUNDLE_FILE).read_bytes()
    assert bundle.endswith(ca.cert_pem) and bundle.count(b"BEGIN CERTIFICATE") > 1  # system roots kept
    env = sandbox_env("/etc/skillstudio/ca-bundle.pem", "/etc/skillstudio/ca.pem")
    assert {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"} <= env.keys()
    keyring.delete_password(KEYRING_SERVICE, KEYRING_USER)


def test_leaf_chain_verifies_with_cryptography() -> None:
    ca = LocalCA.generate()
    leaf = ca.leaf("api.test.local")
    assert leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName) == ["api.test.local"]
    leaf.verify_directly_issued_by(ca.cert)
    assert ca.leaf("api.test.local") is leaf  # cached in memory
    ip_leaf = ca.leaf("127.0.0.1")
    assert ip_leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert isinstance(ca.cert.public_key(), ec.EllipticCurvePublicKey)
    from cryptography.x509.verification import PolicyBuilder, Store

    verifier = PolicyBuilder().store(Store([ca.cert])).build_server_verifier(x509.DNSName("api.test.local"))
    chain = verifier.verify(leaf, [])
    assert chain[-1] == ca.cert
    other = PolicyBuilder().store(Store([ca.cert])).build_server_verifier(x509.DNSName("evil.test.local"))
    with pytest.raises(Exception, match="(?i)name|subject|san"):
        other.verify(leaf, [])


def test_leaf_serves_tls_that_python_ssl_trusts(tmp_path: Path) -> None:
    ca = LocalCA.generate()
    server_ctx = ca.server_context("api.test.local")
    client_ctx = ssl.create_default_context(cadata=ca.cert_pem.decode())
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            got.append(tls.recv(100))
            tls.sendall(b"pong")

    t = threading.Thread(target=serve)
    t.start()
    try:
        with socket.create_connection(("127.0.0.1", port)) as raw, \
                client_ctx.wrap_socket(raw, server_hostname="api.test.local") as tls:
            assert tls.selected_alpn_protocol() in (None, "http/1.1")
            tls.sendall(b"ping")
            assert tls.recv(4) == b"pong"
    finally:
        t.join(10)
        listener.close()
    assert got == [b"ping"]
    # A client that does not trust our CA refuses the leaf.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_once() -> None:
        conn, _ = listener.accept()
        try:
            server_ctx.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            conn.close()

    t = threading.Thread(target=serve_once)
    t.start()
    try:
        with socket.create_connection(("127.0.0.1", port)) as raw, pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname="api.test.local")
    finally:
        t.join(10)
        listener.close()
