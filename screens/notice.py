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
        args = {**snapshot.message_args}
        if "desk" in args:  # where a person finds staff: the hall's words, or the usual name
            args["desk"] = args["desk"] or t("help.desk_default")
        if snapshot.step is Step.LOCKED:
            self.headline = t("locked.title") + "\n" + t("locked.text", **args).strip()
        else:
            self.headline = t(message_id, floor=snapshot.floor or "", **args)
        self.help_text = t("attract.help")
        # out of service nobody can be served here; staff come by themselves, through the door
        self.can_help = snapshot.step not in (Step.OUT_OF_SERVICE, Step.LOCKED)
        self.staff_door = snapshot.staff_door
