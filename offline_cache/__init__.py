"""The kiosk's encrypted local store: outbox, cached catalog/config, reprint cache (docs/offline_cache.md).

store = OfflineStore.open(state_dir / "offline.db", FileKeyProvider(key_path))
item = store.outbox.enqueue("report_request", ticket, request, pii=True)
"""

from .cached import CachedValue, CachedValues
from .drain import (
    Deliver,
    DeliveryResult,
    DrainReport,
    Outcome,
    backoff_delay,
    drain_once,
)
from .errors import (
    DatabaseCorrupt,
    DatabaseUnavailable,
    InvalidInput,
    KeyInvalid,
    KeyMissing,
    KeyPermissions,
    KeyUnavailable,
    OfflineCacheError,
    SchemaTooNew,
    StorageFull,
    StoreClosed,
    UnknownItem,
    WriteFailed,
    WrongKey,
)
from .items import ItemState, OutboxCounts, OutboxItem
from .keys import KEY_BYTES, FileKeyProvider, KeyProvider
from .outbox import Outbox
from .reprints import Reprint, ReprintCache
from .store import DEFAULT_ORDERED_KINDS, OfflineStore, PruneReport, Retention

__all__ = [
    "DEFAULT_ORDERED_KINDS",
    "KEY_BYTES",
    "CachedValue",
    "CachedValues",
    "DatabaseCorrupt",
    "DatabaseUnavailable",
    "Deliver",
    "DeliveryResult",
    "DrainReport",
    "FileKeyProvider",
    "InvalidInput",
    "ItemState",
    "KeyInvalid",
    "KeyMissing",
    "KeyPermissions",
    "KeyProvider",
    "KeyUnavailable",
    "OfflineCacheError",
    "OfflineStore",
    "Outbox",
    "OutboxCounts",
    "OutboxItem",
    "Outcome",
    "PruneReport",
    "Reprint",
    "ReprintCache",
    "Retention",
    "SchemaTooNew",
    "StorageFull",
    "StoreClosed",
    "UnknownItem",
    "WriteFailed",
    "WrongKey",
    "backoff_delay",
    "drain_once",
]
