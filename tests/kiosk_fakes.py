"""A behavioural stand-in for the journey's outside world: scripted answers, recorded calls."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kiosk.api_models import (
    Catalog,
    Domain,
    DomainResult,
    Enterprise,
    HelpCallState,
    Login,
    Objection,
    RecordLine,
    ReportMeta,
    Verification,
)
from kiosk.errors import KioskError
from kiosk.periods import Period
from kiosk.ports import CardLike, FetchedReport, PrintFailure
from report_service.profiles import load_profile

TODAY = dt.date(2026, 11, 22)
CST = dt.timezone(dt.timedelta(hours=8))

CATALOG = Catalog(
    region="gansu",
    report_title="甘肃省专用信用报告",
    platform_name="信用甘肃",
    domains=tuple(Domain(f"D{i:02d}", f"领域{i}") for i in range(1, 6)),
    earliest_date=dt.date(2021, 1, 1),
    max_period_years=5,
    report_validity_days=30,
)
ACME = Enterprise("91620100MA00000001", "兰州示例科技有限公司", "legal_representative")
BETA = Enterprise("91620100MA00000002", "兰州示例商贸有限公司", "agent")


def login(*enterprises: Enterprise) -> Login:
    return Login(
        session_token="tok-" + "x" * 20,
        expires_at=dt.datetime(2026, 11, 22, 10, 10, tzinfo=CST),
        person_name_masked="张*",
        enterprises=enterprises,
    )


def report(records: int = 0) -> FetchedReport:
    lines = tuple(
        RecordLine(
            f"REC{i}", "administrative_penalty", "2024-03-01", "某局", f"文号{i}", "处罚", None
        )
        for i in range(records)
    )
    domains = (
        DomainResult("D01", "领域1", clean=not lines, records=lines),
        DomainResult("D02", "领域2", clean=True, records=()),
    )
    meta = ReportMeta(
        report_id="R20261122ABCDEFGHJK",
        verification_code="ABCDEFGHJK12",
        issued_at=dt.datetime(2026, 11, 22, 10, 0, tzinfo=CST),
        valid_until=dt.date(2026, 12, 22),
        domains=domains,
        total_records=records,
        sha256="0" * 64,
        signature="sig",
    )
    return FetchedReport(meta=meta, pdf=b"%PDF-1.4 fake")


@dataclass
class Card:
    id_number: str = "110101199003074578"
    name: str = "张三"
    valid_until: dt.date | None = dt.date(2030, 1, 1)


@dataclass
class FakeServices:
    login_answer: Login | KioskError = field(default_factory=lambda: login(ACME))
    report_answer: FetchedReport | KioskError = field(default_factory=report)
    print_failures: list[PrintFailure] = field(default_factory=list)
    verify_answer: Verification | KioskError = field(
        default_factory=lambda: Verification(
            "valid",
            ACME.uscc,
            ACME.name,
            "2026-11-22T10:00:00+08:00",
            {"start": "2023-11-22", "end": "2026-11-22"},
            ("市场监管领域",),
        )
    )
    staff_pin: str = "246810"
    staff_locked: bool = False  # as after five wrong PINs
    audits: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    fetches: list[tuple[str, Sequence[str] | None, Period, str]] = field(default_factory=list)
    prints: list[str] = field(default_factory=list)
    objections: list[tuple[str, str, str]] = field(default_factory=list)
    slips: list[tuple[str, str, str]] = field(default_factory=list)  # (objection, report, record)
    slip_failures: list[PrintFailure] = field(default_factory=list)
    help_calls: list[str] = field(default_factory=list)
    help_reasons: list[str] = field(default_factory=list)
    help_answer: str | KioskError = "open"  # the platform's answer to a help call
    hold: Callable[[], object] | None = None  # awaited inside slow calls, to interleave intents

    def today(self) -> dt.date:
        return TODAY

    def audit(self, event: str, **fields: str) -> None:
        self.audits.append((event, fields))

    async def catalog(self) -> Catalog:
        return CATALOG

    async def _answer(self, answer: object) -> object:
        if self.hold is not None:
            await self.hold()  # type: ignore[misc]
        if isinstance(answer, KioskError):
            raise answer
        return answer

    async def login_card(self, card: CardLike) -> Login:
        return await self._answer(self.login_answer)  # type: ignore[return-value]

    async def login_qr(self, payload: str) -> Login:
        return await self._answer(self.login_answer)  # type: ignore[return-value]

    async def fetch_report(
        self, login: Login, uscc: str, domains: Sequence[str] | None, period: Period, key: str
    ) -> FetchedReport:
        self.fetches.append((uscc, domains, period, key))
        return await self._answer(self.report_answer)  # type: ignore[return-value]

    async def print_report(
        self,
        report: FetchedReport,
        enterprise: Enterprise,
        start_at: str,
        on_phase: Callable[[str], None],
    ) -> None:
        self.prints.append(start_at)
        if self.print_failures:
            raise self.print_failures.pop(0)
        for phase in ("a4", "receipt")[("a4", "receipt").index(start_at) :]:
            on_phase(phase)

    async def verify(self, code: str) -> Verification:
        return await self._answer(self.verify_answer)  # type: ignore[return-value]

    async def file_objection(
        self, login: Login, report_id: str, record_id: str, reason: str, contact: str
    ) -> Objection:
        self.objections.append((record_id, reason, contact))
        return Objection("OB1", dt.date(2026, 11, 27))

    async def print_objection_slip(self, objection: Objection, report_id: str, record: str) -> None:
        self.slips.append((objection.objection_id, report_id, record))
        if self.slip_failures:
            raise self.slip_failures.pop(0)

    async def call_help(self, call_id: str, reason: str, step: str) -> HelpCallState:
        self.help_calls.append(step)
        self.help_reasons.append(reason)
        if isinstance(self.help_answer, KioskError):
            raise self.help_answer
        return HelpCallState(call_id, self.help_answer, None)

    def staff_alerts(self) -> list[dict[str, str]]:
        return [{"code": "a4.paper_out", "detail": "KioskA4", "at": "10:00:00"}]

    def check_staff_pin(self, pin: str) -> bool:
        return pin == self.staff_pin and not self.staff_locked

    def staff_locked_minutes(self) -> int:
        return 5 if self.staff_locked else 0

    def staff_status(self) -> dict[str, str]:
        return {"a4_printer": "online"}


class RegionServices(FakeServices):
    """The fake platform, with the catalog the real platform gives for `region`."""

    def __init__(self, region: str) -> None:
        super().__init__(report_answer=report(records=1))
        self.region_catalog = Catalog.from_json(load_profile(region).catalog(TODAY))

    async def catalog(self) -> Catalog:
        return self.region_catalog
