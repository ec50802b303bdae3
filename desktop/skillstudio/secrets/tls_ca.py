"""The per-install local CA the egress sidecar uses to open TLS to bound hosts.

The CA's private key lives in the OS keyring only; the public certificate is written to a file
(and a bundle = system roots + our CA) that sandboxes mount and trust through SSL_CERT_FILE,
REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE and NODE_EXTRA_CA_CERTS. Leaf certificates are minted per host
on demand, kept in memory, and loaded into `ssl` through an anonymous memory file, so no private
key ever touches a path a sandbox could see.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import ssl
import tempfile
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from keyring.backend import KeyringBackend

from skillstudio import userdirs
from skillstudio.bundle.fileio import atomic_write
from skillstudio.secrets import keyring_guard

KEYRING_SERVICE = "skillstudio-ca"
KEYRING_USER = "local-ca"
CA_FILE = "skillstudio-ca.pem"
BUNDLE_FILE = "ca-bundle.pem"
_CA_DAYS = 3650
_LEAF_DAYS = 30


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class LocalCA:
    """A CA certificate + key, able to mint leaf certificates and server SSLContexts per host."""

    def __init__(self, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        self.cert = cert
        self._key = key
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._leaves: dict[str, tuple[x509.Certificate, ssl.SSLContext]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ creation

    @classmethod
    def generate(cls, common_name: str = "Skill Studio local CA") -> LocalCA:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Skill Studio (this computer only)")])
        now = _now()
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(hours=1))
                .not_valid_after(now + dt.timedelta(days=_CA_DAYS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                                             key_cert_sign=True, crl_sign=True, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(ski, critical=False)
                .sign(key, hashes.SHA256()))
        return cls(cert, key)

    @classmethod
    def load_or_create(cls, backend: KeyringBackend | None = None, folder: Path | None = None) -> LocalCA:
        """This install's CA: from the keyring, or created and stored there; writes the public files."""
        kr = keyring_guard.checked_backend(backend)
        stored = keyring_guard.call(lambda: kr.get_password(KEYRING_SERVICE, KEYRING_USER), "read the local CA")
        ca: LocalCA | None = None
        if stored:
            with contextlib.suppress(ValueError, TypeError):
                ca = cls.from_pem(stored.encode("ascii"))
        if ca is None or ca.cert.not_valid_after_utc < _now() + dt.timedelta(days=30):
            ca = cls.generate()
            blob = ca.to_pem().decode("ascii")
            keyring_guard.call(lambda: kr.set_password(KEYRING_SERVICE, KEYRING_USER, blob), "store the local CA")
        ca.write_public(folder)
        return ca

    def to_pem(self) -> bytes:
        """Key + certificate, for the keyring only."""
        key = self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        return key + _pem(self.cert)

    @classmethod
    def from_pem(cls, blob: bytes) -> LocalCA:
        key = serialization.load_pem_private_key(blob, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("local CA key is not an EC key")
        cert = x509.load_pem_x509_certificate(blob[blob.index(b"-----BEGIN CERTIFICATE-----"):])
        return cls(cert, key)

    # ------------------------------------------------------------------ public files for sandboxes

    @property
    def cert_pem(self) -> bytes:
        return _pem(self.cert)

    def write_public(self, folder: Path | None = None) -> tuple[Path, Path]:
        """Write `skillstudio-ca.pem` and `ca-bundle.pem` (system roots + ours); return both paths."""
        folder = folder or (userdirs.data_dir() / "ca")
        folder.mkdir(parents=True, exist_ok=True)
        ca_path, bundle_path = folder / CA_FILE, folder / BUNDLE_FILE
        if not ca_path.exists() or ca_path.read_bytes() != self.cert_pem:
            atomic_write(ca_path, self.cert_pem)
        bundle = system_roots() + b"\n" + self.cert_pem
        if not bundle_path.exists() or bundle_path.read_bytes() != bundle:
            atomic_write(bundle_path, bundle)
        return ca_path, bundle_path

    # ------------------------------------------------------------------ leaves

    def leaf(self, host: str) -> x509.Certificate:
        return self._leaf(host)[0]

    def server_context(self, host: str) -> ssl.SSLContext:
        """A server-side SSLContext presenting a leaf for `host` (HTTP/1.1 only), cached per host."""
        return self._leaf(host)[1]

    def _leaf(self, host: str) -> tuple[x509.Certificate, ssl.SSLContext]:
        host = host.lower().rstrip(".")
        with self._lock:
            hit = self._leaves.get(host)
            if hit is not None and hit[0].not_valid_after_utc > _now() + dt.timedelta(days=1):
                return hit
            cert = self._mint(host)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_alpn_protocols(["http/1.1"])
            _load_chain(ctx, _pem(cert) + self.cert_pem, self._leaf_key)
            self._leaves[host] = (cert, ctx)
            return cert, ctx

    def _mint(self, host: str) -> x509.Certificate:
        try:
            san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            san = x509.DNSName(host)
        now = _now()
        issuer_ski = self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        return (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])]))
                .issuer_name(self.cert.subject)
                .public_key(self._leaf_key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(hours=1))
                .not_valid_after(min(now + dt.timedelta(days=_LEAF_DAYS), self.cert.not_valid_after_utc))
                .add_extension(x509.SubjectAlternativeName([san]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                                             key_cert_sign=False, crl_sign=False, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski),
                               critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._leaf_key.public_key()),
                               critical=False)
                .sign(self._key, hashes.SHA256()))


def _load_chain(ctx: ssl.SSLContext, chain_pem: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    """`ssl` only loads keys from paths: use a memfd (never on disk), else a 0700 temp folder."""
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fd = os.memfd_create("skillstudio-leaf", os.MFD_CLOEXEC)
        try:
            os.write(fd, chain_pem + key_pem)
            ctx.load_cert_chain(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix="skillstudio-leaf-") as tmp:  # mkdtemp is 0700
        path = Path(tmp) / "leaf.pem"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(chain_pem + key_pem)
        ctx.load_cert_chain(str(path))


def system_roots() -> bytes:
    """The machine's trusted roots as PEM (so excluded hosts still verify inside the sandbox)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (os.environ.get("SSL_CERT_FILE"), paths.cafile, paths.openssl_cafile,
                      "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"):
        if candidate and os.path.isfile(candidate):
            with contextlib.suppress(OSError):
                return Path(candidate).read_bytes()
    try:
        import certifi  # type: ignore[import-not-found]

        return Path(certifi.where()).read_bytes()
    except (ImportError, OSError):
        return b""


def sandbox_env(bundle_path_in_sandbox: str, ca_path_in_sandbox: str) -> dict[str, str]:
    """The variables that make common clients inside a sandbox trust the local CA."""
    return {"SSL_CERT_FILE": bundle_path_in_sandbox, "REQUESTS_CA_BUNDLE": bundle_path_in_sandbox,
            "CURL_CA_BUNDLE": bundle_path_in_sandbox, "NODE_EXTRA_CA_CERTS": ca_path_in_sandbox,
            "GIT_SSL_CAINFO": bundle_path_in_sandbox, "PIP_CERT": bundle_path_in_sandbox}
