"""Typed views of the platform's JSON answers, checked field by field (DESIGN §3).

A missing or mistyped field raises ProtocolViolation: the kiosk never guesses at a malformed answer.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from .errors import ProtocolViolation

log = logging.getLogger(__name__)

DEFAULT_RECORD_TERM = "违法违规记录"  # what an older platform's catalog means by a record


def _get(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj or not isinstance(obj[key], kind):
        raise ProtocolViolation(f"{where}: field {key!r} missing or not {kind}")
    return obj[key]


def _opt(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = obj.get(key)
    if value is not None and not isinstance(value, kind):
        raise ProtocolViolation(f"{where}: field {key!r} is not {kind}")
    return value


def _date(text: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ProtocolViolation(f"{where}: {text!r} is not an ISO date") from None


def _datetime(text: str, where: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ProtocolViolation(f"{where}: {text!r} is not an ISO timestamp") from None
    if value.tzinfo is None:
        raise ProtocolViolation(f"{where}: timestamp {text!r} has no UTC offset")
    return value


@dataclass(frozen=True, slots=True)
class Enrollment:
    terminal_id: str
    hall_id: str
    region: str
    platform_public_key: str  # standard base64 of the raw 32 bytes
    config: dict[str, Any]

    @classmethod
    def from_json(cls, data: Any) -> Enrollment:
        w = "enrollment"
        return cls(
            terminal_id=_get(data, "terminal_id", str, w),
            hall_id=_get(data, "hall_id", str, w),
            region=_get(data, "region", str, w),
            platform_public_key=_get(data, "platform_public_key", str, w),
            config=_get(data, "config", dict, w),
        )


@dataclass(frozen=True, slots=True)
class Domain:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class ObjectionDeadline:
    """How long an objection may take, and whether the region's scheme says so."""

    working_days: int
    basis: str  # "seed": the region's scheme states it; "deployment_default": the platform's
    source: str  # the scheme's words (for a default: what the scheme says instead), or ""

    @classmethod
    def from_json(cls, data: Any) -> ObjectionDeadline:
        w = "catalog.objection_deadline"
        basis = _get(data, "basis", str, w)
        if basis not in ("seed", "deployment_default"):
            raise ProtocolViolation(f"{w}: unknown basis {basis!r}")
        return cls(_get(data, "working_days", int, w), basis, _get(data, "source", str, w))


@dataclass(frozen=True, slots=True)
class Catalog:
    region: str
    report_title: str
    platform_name: str
    domains: tuple[Domain, ...]
    earliest_date: dt.date | None  # the region's floor date
    max_period_years: int
    report_validity_days: int
    # parts in every report whatever domains are chosen (Heihe: 企业参保欠缴, 住房公积金欠缴)
    sections: tuple[Domain, ...] = ()
    objection_deadline: ObjectionDeadline | None = None  # None: a platform that does not say
    max_period_from_floor: bool = False  # max_period.from_floor: any start from the floor
    record_term: str = DEFAULT_RECORD_TERM  # the region's word for a record (Heihe: 违法记录)

    @classmethod
    def from_json(cls, data: Any) -> Catalog:
        w = "catalog"
        domains = _domains(_get(data, "domains", list, w), w)
        if not domains:
            raise ProtocolViolation("catalog: no domains")
        floor = _opt(data, "earliest_date", str, w)
        deadline = _opt(data, "objection_deadline", dict, w)
        max_period = _opt(data, "max_period", dict, w) or {}
        return cls(
            region=_get(data, "region", str, w),
            report_title=_get(data, "report_title", str, w),
            platform_name=_get(data, "platform_name", str, w),
            domains=domains,
            earliest_date=None if floor is None else _date(floor, w),
            max_period_years=_get(data, "max_period_years", int, w),
            report_validity_days=_get(data, "report_validity_days", int, w),
            sections=_domains(_opt(data, "sections", list, w) or [], w),
            objection_deadline=_deadline(deadline),
            max_period_from_floor=_opt(max_period, "from_floor", bool, w) is True,
            record_term=_opt(data, "record_term", str, w) or DEFAULT_RECORD_TERM,
        )

    def to_json(self) -> dict[str, Any]:
        """The same shape the platform sends, for the offline cache."""
        return {
            "region": self.region,
            "report_title": self.report_title,
            "platform_name": self.platform_name,
            "domains": [{"code": d.code, "name": d.name} for d in self.domains],
            "earliest_date": None if self.earliest_date is None else self.earliest_date.isoformat(),
            "max_period_years": self.max_period_years,
            "report_validity_days": self.report_validity_days,
            "sections": [{"code": d.code, "name": d.name} for d in self.sections],
            "objection_deadline": None
            if self.objection_deadline is None
            else {
                "working_days": self.objection_deadline.working_days,
                "basis": self.objection_deadline.basis,
                "source": self.objection_deadline.source,
            },
            "max_period": {
                "years": self.max_period_years,
                "from_floor": self.max_period_from_floor,
            },
            "record_term": self.record_term,
        }


