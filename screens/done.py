"""Printed: take the paper and the card."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator


class DoneScreen(KioskScreen):
    headline_id = "done.title"
    take_text = StringProperty("")
    report_text = StringProperty("")
    code_text = StringProperty("")
    finish_text = StringProperty("")

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        # after a QR login there is no card to take away
        self.take_text = t("done.take_qr" if snapshot.login_method == "qr" else "done.take")
        self.report_text = (
            t("summary.report_id", report_id=snapshot.report_id) if snapshot.report_id else ""
        )
        self.code_text = (
            t("done.code", code=snapshot.verification_code) if snapshot.verification_code else ""
        )
        self.finish_text = t("done.finish")

    def speech(self) -> str:
        return f"{self.headline} {self.take_text}"

    def clear(self) -> None:
        self.report_text = self.code_text = ""
