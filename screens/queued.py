"""Offline: the request is in the queue; the pickup receipt says when and where to collect it."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator


class QueuedScreen(KioskScreen):
    headline_id = "queued.title"
    ticket_text = StringProperty("")
    when_text = StringProperty("")
    take_text = StringProperty("")
    reprint_text = StringProperty("")
    finish_text = StringProperty("")
    can_reprint = BooleanProperty(False)

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        self.ticket_text = t("queued.ticket", ticket=snapshot.ticket) if snapshot.ticket else ""
        self.when_text = t("queued.when", time=snapshot.pickup_after)
        self.take_text = t("queued.take_qr" if snapshot.login_method == "qr" else "queued.take")
        self.reprint_text = t("queued.reprint")
        self.finish_text = t("done.finish")
        self.can_reprint = snapshot.message_id == "offline_mode.receipt_failed"

    def speech(self) -> str:
        return f"{self.headline} {self.when_text}"

    def clear(self) -> None:
        self.ticket_text = self.when_text = ""
