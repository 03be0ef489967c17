"""What the session state machine needs from the outside world, and the values that cross over.

The journey (`journey.py`, `offline_flow.py`) sees the platform, the printers and the offline queue
only through these protocols; the composition root (`compose.py`) wires the real ones
(`services.KioskServices`, `offline_desk.OfflineDesk`) and the tests wire behavioural fakes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Protocol

from .api_models import (
    Catalog,
    Enterprise,
    HelpCallState,
    Login,
    Objection,
    ReportMeta,
    Verification,
)
from .errors import KioskError
from .offline import OfflineIdentity, Queued
from .periods import Period


class CardLike(Protocol):
    """The fields of an ID card the reader has checked (check digit, expiry)."""

    @property
    def id_number(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def valid_until(self) -> dt.date | None: ...


@dataclasses.dataclass(frozen=True)
class FetchedReport:
    meta: ReportMeta
    pdf: bytes = dataclasses.field(repr=False)  # already checked: sha256 and platform signature


class PrintFailure(KioskError):
    """A4 or receipt failed; `phase` says which, so a reprint starts at the right place."""

    code = "print.failed"
    message_id = "error.print_failed"

    def __init__(self, detail: str, *, phase: str, message_id: str | None = None) -> None:
        super().__init__(detail)
        self.phase = phase
        if message_id is not None:
            self.message_id = message_id


class Services(Protocol):
    """The journey's outside world: the platform, the printers, the audit log, the staff PIN."""

    def today(self) -> dt.date: ...
    def audit(self, event: str, **fields: str) -> None: ...
    async def catalog(self) -> Catalog: ...
    async def login_card(self, card: CardLike) -> Login: ...
    async def login_qr(self, payload: str) -> Login: ...
    async def fetch_report(
        self, login: Login, uscc: str, domains: Sequence[str] | None, period: Period, key: str
    ) -> FetchedReport: ...
    async def print_report(
        self,
        report: FetchedReport,
        enterprise: Enterprise,
        start_at: str,
        on_phase: Callable[[str], None],
    ) -> None: ...
    async def verify(self, code: str) -> Verification: ...
    async def file_objection(
        self, login: Login, report_id: str, record_id: str, reason: str, contact: str
    ) -> Objection: ...
    # raises PrintFailure; the objection stays filed whatever the printer does
    async def print_objection_slip(
        self, objection: Objection, report_id: str, record: str
    ) -> None: ...
    # raises KioskError when the call could neither be sent nor queued
    async def call_help(self, call_id: str, reason: str, step: str) -> HelpCallState: ...
    def check_staff_pin(self, pin: str) -> bool: ...
    def staff_locked_minutes(self) -> int: ...
    def staff_status(self) -> dict[str, str]: ...
    # the newest alerts: {"code", "detail", "at"}
    def staff_alerts(self) -> list[dict[str, str]]: ...


class Offline(Protocol):
    """The offline path's outside world: the encrypted queue, cached catalog, pickup (docs/offline.md).

    Without one (None) an unreachable platform is only an error message.
    """

    def cached_catalog(self) -> Catalog | None: ...
    def remember_catalog(self, catalog: Catalog) -> None: ...
    # raises KioskError when the QR's signature or expiry does not hold
    def check_login_qr(self, payload: str) -> OfflineIdentity: ...
    # on disk when it returns; raises QueueRefused. `ticket`: the request's key when an online
    # attempt used one already
    def enqueue(
        self,
        identity: OfflineIdentity,
        uscc: str,
        domains: Sequence[str] | None,
        period: Period,
        ticket: str | None = None,
    ) -> Queued: ...
    # raises PrintFailure
    async def print_pickup(self, queued: Queued, uscc: str) -> None: ...
    async def pickup(self, login: Login, ticket: str) -> tuple[FetchedReport, Enterprise]: ...
    # "waiting", "refused", "delivered", or None when this kiosk does not hold the ticket
    def ticket_state(self, ticket: str) -> str | None: ...
