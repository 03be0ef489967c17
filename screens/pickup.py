"""A pickup receipt was scanned: the person who queued the request signs in again."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator


class PickupScreen(KioskScreen):
    headline_id = "pickup.title"
    hint = StringProperty("")
    ticket_text = StringProperty("")

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        self.hint = t("pickup.hint")
        self.ticket_text = t("queued.ticket", ticket=snapshot.ticket) if snapshot.ticket else ""

    def clear(self) -> None:
        self.ticket_text = ""
