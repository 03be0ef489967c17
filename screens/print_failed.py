"""Printing stopped (paper out, jam): what happened, print again, or call staff."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator
from .help import help_state_text
from .notice import next_step


class PrintFailedScreen(KioskScreen):
    headline_id = "print_failed.title"
    reason = StringProperty("")
    next_label = StringProperty("")
    next_text = StringProperty("")
    retry_text = StringProperty("")
    help_text = StringProperty("")
    call_text = StringProperty("")

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        message_id = snapshot.message_id or "error.print_failed"
        self.reason = t(message_id)
        self.call_text = help_state_text(snapshot, t)
        # once staff are called (or could not be), what the call says is the next step
        self.next_text = "" if self.call_text else next_step(t, message_id)
        self.next_label = t("next.title") if self.next_text else ""
        self.retry_text = t("print_failed.retry")
        self.help_text = t("attract.help")

    def speech(self) -> str:
        return f"{self.headline} {self.reason} {self.next_text} {self.call_text}"
