"""Offline: the enterprise typed as its unified social credit code on an on-screen keypad."""

from __future__ import annotations

from kivy.properties import StringProperty

from identifiers import USCC_CHARSET, USCC_LENGTH
from kiosk.steps import Snapshot

from .base import KioskScreen, Translator
from .widgets import KioskButton


def typed_code(text: str, key: str, limit: int = USCC_LENGTH) -> str:
    """`text` after one key of the code keypad."""
    if key == "delete":
        return text[:-1]
    if key == "clear":
        return ""
    if len(key) == 1 and key in USCC_CHARSET and len(text) < limit:
        return text + key
    return text


def spaced(code: str) -> str:
    """91620100MA… read in the licence's groups: 2 + 6 + 9 + 1."""
    parts = (code[:2], code[2:8], code[8:17], code[17:])
    return " ".join(p for p in parts if p)


class UsccScreen(KioskScreen):
    headline_id = "uscc.title"
    hint = StringProperty("")
    shown = StringProperty("")
    next_text = StringProperty("")
    delete_text = StringProperty("")
    clear_text = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._code = ""

    def on_kv_post(self, base_widget: object) -> None:
        # the keys are data (the code's alphabet), not words: built here, bound in uscc.kv
        grid = self.ids.code_keys
        for char in USCC_CHARSET:
            grid.add_widget(
                KioskButton(text=char, value=char, role="key", on_release=self._tap_key)
            )

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        self.hint = t("uscc.hint")
        self.next_text = t("button.next")
        self.delete_text = t("keypad.delete")
        self.clear_text = t("keypad.clear")
        if snapshot.enterprise is not None and not self._code:
            self._code = snapshot.enterprise.uscc  # back from the scope screen: keep what was typed
            self.shown = spaced(self._code)

    def _tap_key(self, button: KioskButton) -> None:
        self.key(button.value)

    def key(self, key: str) -> None:
        self._code = typed_code(self._code, key)
        self.shown = spaced(self._code)

    def done(self) -> None:
        self.intent("enter_uscc", self._code)

    def clear(self) -> None:
        self._code = self.shown = ""
