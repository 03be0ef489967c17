"""The platform's secrets, kept apart from its database (DESIGN §10): a key directory of mode 0700
holding three files of mode 0600 — the Ed25519 signing key, the pepper of ID-number and name
hashes, and the AES-256-GCM key that seals names and contact numbers at rest.

Signing goes through `Signer`, the one operation a hardware security module would take over; the
file-based key implements it here. A copy of the database alone can neither sign, nor reverse an
ID-number hash, nor read a name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEYS_ENV = "REPORT_SERVICE_KEYS"
SIGNING_FILE = "platform-signing.pem"  # PKCS#8, unencrypted: the directory's mode protects it
PEPPER_FILE = "id-pepper.hex"
DATA_FILE = "data-key.hex"
KEY_FILES = (SIGNING_FILE, PEPPER_FILE, DATA_FILE)
_NONCE = 12  # bytes of an AES-GCM nonce


class KeyDirError(Exception):
    """A key directory that cannot be used; the message says what to do (one line)."""


class Signer(Protocol):
    """Signs with the platform key; an HSM-backed implementation needs only these two."""

    @property
    def public_raw(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The raw 64-byte Ed25519 signature of message."""
        ...


class FileSigner:
    """The Ed25519 platform key from a PKCS#8 file."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self._public_raw = private_key.public_key().public_bytes_raw()

    @property
    def public_raw(self) -> bytes:
        return self._public_raw

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


@dataclass(frozen=True)
class Keyring:
    """The platform's keys in use: sign, hash identities, seal and open personal data."""

    signer: Signer
    pepper: bytes = field(repr=False)
    data_key: bytes = field(repr=False)

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.signer.public_raw).decode("ascii")

    def public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.signer.public_raw)

    def sign_b64(self, message: bytes) -> str:
        return base64.b64encode(self.signer.sign(message)).decode("ascii")

    def id_hash(self, id_number: str) -> str:
        """The keyed hash an ID number is stored as (the only form it ever takes on disk)."""
        return hmac.new(self.pepper, id_number.upper().encode(), hashlib.sha256).hexdigest()

    def name_mac(self, name: str) -> str:
        """The keyed hash a card's name is checked against (domain-separated from ID hashes)."""
        return hmac.new(self.pepper, b"name\x00" + name.encode(), hashlib.sha256).hexdigest()

    def seal(self, text: str, context: str) -> bytes:
        """AES-GCM: nonce ‖ ciphertext ‖ tag; `context` (the row it belongs to) is authenticated,
        so a sealed value moved to another row does not open."""
        nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(self.data_key).encrypt(nonce, text.encode(), context.encode())
        return nonce + sealed

    def unseal(self, blob: bytes, context: str) -> str:
        try:
            plain = AESGCM(self.data_key).decrypt(blob[:_NONCE], blob[_NONCE:], context.encode())
        except InvalidTag:
            raise ValueError(f"sealed value does not open under this key ({context})") from None
        return plain.decode()

    @property
    def keys_id(self) -> str:
        """Names this set of keys without revealing them; the database records it."""
        digest = hashlib.sha256(b"report-service keys v1\x00" + self.signer.public_raw)
        digest.update(hmac.new(self.pepper, b"keys-id", hashlib.sha256).digest())
        digest.update(hmac.new(self.data_key, b"keys-id", hashlib.sha256).digest())
        return digest.hexdigest()[:32]


def new_keyring(
    private_key: Ed25519PrivateKey | None = None, pepper: bytes | None = None
) -> tuple[Keyring, Ed25519PrivateKey]:
    """Fresh keys (or the given signing key and pepper, when an old database is migrated)."""
    key = private_key or Ed25519PrivateKey.generate()
    ring = Keyring(FileSigner(key), pepper or secrets.token_bytes(32), secrets.token_bytes(32))
    return ring, key


def write_key_dir(path: Path, ring: Keyring, private_key: Ed25519PrivateKey) -> None:
    """Create `path` (mode 0700) with the three key files (0600), all at once: the files are
    written in a sibling temporary directory that is then renamed into place."""
    if path.exists():
        raise KeyDirError(f"{path} exists already; keys are never overwritten")
    parent = path.parent
    if not parent.is_dir():
        raise KeyDirError(f"cannot create {path}: no directory {parent}")
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent))  # mode 0700
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for name, data in (
        (SIGNING_FILE, pem),
        (PEPPER_FILE, ring.pepper.hex().encode() + b"\n"),
        (DATA_FILE, ring.data_key.hex().encode() + b"\n"),
    ):
        fd = os.open(staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    try:
        staging.rename(path)
    except OSError:  # another process created it first: theirs stands
        for name in KEY_FILES:
            (staging / name).unlink(missing_ok=True)
        staging.rmdir()
        raise KeyDirError(f"{path} was created by another process at the same time") from None


def load_key_dir(path: Path) -> Keyring:
    """The keys in `path`; refuses missing files and files other users can read."""
    if not path.is_dir():
        raise KeyDirError(
            f"no key directory at {path} (create one with `report-service keys init --dir {path}`)"
        )
    for name in KEY_FILES:
        file = path / name
        if not file.is_file():
            raise KeyDirError(f"key file {file} is missing")
        mode = stat.S_IMODE(file.stat().st_mode)
        if mode & 0o077:
            raise KeyDirError(
                f"key file {file} is open to other users (mode {mode:04o}); chmod 600 it"
            )
    try:
        private = serialization.load_pem_private_key((path / SIGNING_FILE).read_bytes(), None)
        pepper = bytes.fromhex((path / PEPPER_FILE).read_text().strip())
        data_key = bytes.fromhex((path / DATA_FILE).read_text().strip())
    except ValueError as exc:
        raise KeyDirError(f"a key file in {path} is damaged: {exc}") from None
    if not isinstance(private, Ed25519PrivateKey) or len(pepper) < 32 or len(data_key) != 32:
        raise KeyDirError(f"a key file in {path} does not hold the expected kind of key")
    return Keyring(FileSigner(private), pepper, data_key)


def init_key_dir(path: Path) -> Keyring:
    """`report-service keys init --dir PATH`: a new set of keys in a new directory."""
    ring, private = new_keyring()
    write_key_dir(path, ring, private)
    return ring
