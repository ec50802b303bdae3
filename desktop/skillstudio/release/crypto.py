"""The two signature schemes we support, Ed25519 and ECDSA P-256 (DER), on `cryptography`.

Why these two: both are what DSSE verifiers (securesystemslib, sigstore, go-securesystemslib)
accept out of the box, so anyone with our PEM can check a bundle without our code. Key ids are the
SHA-256 of the public key's DER SubjectPublicKeyInfo, so they follow from the PEM alone.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from skillstudio.errors import SkillStudioError

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
ALGORITHMS = ("ed25519", "ecdsa-p256")


def generate(algorithm: str) -> PrivateKey:
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    raise SkillStudioError(f"unknown key algorithm {algorithm!r}", f"use one of: {', '.join(ALGORITHMS)}")


def algorithm_of(key: PublicKey | PrivateKey) -> str:
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "ed25519"
    return "ecdsa-p256"


def public_der(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_pem(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: PublicKey) -> str:
    return hashlib.sha256(public_der(key)).hexdigest()


def private_pem(key: PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _check_supported(key: object, what: str) -> None:
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)) and isinstance(key.curve, ec.SECP256R1):
        return
    raise SkillStudioError(f"{what} is neither Ed25519 nor ECDSA P-256",
                           "generate one with `skillstudio keys generate`")


def load_private_pem(pem: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SkillStudioError("the stored signing key is not a readable PEM private key",
                               "generate a new one in its place (rotate the key)", setting="rotate") from None
    _check_supported(key, "the stored signing key")
    return key  # type: ignore[return-value]


def load_public_pem(data: bytes, source: str = "public key") -> PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SkillStudioError(f"{source} is not a PEM public key",
                               "export one with `skillstudio keys export NAME -o FILE`") from None
    _check_supported(key, source)
    return key  # type: ignore[return-value]


def sign(key: PrivateKey, message: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(message)
    return key.sign(message, ec.ECDSA(hashes.SHA256()))  # DER-encoded (r, s)


def verify(key: PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, message)
        else:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True
