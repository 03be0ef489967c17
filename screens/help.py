"""Help was called: the call's state as the platform reports it (sent, answered by whom, or not
delivered: where the service desk is), and a way to carry on."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator


def help_state_text(snapshot: Snapshot, t: Translator) -> str:
    """The words for this session's help call; "" when it has none."""
    state = snapshot.help_state
    if not state:
        return ""
    if state == "acknowledged" and snapshot.help_staff:
        return t("help.state.acknowledged_by", staff=snapshot.help_staff)
    desk = snapshot.service_desk or t("help.desk_default")
    return t(f"help.state.{state}", desk=desk)


class HelpScreen(KioskScreen):
    headline_id = "help.title"
    state_text = StringProperty("")
    close_text = StringProperty("")

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        self.state_text = help_state_text(snapshot, t)
        self.close_text = t("help.close")

    def speech(self) -> str:
        return f"{self.headline} {self.state_text}"
