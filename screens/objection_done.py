"""The objection was filed: its number and when the answer is due, on screen and on the slip from
the receipt printer (how to follow it up); the slip can be printed again if it did not come out."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator


class ObjectionDoneScreen(KioskScreen):
    headline_id = "objection_done.title"
    number_text = StringProperty("")
    due_text = StringProperty("")
    slip_text = StringProperty("")
    reprint_text = StringProperty("")
    back_text = StringProperty("")
    can_reprint = BooleanProperty(False)
    printing = BooleanProperty(False)

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        self.number_text = (
            t("objection_done.number", id=snapshot.objection_id) if snapshot.objection_id else ""
        )
        self.due_text = t("objection_done.due", due=snapshot.objection_due)
        if snapshot.objection_due_provisional:
            self.due_text += "\n" + t("objection_done.provisional")
        failed = snapshot.message_id == "objection_done.slip_failed"
        self.printing = snapshot.print_phase == "slip"
        self.slip_text = (
            t("objection_done.slip_printing")
            if self.printing
            else ""
            if failed  # the banner says it did not print, and what to do
            else t("objection_done.slip_take")
        )
        self.can_reprint = failed
        self.reprint_text = t("objection_done.reprint")
        self.back_text = t("objection_done.back")

    def speech(self) -> str:
        return f"{self.headline} {self.number_text} {self.due_text} {self.slip_text}"

    def clear(self) -> None:
        self.number_text = self.due_text = self.slip_text = ""
