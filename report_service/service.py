"""The platform's operations behind the HTTP routes and the command line, composed: request
signing (`auth`), logins (`logins`), reports (`reports`), terminals (`terminals`), objections
(`objections`); verification, report revocation and persons' roles live here."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Engine

from . import db
from .clock import Clock, aware, system_clock
from .keys import Keyring
from .objections import Objections
from .profiles import Profile, load_profile
from .report_build import ReportRequest
from .reports import ReportIssuer
from .sessions import FAILURE_LIMIT, Logins
from .signing import Caller, RequestAuth
from .terminals import Terminals

log = logging.getLogger("report_service")

VERIFICATION_CODE = re.compile(r"^[0-9A-Z]{12}$")
_R = db.Report.__table__.c
_VERIFY = select(
    _R.uscc, _R.entity_name, _R.region, _R.domains, _R.period_from, _R.period_to, _R.issued_at,
    _R.valid_until, _R.sha256, _R.revoked_at,
).where(_R.verification_code == bindparam("code"))  # fmt: skip


@dataclass(frozen=True)
class Verification:
    """What GET /v1/verify/{code} tells anyone holding the paper (DESIGN §3, §10)."""

    status: str  # valid | expired | revoked | unknown
    uscc: str | None = None
    name: str | None = None
    issued_at: dt.datetime | None = None
    valid_until: dt.date | None = None
    domains: tuple[tuple[str, str], ...] | None = None  # (code, name) as stored, sections too
    period: tuple[dt.date, dt.date] | None = None
    sha256: str | None = None
    sections: frozenset[str] = frozenset()  # which of those codes are sections (Heihe's arrears)

    def parts(self, sections: bool) -> list[tuple[str, str]]:
        """The chosen domains (`sections` False) or the profile's sections, as (code, name)."""
        return [(c, n) for c, n in self.domains or () if (c in self.sections) is sections]

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "uscc": self.uscc,
            "name": self.name,
            "issued_at": None if self.issued_at is None else self.issued_at.isoformat(),
            "domains": None if self.domains is None else [
                {"code": c, "name": n} for c, n in self.parts(sections=False)
            ],
            "sections": None if self.domains is None else [
                {"code": c, "name": n} for c, n in self.parts(sections=True)
            ],
            "period": None if self.period is None else {
                "from": self.period[0].isoformat(), "to": self.period[1].isoformat()
            },
            "sha256": self.sha256,
        }  # fmt: skip


class PlatformService:
    """Built by bootstrap.open_platform, which checks that `keys` belong to the database."""

    def __init__(
        self,
        engine: Engine,
        keys: Keyring,
        public_url: str = "http://127.0.0.1:8080",
        clock: Clock = system_clock,
        failure_limit: int = FAILURE_LIMIT,
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.sessions = db.session_factory(engine)
        self.public_url = public_url.rstrip("/")
        self.clock = clock
        self.auth = RequestAuth(engine, clock)
        self.logins = Logins(engine, self.sessions, clock, keys, failure_limit)
        self.reports = ReportIssuer(
            engine,
            self.sessions,
            clock,
            keys.sign_b64,
            self.public_url,
            nonces=self.auth,
            logins=self.logins,
        )
        self.terminals = Terminals(engine, clock, keys, self.public_url)
        self.objections = Objections(engine, clock, keys, self.reports)

    def id_hash(self, id_number: str) -> str:
        return self.keys.id_hash(id_number)

    def now(self) -> dt.datetime:
        return self.clock()

    def today(self) -> dt.date:
        return self.clock().date()

    def profile(self, caller: Caller) -> Profile:
        return load_profile(caller.region)

    # ---- verification -------------------------------------------------------------------------
    def verification(self, code: str) -> Verification:
        code = code.strip().upper().replace("-", "")
        report = None
        if VERIFICATION_CODE.match(code):
            with self.engine.connect() as conn:
                report = conn.execute(_VERIFY, {"code": code}).first()
        if report is None:
            return Verification("unknown")
        if report.revoked_at is not None:
            status = "revoked"
        elif self.today() > report.valid_until:
            status = "expired"
        else:
            status = "valid"
        profile = load_profile(report.region)
        domains = tuple(
            (c, d.name if (d := profile.part(c)) else c) for c in json.loads(report.domains)
        )
        return Verification(
            status,
            report.uscc,
            report.entity_name,
            aware(report.issued_at),
            report.valid_until,
            domains,
            (report.period_from, report.period_to),
            report.sha256,
            frozenset(d.code for d in profile.sections),
        )

    def verify(self, code: str) -> dict[str, Any]:
        return self.verification(code).as_json()

    def revoke(self, report_id: str) -> bool:
        with self.engine.begin() as conn:
            changed = conn.execute(
                update(db.Report)
                .where(_R.report_id == report_id, _R.revoked_at.is_(None))
                .values(revoked_at=self.now())
            )
            if changed.rowcount:
                return True
            found = conn.execute(select(_R.report_id).where(_R.report_id == report_id)).first()
        return found is not None  # revoked before: still revoked

    # ---- persons ------------------------------------------------------------------------------
    def remove_role(self, id_number: str, uscc: str) -> bool:
        """Withdraw a person's role for an entity; open sessions lose it on their next call."""
        p = db.Person.__table__.c
        with self.engine.begin() as conn:
            pid = conn.execute(
                select(p.id).where(p.id_hash == self.id_hash(id_number.strip()))
            ).scalar()
            if pid is None:
                return False
            gone = conn.execute(
                delete(db.Role).where(db.Role.person_id == pid, db.Role.uscc == uscc)
            )
        if gone.rowcount:
            log.info("role withdrawn entity=%s", uscc)
        return bool(gone.rowcount)

    def healthy(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(select(1))
        except Exception:  # any driver error means the database is unreachable
            log.exception("database unreachable")
            return False
        return True


__all__ = ["Caller", "PlatformService", "ReportRequest", "Verification"]
