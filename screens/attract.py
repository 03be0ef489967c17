"""The attract screen: what to do with the ID card or login QR, and the side doors."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator


class AttractScreen(KioskScreen):
    headline_id = "attract.headline"
    verify_text = StringProperty("")
    help_text = StringProperty("")
    elderly_text = StringProperty("")
    language_text = StringProperty("")

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        self.verify_text = t("attract.verify")
        self.help_text = t("attract.help")
        self.elderly_text = t("attract.standard" if snapshot.elderly else "attract.elderly")
        self.language_text = t("attract.language")
