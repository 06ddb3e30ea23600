"""Update signing keys, with `cryptography`'s Ed25519 (OpenSSL underneath: constant-time,
maintained). The private key is kept as PKCS#8 PEM in a file only its owner may read; the
raw 32-byte public key a bin holds (ota_pub.bin) is derived from it. The bins verify with
their own pure-Python verifier (firmware/ed25519.py: MicroPython has no Ed25519)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

PrivateKey = Ed25519PrivateKey


class KeyFileError(ValueError):
    """A key file that must not be used (readable by others, not an Ed25519 key)."""


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_raw(key: Ed25519PrivateKey) -> bytes:
    """The 32-byte public key a bin is provisioned with (ota_pub.bin)."""
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw)


def sign(key: Ed25519PrivateKey, message: bytes) -> bytes:
    return key.sign(message)


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def to_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def write_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write the private key as PKCS#8 PEM, created with mode 0600 (never overwritten)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(to_pem(key))


def read_key(path: Path) -> Ed25519PrivateKey:
    """The private key of a PKCS#8 PEM file. Refused when the file can be read (or written)
    by anyone but its owner: a signing key that others could have copied is not a secret."""
    path = Path(path)
    data = path.read_bytes()
    if b"-----BEGIN PRIVATE KEY-----" not in data:
        raise KeyFileError(f"{path}: not an update signing key (a PKCS#8 PEM private key "
                           "expected, as keygen writes)")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"{path}: readable by others (mode {stat.S_IMODE(mode):04o}); a "
                        f"signing key must be private: chmod 600 {path}")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise KeyFileError(f"{path}: not a PKCS#8 PEM private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 key")
    return key
