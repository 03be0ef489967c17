"""Printing stopped (paper out, jam): what happened, print again, or call staff."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator
from .help import help_state_text


class PrintFailedScreen(KioskScreen):
    headline_id = "print_failed.title"
    reason = StringProperty("")
    retry_text = StringProperty("")
    help_text = StringProperty("")
    call_text = StringProperty("")

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        self.reason = t(snapshot.message_id or "error.print_failed")
        self.call_text = help_state_text(snapshot, t)
        self.retry_text = t("print_failed.retry")
        self.help_text = t("attract.help")

    def speech(self) -> str:
        return f"{self.headline} {self.reason} {self.call_text}"
