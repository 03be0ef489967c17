"""Error and out-of-service: what happened, and what to do next (whom to ask, where, what to bring)."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.steps import Snapshot, Step

from .base import KioskScreen, Translator


def next_step(t: Translator, message_id: str) -> str:
    """The next step after `message_id` ("" for a message that needs none)."""
    return t(f"next.{message_id}") if t.has(f"next.{message_id}") else ""


class NoticeScreen(KioskScreen):
    help_text = StringProperty("")
    next_label = StringProperty("")
    next_text = StringProperty("")
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
        # a locked terminal's text already says where staff are
        self.next_text = "" if snapshot.step is Step.LOCKED else next_step(t, message_id)
        self.next_label = t("next.title") if self.next_text else ""
        self.help_text = t("attract.help")
        # out of service nobody can be served here; staff come by themselves, through the door
        self.can_help = snapshot.step not in (Step.OUT_OF_SERVICE, Step.LOCKED)
        self.staff_door = snapshot.staff_door

    def speech(self) -> str:
        return f"{self.headline} {self.next_label} {self.next_text}"
