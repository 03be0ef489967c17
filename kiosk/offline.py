"""What the offline path carries between the journey, the queue and the drain (DESIGN §5,
docs/offline.md).

A person verified on the kiosk itself (an ID card the reader checked, or a login QR whose platform
signature and expiry the kiosk checked) may leave a request while the platform is unreachable. The
identity travels to the platform later, inside the encrypted queue, so it is kept in memory only
for the session and never logged (its repr hides it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from identifiers import mask_name

from .errors import KioskError
from .periods import Period

if TYPE_CHECKING:
    from .ports import CardLike

REPORT_REQUEST = "report_request"  # the outbox kind of a queued report request
LOGIN_METHODS = ("id_card", "qr")


@dataclass(frozen=True)
class OfflineIdentity:
    method: str  # "id_card" or "qr": which session call the drain makes
    masked_name: str  # 张*: shown in the header, like an online login's
    credentials: dict[str, Any] = field(repr=False)  # the session call's body

    @classmethod
    def from_card(cls, card: CardLike) -> OfflineIdentity:
        valid_until = None if card.valid_until is None else card.valid_until.isoformat()
        body = {"id_number": card.id_number, "name": card.name, "valid_until": valid_until}
        return cls("id_card", mask_name(card.name), body)

    @classmethod
    def from_qr(cls, payload: str, masked_name: str) -> OfflineIdentity:
        return cls("qr", masked_name, {"payload": payload})


@dataclass(frozen=True)
class QueuedRequest:
    """A queued report request: enough to open a session as the person and create the report,
    nothing more. `to_payload` is what the queue seals (version 1, docs/offline.md);
    `from_payload` is how the drain reads it back, refusing anything else with ValueError."""

    method: str  # "id_card" or "qr"
    credentials: dict[str, Any] = field(repr=False)  # the session call's body: PII
    uscc: str
    domains: tuple[str, ...] | None  # None: all domains
    period: Period
    queued_at: dt.datetime

    @classmethod
    def of(
        cls,
        identity: OfflineIdentity,
        uscc: str,
        domains: tuple[str, ...] | None,
        period: Period,
        queued_at: dt.datetime,
    ) -> QueuedRequest:
        return cls(identity.method, dict(identity.credentials), uscc, domains, period, queued_at)

    def to_payload(self) -> dict[str, Any]:
        return {
            "v": 1,
            "login": self.method,
            "credentials": dict(self.credentials),
            "uscc": self.uscc,
            "domains": "all" if self.domains is None else list(self.domains),
            "period": {"from": self.period.start.isoformat(), "to": self.period.end.isoformat()},
            "queued_at": self.queued_at.isoformat(timespec="seconds"),
        }

    @classmethod
    def from_payload(cls, payload: Any) -> QueuedRequest:
        try:
            if not isinstance(payload, dict) or payload.get("v") != 1:
                raise ValueError("not a version-1 report request")
            method = str(payload["login"])
            if method not in LOGIN_METHODS:
                raise ValueError("unknown login method")
            domains = payload["domains"]
            return cls(
                method=method,
                credentials=dict(payload["credentials"]),
                uscc=str(payload["uscc"]),
                domains=None if domains == "all" else tuple(str(d) for d in domains),
                period=Period(
                    dt.date.fromisoformat(payload["period"]["from"]),
                    dt.date.fromisoformat(payload["period"]["to"]),
                ),
                queued_at=dt.datetime.fromisoformat(payload["queued_at"]),
            )
        except (KeyError, TypeError) as exc:  # one kind of refusal for the caller to handle
            raise ValueError(f"not a report request: {type(exc).__name__}") from None

    @property
    def session_key(self) -> str:
        """The same person logging in the same way: the drain reuses a session by this key."""
        body = json.dumps([self.method, self.credentials], sort_keys=True).encode()
        return hashlib.sha256(body).hexdigest()


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
