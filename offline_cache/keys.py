"""Where the store's 32-byte master key comes from: a Protocol, and a 0600 key file behind it.

The key never lives in the database file. A TPM or secure element can replace `FileKeyProvider` by
implementing `KeyProvider` (unseal the key, return its 32 bytes).
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Protocol, runtime_checkable

from .errors import KeyInvalid, KeyMissing, KeyPermissions, KeyUnavailable

KEY_BYTES = 32


@runtime_checkable
class KeyProvider(Protocol):
    """Supplies the master key. `describe()` names it in technician messages (no key material)."""

    def load_key(self) -> bytes: ...

    def describe(self) -> str: ...


class FileKeyProvider:
    """A raw 32-byte key in its own file, readable by its owner only (mode 0600 or stricter).

    `create=True` writes a fresh random key when the file does not exist (provisioning); without it a
    missing file is an error, so a lost key never silently becomes a new empty queue.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = False) -> None:
        self.path = Path(path)
        self.create = create

    def describe(self) -> str:
        return f"key file {self.path}"

    def load_key(self) -> bytes:
        if self.create:
            self._create_if_missing()
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise KeyMissing(
                f"key file {self.path} does not exist; restore it from the terminal's backup "
                "(without it queued requests cannot be read) or re-provision the terminal"
            ) from None
        except OSError as exc:
            raise KeyUnavailable(f"key file {self.path} cannot be opened: {exc.strerror}") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise KeyInvalid(f"key file {self.path} is not a regular file")
            mode = stat.S_IMODE(info.st_mode)
            if mode & 0o077:
                raise KeyPermissions(
                    f"key file {self.path} has mode {mode:04o}: group or others may access it; "
                    f"run `chmod 600 {self.path}` after checking who could have read it"
                )
            if info.st_size != KEY_BYTES:
                raise KeyInvalid(
                    f"key file {self.path} holds {info.st_size} bytes, expected {KEY_BYTES}; "
                    "it is not this store's key"
                )
            key = os.read(fd, KEY_BYTES + 1)
        finally:
            os.close(fd)
        if len(key) != KEY_BYTES:  # changed between fstat and read
            raise KeyInvalid(f"key file {self.path} changed while being read")
        return key

    def _create_if_missing(self) -> None:
        if not self.path.parent.is_dir():
            raise KeyUnavailable(f"folder {self.path.parent} for the key file does not exist")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            return  # someone else's key, or ours from before: load_key checks it
        except OSError as exc:
            raise KeyUnavailable(
                f"key file {self.path} cannot be created: {exc.strerror}"
            ) from None
        try:
            os.fchmod(fd, 0o600)  # the umask may have been stricter, never looser, but be explicit
            if os.write(fd, secrets.token_bytes(KEY_BYTES)) != KEY_BYTES:
                raise OSError(0, "short write")
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            self.path.unlink(missing_ok=True)  # no half-written key left to trip the next start
            raise KeyUnavailable(
                f"key file {self.path} cannot be written: {exc.strerror}"
            ) from None
        os.close(fd)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the new name survives a power cut
        finally:
            os.close(dir_fd)
