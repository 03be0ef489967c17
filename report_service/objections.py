"""Objections to a record of a report (异议), answered within the region's working days (its
profile's `objection_deadline_working_days`: Wuhai's seed states 5; elsewhere a default of 5).

One objection per record while it is being handled: a second one for the same record before the
first's due date is refused, also when two arrive at once. A revoked report takes none. The
contact number is sealed at rest (AES-GCM, bound to the objection)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import unicodedata
from typing import Any

from sqlalchemy import Date, DateTime, LargeBinary, String, Text, exists, insert, literal, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.expression import ColumnElement

from identifiers import is_phone_number

from . import db
from .clock import Clock
from .errors import conflict, forbidden, unprocessable
from .keys import Keyring
from .profiles import Profile, load_profile
from .reports import ReportIssuer, random_code
from .sessions import SessionPerson
from .signing import Caller
from .text import unsafe_char
from .workdays import Coverage

log = logging.getLogger("report_service")

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")
_O = db.Objection.__table__.c


def is_contact(text: str) -> bool:
    """A mainland mobile or landline number (identifiers.phones), or an e-mail address."""
    if len(text) > 254 or unsafe_char(text) is not None:
        return False
    if "@" in text:
        return EMAIL.match(text) is not None
    return is_phone_number(text)


def _visible(text: str) -> int:
    """Characters that show: neither spaces nor format or control characters."""
    return sum(1 for ch in text if not ch.isspace() and unicodedata.category(ch)[0] != "C")


class Objections:
    def __init__(self, engine: Engine, clock: Clock, keys: Keyring, reports: ReportIssuer) -> None:
        self.engine = engine
        self.clock = clock
        self.keys = keys
        self.reports = reports

    def file(
        self,
        caller: Caller,
        person: SessionPerson,
        report_id: str,
        record_id: str,
        reason: str,
        contact: str,
    ) -> dict[str, Any]:
        if person.ticket is not None:  # a late login QR serves its queued request only
            raise forbidden(
                "session_restricted", "本次登录只能用于离线排队时提交的那份申请，请重新登录。"
            )
        report = self.reports.report_pdf(person, report_id)  # 404, or 410 when revoked
        summary = json.loads(report.summary)
        # a section's records too (stored apart since the summary's `sections`; among the
        # domains in reports issued before)
        parts = summary["domains"] + summary.get("sections", [])
        record_ids = {r["record_id"] for d in parts for r in d["records"]}
        if record_id not in record_ids:
            raise unprocessable(
                "record_not_in_report", "这条记录不在该报告中，请从报告中选择要提出异议的记录。"
            )
        reason = reason.strip()
        if unsafe_char(reason) is not None or _visible(reason) < 2 or len(reason) > 500:
            raise unprocessable("invalid_reason", "请填写异议理由（2至500字，不含控制字符）。")
        contact = contact.strip()
        if not is_contact(contact):
            raise unprocessable(
                "invalid_contact",
                "联系方式格式不正确，请输入11位手机号、带区号的固定电话或电子邮箱。",
            )
        now = self.clock()
        today = now.date()
        profile = load_profile(report.region)
        calendar = profile.calendar
        due_by = calendar.add_working_days(today, profile.objection_days)
        if gap := calendar.gap(due_by):  # a later year's holidays may shift the due date
            log.warning("objection due %s: %s", due_by.isoformat(), gap)
        objection_id = "OB" + today.strftime("%Y%m%d") + random_code(8)
        sealed = self.keys.seal(contact, db.objection_contact_context(objection_id))
        values: dict[str, ColumnElement[Any]] = {
            "objection_id": literal(objection_id, String),
            "report_id": literal(report_id, String),
            "record_id": literal(record_id, String),
            "reason": literal(reason, Text),
            "contact_sealed": literal(sealed, LargeBinary),
            "terminal_id": literal(caller.terminal_id, String),
            "created_at": literal(now, DateTime(timezone=True)),
            "due_by": literal(due_by, Date),
        }
        pending = exists().where(_O.record_id == record_id, _O.due_by >= today)
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # serialise objections on the record's row
                conn.execute(
                    select(db.Record.record_id)
                    .where(db.Record.record_id == record_id)
                    .with_for_update()
                )
            # one statement: the check and the insert cannot be split by another filing
            added = conn.execute(
                insert(db.Objection).from_select(
                    list(values), select(*values.values()).where(~pending)
                )
            )
        if added.rowcount != 1:
            raise conflict(
                "objection_exists", "这条记录已有正在处理的异议，请等待答复，不必重复提交。"
            )
        log.info("objection filed objection=%s report=%s", objection_id, report_id)
        return {"objection_id": objection_id, "due_by": due_by.isoformat()} | due_terms(
            profile, due_by
        )


def due_terms(profile: Profile, due_by: dt.date) -> dict[str, Any]:
    """What the due date rests on: the region's deadline and its source, and whether the
    holidays of the due date's year are the State Council's notice or not yet published."""
    deadline = profile.sources["objection_deadline_working_days"]
    coverage = profile.calendar.coverage(due_by)
    terms: dict[str, Any] = {
        "working_days": profile.objection_days,
        "deadline_basis": "deployment_default" if deadline.is_default else "seed",
        "calendar": {
            Coverage.NOTICE: "notice",
            Coverage.PROVISIONAL: "provisional",
            Coverage.NONE: "weekends_only",
        }[coverage],
    }
    if coverage is not Coverage.NOTICE:  # the rule for a year whose notice is not out yet
        terms["calendar_note"] = (
            f"{due_by.year}年的节假日安排尚未公布，答复日期按法定节假日推算，以官方公布为准。"
        )
    return terms
