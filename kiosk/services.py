"""The journey's outside world for real (`ports.Services`): the API client, the printers, audit,
staff alerts and the staff PIN."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .alerts import StaffAlerts
from .api import ReportApi
from .api_models import Catalog, Enterprise, HelpCallState, Login, Objection, Verification
from .audit import AuditLog
from .errors import IntegrityFailure, PlatformUnavailable
from .periods import Period, today_in_china
from .ports import CardLike, FetchedReport
from .printing import PrintOrchestrator
from .staff import StaffLock


class KioskServices:
    def __init__(
        self,
        api: ReportApi,
        platform_key: Ed25519PublicKey,
        printing: PrintOrchestrator,
        audit: AuditLog,
        staff: StaffLock,
        device_status: Callable[[], dict[str, Any]],
        *,
        alerts: StaffAlerts,
        queue_counts: Callable[[], dict[str, Any]] = dict,
        queue_call: Callable[[str, str, str], None] | None = None,
        today: Callable[[], dt.date] = today_in_china,
    ) -> None:
        self.api = api
        self.platform_key = platform_key
        self.printing = printing
        self.audit_log = audit
        self.staff = staff
        self.device_status = device_status
        self.alerts = alerts
        self.queue_counts = queue_counts  # the offline queue per state, for the staff screen
        self.queue_call = queue_call  # a help call into the outbox, when the platform is away
        self._today = today
        self.help_calls = 0

    def today(self) -> dt.date:
        return self._today()

    def audit(self, event: str, **fields: str) -> None:
        self.audit_log(event, **fields)

    async def catalog(self) -> Catalog:
        return await self.api.catalog()

    async def login_card(self, card: CardLike) -> Login:
        return await self.api.login_id_card(card.id_number, card.name, card.valid_until)

    async def login_qr(self, payload: str) -> Login:
        return await self.api.login_qr(payload)

    async def fetch_report(
        self, login: Login, uscc: str, domains: Sequence[str] | None, period: Period, key: str
    ) -> FetchedReport:
        meta = await self.api.create_report(
            login.session_token, uscc, domains, period.start, period.end, key
        )
        try:
            pdf = await self.api.report_pdf(login.session_token, meta, self.platform_key)
        except IntegrityFailure as exc:
            self.alerts.add(exc.code, exc.detail)
            raise
        return FetchedReport(meta=meta, pdf=pdf.data)

    async def print_report(
        self,
        report: FetchedReport,
        enterprise: Enterprise,
        start_at: str,
        on_phase: Callable[[str], None],
    ) -> None:
        await self.printing.print_report(report, enterprise, start_at, on_phase)

    async def verify(self, code: str) -> Verification:
        return await self.api.verify(code)

    async def file_objection(
        self, login: Login, report_id: str, record_id: str, reason: str, contact: str
    ) -> Objection:
        return await self.api.file_objection(
            login.session_token, report_id, record_id, reason, contact
        )

    async def print_objection_slip(self, objection: Objection, report_id: str, record: str) -> None:
        await self.printing.print_objection(objection, report_id, record)

    async def call_help(self, call_id: str, reason: str, step: str) -> HelpCallState:
        """Tell the hall's staff now; with the platform away the call waits in the outbox (and
        the screen says where the service desk is)."""
        self.help_calls += 1
        try:
            return await self.api.assistance(call_id, reason, step)
        except PlatformUnavailable:
            if self.queue_call is None:
                raise
            self.queue_call(call_id, reason, step)
            return HelpCallState(call_id, "undelivered", None)

    def check_staff_pin(self, pin: str) -> bool:
        return self.staff.check(pin)

    def staff_locked_minutes(self) -> int:
        return math.ceil(self.staff.locked_for() / 60)

    def staff_alerts(self) -> list[dict[str, str]]:
        return self.alerts.recent()

    def staff_status(self) -> dict[str, str]:
        """Codes for the staff screen to word: each device's state, and for printers the paper,
        an open cover and the device's error code when there is one."""
        status: dict[str, str] = {}
        for kind, device in self.device_status().items():
            status[kind] = str(device.get("state", ""))
            if device.get("paper") not in (None, "full"):
                status[kind + "_paper"] = str(device["paper"])
            if device.get("cover_open"):
                status[kind + "_cover"] = "open"
            if device.get("error_code"):
                status[kind + "_error"] = str(device["error_code"])
        status["alerts"] = str(len(self.alerts))
        status["help_calls"] = str(self.help_calls)
        for state, count in self.queue_counts().items():
            status["queue_" + state] = str(count)
        return status
