"""The staff PIN: a keypad and dots, never the digits."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator
from .widgets import keyed

PIN_MAX = 12


class StaffPinScreen(KioskScreen):
    headline_id = "staff.pin_title"
    dots = StringProperty("")
    unlock_text = StringProperty("")
    delete_text = StringProperty("")
    clear_text = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._pin = ""

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        self.unlock_text = t("staff.unlock")
        self.delete_text = t("keypad.delete")
        self.clear_text = t("keypad.clear")

    def key(self, key: str) -> None:
        self._pin = keyed(self._pin, key, PIN_MAX)
        self.dots = "●" * len(self._pin)

    def unlock(self) -> None:
        pin, self._pin, self.dots = self._pin, "", ""  # a refused PIN is typed again from scratch
        self.intent("enter_staff_pin", pin)

    def clear(self) -> None:
        self._pin = self.dots = ""
