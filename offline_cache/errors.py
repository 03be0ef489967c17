"""One error family for the offline store, with stable codes (documented in docs/offline_cache.md).

sqlite3 and cryptography exceptions are turned into these; nothing else leaves `offline_cache/`.
Messages are for the technician: they name files and what to do, never a payload.
"""

from __future__ import annotations


class OfflineCacheError(Exception):
    """Base of the family. `code` is stable and safe to log; `detail` is for the technician."""

    code = "offline_cache.error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        if code is not None:
            self.code = code

    @property
    def detail(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class KeyUnavailable(OfflineCacheError):
    """The key cannot be used: missing, unsafe permissions, wrong size. The database is not touched."""

    code = "offline_cache.key_unavailable"


class KeyMissing(KeyUnavailable):
    code = "offline_cache.key_missing"


class KeyPermissions(KeyUnavailable):
    code = "offline_cache.key_permissions"


class KeyInvalid(KeyUnavailable):
    code = "offline_cache.key_invalid"


class WrongKey(OfflineCacheError):
    """The key does not open this database (its sealed canary fails). The file is kept as it is."""

    code = "offline_cache.wrong_key"


class DatabaseCorrupt(OfflineCacheError):
    """Not an offline-cache SQLite file, or a damaged one. The file is kept byte for byte."""

    code = "offline_cache.corrupt"


class SchemaTooNew(OfflineCacheError):
    """Written by a newer release; this one refuses rather than misreading it."""

    code = "offline_cache.schema_too_new"


class DatabaseUnavailable(OfflineCacheError):
    """The file cannot be opened or is locked by another process for too long."""

    code = "offline_cache.unavailable"


class WriteFailed(OfflineCacheError):
    """A write did not happen; its transaction was rolled back, nothing of it is stored."""

    code = "offline_cache.write_failed"


class StorageFull(WriteFailed):
    """Disk full, the store's size cap, or the process file-size limit."""

    code = "offline_cache.disk_full"


class InvalidInput(OfflineCacheError, ValueError):
    """A caller passed something the store does not accept (bad kind, oversized payload, ...)."""

    code = "offline_cache.invalid_input"


class UnknownItem(OfflineCacheError, LookupError):
    code = "offline_cache.unknown_item"


class StoreClosed(OfflineCacheError):
    code = "offline_cache.closed"
