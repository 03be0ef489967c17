"""A short-lived reprint cache: a printed report's PDF and details, kept for minutes, sealed.

Lets the kiosk reprint after a jam without asking the platform again. An expired entry is never
returned and is deleted when seen or by `purge_expired`.
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

REPORT_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEFAULT_TTL = 15 * 60.0


@dataclass(frozen=True)
class Reprint:
    report_id: str
    pdf: bytes = field(repr=False)
    metadata: dict[str, Any] = field(repr=False)
    stored_at: float
    expires_at: float


def _check_report_id(report_id: str) -> None:
    if not isinstance(report_id, str) or not REPORT_ID_RE.fullmatch(report_id):
        raise InvalidInput(f"report id must match {REPORT_ID_RE.pattern}")


class ReprintCache:
    def __init__(self, db: Database, *, max_pdf_bytes: int) -> None:
        self._db = db
        self.max_pdf_bytes = max_pdf_bytes

    def put(
        self, report_id: str, pdf: bytes, metadata: dict[str, Any], *, ttl: float = DEFAULT_TTL
    ) -> Reprint:
        """Keep `pdf` and `metadata` under `report_id` for `ttl` seconds (replacing an older entry)."""
        _check_report_id(report_id)
        if not isinstance(pdf, bytes | bytearray | memoryview):
            raise InvalidInput("pdf must be bytes")
        pdf = bytes(pdf)
        if len(pdf) > self.max_pdf_bytes:
            raise InvalidInput(f"pdf is {len(pdf)} bytes, the limit is {self.max_pdf_bytes}")
        if not ttl > 0:
            raise InvalidInput("ttl must be positive")
        if not isinstance(metadata, dict):
            raise InvalidInput("metadata must be a dict")
        try:
            meta = json.dumps(metadata, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"metadata is not JSON-serialisable: {type(exc).__name__}") from None
        sealer = self._db.sealer
        sealed_pdf = sealer.seal(pdf, associated_data("reprints.pdf", report_id))
        sealed_meta = sealer.seal(meta, associated_data("reprints.metadata", report_id))
        with self._db.write() as conn:
            now = self._db.now()
            conn.execute("DELETE FROM reprints WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT INTO reprints (report_id, pdf, metadata, stored_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (report_id) DO UPDATE SET pdf = excluded.pdf,"
                " metadata = excluded.metadata, stored_at = excluded.stored_at,"
                " expires_at = excluded.expires_at",
                (report_id, sealed_pdf, sealed_meta, now, now + ttl),
            )
            self._db.ensure_room(conn)
        return Reprint(report_id, pdf, json.loads(meta), now, now + ttl)

    def get(self, report_id: str) -> Reprint | None:
        """The entry while it is fresh; None once expired (and then it is deleted)."""
        _check_report_id(report_id)
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT pdf, metadata, stored_at, expires_at FROM reprints WHERE report_id = ?",
                (report_id,),
            ).fetchone()
        if row is None:
            return None
        if float(row[3]) <= self._db.now():
            self.purge_expired()
            return None
        sealer = self._db.sealer
        try:
            pdf = sealer.open(bytes(row[0]), associated_data("reprints.pdf", report_id))
            meta = sealer.open(bytes(row[1]), associated_data("reprints.metadata", report_id))
        except Unsealable:
            log.error("reprint entry in %s cannot be decrypted; ignored", self._db.path)
            return None
        return Reprint(report_id, pdf, json.loads(meta), float(row[2]), float(row[3]))

    def delete(self, report_id: str) -> bool:
        _check_report_id(report_id)
        with self._db.write() as conn:
            return (
                conn.execute("DELETE FROM reprints WHERE report_id = ?", (report_id,)).rowcount > 0
            )

    def purge_expired(self) -> int:
        with self._db.write() as conn:
            return int(
                conn.execute(
                    "DELETE FROM reprints WHERE expires_at <= ?", (self._db.now(),)
                ).rowcount
            )
