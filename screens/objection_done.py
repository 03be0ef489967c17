"""The objection was filed: when the answer is due."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator


class ObjectionDoneScreen(KioskScreen):
    headline_id = "objection_done.title"
    due_text = StringProperty("")
    back_text = StringProperty("")

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        self.due_text = t("objection_done.due", due=snapshot.objection_due)
        self.back_text = t("objection_done.back")

    def speech(self) -> str:
        return f"{self.headline} {self.due_text}"

    def clear(self) -> None:
        self.due_text = ""
