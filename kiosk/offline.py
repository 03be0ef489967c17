"""What the offline path carries between the journey and the queue (DESIGN §5, docs/offline.md).

A person verified on the kiosk itself (an ID card the reader checked, or a login QR whose platform
signature and expiry the kiosk checked) may leave a request while the platform is unreachable. The
identity travels to the platform later, inside the encrypted queue, so it is kept in memory only
for the session and never logged (its repr hides it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from devices.id_card.card import mask_name

from .errors import KioskError

REPORT_REQUEST = "report_request"  # the outbox kind of a queued report request


class CardFields(Protocol):
    @property
    def id_number(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def valid_until(self) -> dt.date | None: ...


@dataclass(frozen=True)
class OfflineIdentity:
    method: str  # "id_card" or "qr": which session call the drain makes
    masked_name: str  # 张*: shown in the header, like an online login's
    credentials: dict[str, Any] = field(repr=False)  # the session call's body

    @classmethod
    def from_card(cls, card: CardFields) -> OfflineIdentity:
        valid_until = None if card.valid_until is None else card.valid_until.isoformat()
        body = {"id_number": card.id_number, "name": card.name, "valid_until": valid_until}
        return cls("id_card", mask_name(card.name), body)

    @classmethod
    def from_qr(cls, payload: str, masked_name: str) -> OfflineIdentity:
        return cls("qr", masked_name, {"payload": payload})


def request_payload(
    identity: OfflineIdentity,
    uscc: str,
    domains: list[str] | None,
    period_from: dt.date,
    period_to: dt.date,
    queued_at: dt.datetime,
) -> dict[str, Any]:
    """The queued item: enough to open a session and create the report, nothing more."""
    return {
        "v": 1,
        "login": identity.method,
        "credentials": dict(identity.credentials),
        "uscc": uscc,
        "domains": "all" if domains is None else list(domains),
        "period": {"from": period_from.isoformat(), "to": period_to.isoformat()},
        "queued_at": queued_at.isoformat(timespec="seconds"),
    }


@dataclass(frozen=True)
class Queued:
    ticket: str
    submitted_at: dt.datetime
    pickup_after: dt.datetime


class QueueRefused(KioskError):
    """The queue did not take the request (disk full, store unusable): nothing was stored and no
    pickup receipt may be printed."""

    code = "offline_mode.queue_refused"
    message_id = "offline_mode.queue_refused"

    def __init__(self, detail: str, *, code: str) -> None:
        super().__init__(detail, code=code)
        if code == "offline_cache.disk_full":
            self.message_id = "offline_mode.queue_full"