def _domains(items: list[Any], w: str) -> tuple[Domain, ...]:
    return tuple(Domain(code=_get(d, "code", str, w), name=_get(d, "name", str, w)) for d in items)


def _deadline(data: dict[str, Any] | None) -> ObjectionDeadline | None:
    """The catalog's objection deadline; one this kiosk cannot read is not shown rather than
    refusing the whole catalog (and with it every login)."""
    if data is None:
        return None
    try:
        return ObjectionDeadline.from_json(data)
    except ProtocolViolation as exc:
        log.warning("catalog: objection deadline not shown: %s", exc)
        return None


@dataclass(frozen=True, slots=True)
class Enterprise:
    uscc: str
    name: str
    role: str  # legal_representative | agent


@dataclass(frozen=True, slots=True)
class Login:
    session_token: str = field(repr=False)
    expires_at: dt.datetime
    person_name_masked: str
    enterprises: tuple[Enterprise, ...]

    @classmethod
    def from_json(cls, data: Any) -> Login:
        w = "session"
        person = _get(data, "person", dict, w)
        return cls(
            session_token=_get(data, "session_token", str, w),
            expires_at=_datetime(_get(data, "expires_at", str, w), w),
            person_name_masked=_get(person, "name", str, w),
            enterprises=tuple(
                Enterprise(
                    uscc=_get(e, "uscc", str, w),
                    name=_get(e, "name", str, w),
                    role=_get(e, "role", str, w),
                )
                for e in _get(data, "enterprises", list, w)
            ),
        )


@dataclass(frozen=True, slots=True)
class RecordLine:
    record_id: str
    kind: str
    date: str
    agency: str
    document_no: str
    title: str
    repaired_on: str | None


@dataclass(frozen=True, slots=True)
class DomainResult:
    code: str
    name: str
    clean: bool
    records: tuple[RecordLine, ...]
    section: bool = False  # a part of every report, not a chosen domain (Heihe: 企业参保欠缴)


@dataclass(frozen=True, slots=True)
class ReportMeta:
    report_id: str
    verification_code: str
    issued_at: dt.datetime
    valid_until: dt.date
    domains: tuple[DomainResult, ...]
    total_records: int
    sha256: str
    signature: str

    @classmethod
    def from_json(cls, data: Any) -> ReportMeta:
        w = "report"
        summary = _get(data, "summary", dict, w)
        domains = []
        # the platform's sections (Heihe's arrears) come apart from the chosen domains; a
        # platform of before that change sent them among the domains, marked `section`
        parts = [(d, False) for d in _get(summary, "domains", list, w)]
        parts += [(d, True) for d in _opt(summary, "sections", list, w) or []]
        for d, in_sections in parts:
            conclusion = _get(d, "conclusion", str, w)
            if conclusion not in ("clean", "records"):
                raise ProtocolViolation(f"report: conclusion {conclusion!r}")
            records = tuple(
                RecordLine(
                    record_id=_get(r, "record_id", str, w),
                    kind=_get(r, "kind", str, w),
                    date=_get(r, "date", str, w),
                    agency=_get(r, "agency", str, w),
                    document_no=_get(r, "document_no", str, w),
                    title=_get(r, "title", str, w),
                    repaired_on=_opt(r, "repaired_on", str, w),
                )
                for r in _get(d, "records", list, w)
            )
            domains.append(
                DomainResult(
                    code=_get(d, "code", str, w),
                    name=_get(d, "name", str, w),
                    clean=conclusion == "clean",
                    records=records,
                    section=in_sections or _opt(d, "section", bool, w) is True,
                )
            )
        return cls(
            report_id=_get(data, "report_id", str, w),
            verification_code=_get(data, "verification_code", str, w),
            issued_at=_datetime(_get(data, "issued_at", str, w), w),
            valid_until=_date(_get(data, "valid_until", str, w), w),
            domains=tuple(domains),
            total_records=_get(summary, "total_records", int, w),
            sha256=_get(data, "sha256", str, w),
            signature=_get(data, "signature", str, w),
        )


