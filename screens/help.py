"""Help was called: wait for staff, or carry on."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator


class HelpScreen(KioskScreen):
    headline_id = "help.title"
    close_text = StringProperty("")

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        self.close_text = t("help.close")
