"""Cached catalog and config: the last value fetched from the platform, sealed, with its age.

The screens use these while the platform is unreachable; the age says how stale they are.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from .database import Database
from .errors import InvalidInput
from .sealing import Unsealable, associated_data

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class CachedValue:
    name: str
    value: Any = field(repr=False)
    stored_at: float
    age: float  # seconds since it was stored, never negative


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise InvalidInput(f"cache name must match {NAME_RE.pattern}, got {name!r:.60}")


class CachedValues:
    def __init__(self, db: Database, *, max_value_bytes: int) -> None:
        self._db = db
        self.max_value_bytes = max_value_bytes

    def put(self, name: str, value: Any) -> None:
        """Replace the value stored under `name` (any JSON value: the catalog, the config)."""
        _check_name(name)
        try:
            body = json.dumps(
                value, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"value is not JSON-serialisable: {type(exc).__name__}") from None
        if len(body) > self.max_value_bytes:
            raise InvalidInput(f"value is {len(body)} bytes, the limit is {self.max_value_bytes}")
        sealed = self._db.sealer.seal(body, associated_data("cached", name))
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO cached (name, value, stored_at) VALUES (?, ?, ?) ON CONFLICT (name)"
                " DO UPDATE SET value = excluded.value, stored_at = excluded.stored_at",
                (name, sealed, self._db.now()),
            )
            self._db.ensure_room(conn)

    def get(self, name: str) -> CachedValue | None:
        """The stored value and its age, or None when nothing (readable) is stored."""
        _check_name(name)
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT value, stored_at FROM cached WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            return None
        try:
            body = self._db.sealer.open(bytes(row[0]), associated_data("cached", name))
        except Unsealable:
            # a cache can be fetched again: report it and answer "nothing cached"
            log.error("cached value %r in %s cannot be decrypted; ignored", name, self._db.path)
            return None
        stored_at = float(row[1])
        return CachedValue(
            name=name,
            value=json.loads(body),
            stored_at=stored_at,
            age=max(self._db.now() - stored_at, 0.0),
        )

    def delete(self, name: str) -> bool:
        _check_name(name)
        with self._db.write() as conn:
            return conn.execute("DELETE FROM cached WHERE name = ?", (name,)).rowcount > 0

    def prune(self, *, stored_before: float) -> int:
        with self._db.write() as conn:
            return int(
                conn.execute("DELETE FROM cached WHERE stored_at < ?", (stored_before,)).rowcount
            )