@dataclass(frozen=True, slots=True)
class Verification:
    status: str  # valid | expired | revoked | unknown
    uscc: str | None
    name: str | None
    issued_at: str | None
    period: dict[str, str] | None
    domains: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Any) -> Verification:
        w = "verify"
        status = _get(data, "status", str, w)
        if status not in ("valid", "expired", "revoked", "unknown"):
            raise ProtocolViolation(f"verify: status {status!r}")
        # the names printed on the paper: the domains, then any sections (Heihe's arrears)
        domains = (_opt(data, "domains", list, w) or []) + (_opt(data, "sections", list, w) or [])
        return cls(
            status=status,
            uscc=_opt(data, "uscc", str, w),
            name=_opt(data, "name", str, w),
            issued_at=_opt(data, "issued_at", str, w),
            period=_verify_period(_opt(data, "period", dict, w)),
            domains=tuple(
                str(d.get("name", d)) if isinstance(d, dict) else str(d) for d in domains
            ),
        )


def _verify_period(period: dict[str, Any] | None) -> dict[str, str] | None:
    """The platform's `{from, to}` as the screens' `{start, end}`; None when it names none."""
    if period is None or period.get("from") is None:
        return None
    start, end = _get(period, "from", str, "verify"), _get(period, "to", str, "verify")
    return {"start": _date(start, "verify").isoformat(), "end": _date(end, "verify").isoformat()}


@dataclass(frozen=True, slots=True)
class Objection:
    objection_id: str
    due_by: dt.date
    # the due date counts days of a year whose holiday notice is not out (calendar_note): 以官方公布为准
    provisional: bool = False

    @classmethod
    def from_json(cls, data: Any) -> Objection:
        w = "objection"
        return cls(
            objection_id=_get(data, "objection_id", str, w),
            due_by=_date(_get(data, "due_by", str, w), w),
            provisional=bool(_opt(data, "calendar_note", str, w)),
        )


# --- hall operations (DESIGN §8) -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Command:
    """A staff command from the dashboard, to run once (by its id) and report on."""

    command_id: str
    kind: str
    args: dict[str, Any]
    expires_at: dt.datetime

    @classmethod
    def from_json(cls, data: Any) -> Command:
        w = "command"
        return cls(
            command_id=_get(data, "command_id", str, w),
            kind=_get(data, "kind", str, w),
            args=_get(data, "args", dict, w),
            expires_at=_datetime(_get(data, "expires_at", str, w), w),
        )


@dataclass(frozen=True, slots=True)
class HelpCallState:
    call_id: str
    status: str  # "open", "acknowledged", "resolved"
    staff: str | None  # who acknowledged it

    @classmethod
    def from_json(cls, data: Any) -> HelpCallState:
        w = "help call"
        status = _get(data, "status", str, w)
        if status not in ("open", "acknowledged", "resolved"):
            raise ProtocolViolation(f"{w}: unknown status {status!r}")
        return cls(_get(data, "call_id", str, w), status, _opt(data, "staff", str, w))


@dataclass(frozen=True, slots=True)
class HeartbeatAnswer:
    commands: tuple[Command, ...]
    help_calls: tuple[HelpCallState, ...]
    next_interval_s: float | None  # the platform asks for sooner beats while a call is open

    @classmethod
    def from_json(cls, data: Any) -> HeartbeatAnswer:
        w = "heartbeat"
        interval = _opt(data, "next_interval_s", int, w)
        return cls(
            commands=tuple(Command.from_json(c) for c in _get(data, "commands", list, w)),
            help_calls=tuple(HelpCallState.from_json(c) for c in _get(data, "help_calls", list, w)),
            next_interval_s=None if interval is None else float(interval),
        )
