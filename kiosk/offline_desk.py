"""The offline path for real: the encrypted queue, the cached catalog, pickup receipts and pickup
(docs/offline.md). The journey sees it through `kiosk.ports.Offline`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from offline_cache import ItemState, OfflineCacheError, OfflineStore

from .api import ReportApi
from .api_models import Catalog, Enterprise, Login
from .errors import IntegrityFailure, KioskError
from .login_qr import check_login_qr
from .offline import REPORT_REQUEST, OfflineIdentity, Queued, QueuedRequest, QueueRefused
from .periods import CST, Period
from .ports import FetchedReport
from .printing import PrintOrchestrator
from .signing import signature_valid
from .tickets import new_ticket

log = logging.getLogger(__name__)

CATALOG = "catalog"  # the cached value's name


class OfflineDesk:
    def __init__(
        self,
        store: OfflineStore,
        api: ReportApi,
        platform_key: Ed25519PublicKey,
        printing: PrintOrchestrator,
        *,
        pickup_after_min: int = 60,
        reprint_ttl_s: float = 900.0,
        clock: Callable[[], float] = time.time,
        wake: Callable[[], None] = lambda: None,
        alert: Callable[[str, str], None] = lambda code, detail: None,
    ) -> None:
        self.store = store
        self.api = api
        self.platform_key = platform_key
        self.printing = printing
        self.pickup_after = dt.timedelta(minutes=pickup_after_min)
        self.reprint_ttl_s = reprint_ttl_s
        self._clock = clock
        self.wake = wake  # the drain task looks at the queue at once
        self.alert = alert  # for staff: a PDF that failed its check

    # --- the catalog ---------------------------------------------------------------------------
    def cached_catalog(self) -> Catalog | None:
        try:
            cached = self.store.cache.get(CATALOG)
            return None if cached is None else Catalog.from_json(cached.value)
        except (OfflineCacheError, KioskError) as exc:
            log.warning("cached catalog unusable: %s", exc.code)
            return None

    def remember_catalog(self, catalog: Catalog) -> None:
        try:
            self.store.cache.put(CATALOG, catalog.to_json())
        except OfflineCacheError as exc:  # the online session goes on; offline will lack it
            log.warning("catalog not cached: %s %s", exc.code, exc.detail)

    # --- taking a request --------------------------------------------------------------------------
    def check_login_qr(self, payload: str) -> OfflineIdentity:
        claims = check_login_qr(payload, self.platform_key, self._clock())
        return OfflineIdentity.from_qr(payload, claims.name_masked)

    def enqueue(
        self,
        identity: OfflineIdentity,
        uscc: str,
        domains: Sequence[str] | None,
        period: Period,
        ticket: str | None = None,
    ) -> Queued:
        now = dt.datetime.fromtimestamp(self._clock(), CST).replace(microsecond=0)
        ticket = ticket or new_ticket()
        chosen = None if domains is None else tuple(domains)
        request = QueuedRequest.of(identity, uscc, chosen, period, now)
        try:
            self.store.outbox.enqueue(REPORT_REQUEST, ticket, request.to_payload(), pii=True)
        except OfflineCacheError as exc:
            raise QueueRefused(exc.detail, code=exc.code) from None
        log.info("request queued for delivery (ticket %s)", ticket)
        self.wake()
        return Queued(ticket=ticket, submitted_at=now, pickup_after=now + self.pickup_after)

    async def print_pickup(self, queued: Queued, uscc: str) -> None:
        await self.printing.print_pickup(
            queued.ticket, uscc, queued.submitted_at, queued.pickup_after
        )

    def ticket_state(self, ticket: str) -> str | None:
        try:
            item = self.store.outbox.find(REPORT_REQUEST, ticket)
        except OfflineCacheError as exc:
            log.warning("ticket lookup failed: %s", exc.code)
            return None
        if item is None:
            return None
        if item.state is ItemState.DEAD_LETTER:
            return "refused"
        if item.state is ItemState.DELIVERED:
            return "delivered"
        return "waiting"

    # --- pickup ----------------------------------------------------------------------------------
    async def pickup(self, login: Login, ticket: str) -> tuple[FetchedReport, Enterprise]:
        """The report of a queued request, for the person who queued it; its PDF checked as on
        the online path (sha256 and the platform's signature) before anything prints."""
        meta = await self.api.report_by_ticket(login.session_token, ticket)
        pdf = self._reprint(meta.report_id, meta.sha256, meta.signature)
        if pdf is None:
            try:
                signed = await self.api.report_pdf(login.session_token, meta, self.platform_key)
            except IntegrityFailure as exc:  # the screen says staff were told: tell them
                self.alert(exc.code, exc.detail)
                raise
            pdf = signed.data
            try:
                if self.reprint_ttl_s > 0:
                    self.store.reprints.put(
                        meta.report_id, pdf, {"sha256": meta.sha256}, ttl=self.reprint_ttl_s
                    )
            except OfflineCacheError as exc:
                log.warning("report not kept for a reprint: %s", exc.code)
        # by-ticket names the report, not the enterprise: the public verify call does
        found = await self.api.verify(meta.verification_code)
        known = [e for e in login.enterprises if e.uscc == found.uscc]
        enterprise = known[0] if known else Enterprise(found.uscc or "", found.name or "", "")
        return FetchedReport(meta=meta, pdf=pdf), enterprise

    def _reprint(self, report_id: str, sha256: str, signature: str) -> bytes | None:
        """A picked-up report kept from a moment ago (a jam, a second try), still checked."""
        if self.reprint_ttl_s <= 0:
            return None
        try:
            kept = self.store.reprints.get(report_id)
        except OfflineCacheError as exc:
            log.warning("reprint cache unreadable: %s", exc.code)
            return None
        if kept is None or hashlib.sha256(kept.pdf).hexdigest() != sha256:
            return None
        if not signature_valid(self.platform_key, signature, kept.pdf):
            return None
        return kept.pdf
