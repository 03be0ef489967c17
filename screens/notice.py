"""Error and out-of-service: the message is the whole screen."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.steps import Snapshot, Step

from .base import KioskScreen, Translator


class NoticeScreen(KioskScreen):
    help_text = StringProperty("")
    can_help = BooleanProperty(True)
    staff_door = BooleanProperty(False)

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        message_id = snapshot.message_id or (
            "error.out_of_service" if snapshot.step is Step.OUT_OF_SERVICE else "error.generic"
        )
        self.headline = t(message_id, floor=snapshot.floor or "", **snapshot.message_args)
        self.help_text = t("attract.help")
        # out of service nobody can be served here; staff come by themselves, through the door
        self.can_help = snapshot.step is not Step.OUT_OF_SERVICE
        self.staff_door = snapshot.staff_door
