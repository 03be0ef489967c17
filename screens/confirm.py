"""Check the request before it goes to the platform."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator


class ConfirmScreen(KioskScreen):
    headline_id = "confirm.title"
    enterprise_label = StringProperty("")
    enterprise = StringProperty("")
    domains_label = StringProperty("")
    domains = StringProperty("")
    period_label = StringProperty("")
    period = StringProperty("")
    go_text = StringProperty("")
    note = StringProperty("")  # offline: what happens to the request

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        self.enterprise_label = t("confirm.enterprise")
        self.domains_label = t("confirm.domains")
        self.period_label = t("confirm.period")
        self.go_text = t("confirm.go")
        enterprise = snapshot.enterprise
        if snapshot.offline:  # only the typed code is known until the platform answers
            self.enterprise_label = t("confirm.uscc")
            self.enterprise = enterprise.uscc if enterprise else ""
        else:
            self.enterprise = enterprise.name if enterprise else ""
        self.note = t("offline_mode.confirm_note") if snapshot.offline else ""
        chosen = snapshot.selected_domains
        if chosen is None:
            self.domains = t("scope.all_domains", count=len(snapshot.domains))
        else:
            names = [name for code, name in snapshot.domains if code in chosen]
            self.domains = (
                t("scope.selected", count=len(chosen)) + "\n" + t("list.separator").join(names)
            )
        if snapshot.sections:  # Heihe's arrears: no choice of domains leaves them out
            sections = t("list.separator").join(name for _, name in snapshot.sections)
            self.domains += "\n" + t("confirm.sections", names=sections)
        period = snapshot.period
        self.period = (
            t("period.range", start=period.start.isoformat(), end=period.end.isoformat())
            if period
            else ""
        )

    def clear(self) -> None:
        self.enterprise = self.domains = self.period = self.note = ""
