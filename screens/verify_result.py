"""What the platform says about a scanned report."""

from __future__ import annotations

import datetime as dt

from kivy.properties import BooleanProperty, StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator
from .notice import next_step

STATUSES = ("valid", "expired", "revoked", "unknown")


class VerifyResultScreen(KioskScreen):
    status = StringProperty("unknown")
    alarming = BooleanProperty(False)  # revoked or unknown: maybe a forgery
    enterprise_label = StringProperty("")
    enterprise = StringProperty("")
    issued_label = StringProperty("")
    issued = StringProperty("")
    period_label = StringProperty("")
    period = StringProperty("")
    domains_label = StringProperty("")
    domains = StringProperty("")
    again_text = StringProperty("")
    next_label = StringProperty("")
    next_text = StringProperty("")  # not valid: what to do about it

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        result = snapshot.verification
        self.status = result.status if result and result.status in STATUSES else "unknown"
        self.headline = t(f"verify.{self.status}")
        self.alarming = self.status in ("revoked", "unknown")
        self.enterprise_label = t("confirm.enterprise")
        self.issued_label = t("verify.issued")
        self.period_label = t("confirm.period")
        self.domains_label = t("confirm.domains")
        self.again_text = t("verify.again")
        self.next_text = next_step(t, f"verify.{self.status}")
        self.next_label = t("next.title") if self.next_text else ""
        if result is None:
            self.clear()
            return
        self.enterprise = "\n".join(x for x in (result.name, result.uscc) if x)
        self.issued = _minutes(result.issued_at or "")
        period = result.period or {}
        self.period = (
            t("period.range", start=period["start"], end=period["end"])
            if "start" in period and "end" in period
            else ""
        )
        self.domains = t("list.separator").join(result.domains)

    def clear(self) -> None:
        self.enterprise = self.issued = self.period = self.domains = ""


def _minutes(timestamp: str) -> str:
    """'2026-11-22T10:00:00+08:00' as '2026-11-22 10:00' (platform time); other text as it is."""
    try:
        moment = dt.datetime.fromisoformat(timestamp)
    except ValueError:
        return timestamp
    return moment.strftime("%Y-%m-%d %H:%M") if "T" in timestamp else timestamp
