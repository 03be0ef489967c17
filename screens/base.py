"""What every screen class has: a headline, `show(snapshot, t)`, and `clear()` for privacy."""

from __future__ import annotations

from typing import ClassVar

from kivy.app import App
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.i18n import Translator
from kiosk.steps import Snapshot

__all__ = ["KioskScreen", "Translator", "term"]


def term(t: Translator, message_id: str, fallback: str) -> str:
    """A catalog label for a code from the platform (a role, a record kind), or the code itself."""
    return t(message_id) if t.has(message_id) else fallback


class KioskScreen(Screen):
    """A thin view: `show` copies a Snapshot into properties that its .kv file binds to."""

    headline_id: ClassVar[str] = ""
    headline = StringProperty("")

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        self.headline = t(self.headline_id) if self.headline_id else ""

    def speech(self) -> str:
        """What elderly mode reads aloud on arrival."""
        return str(self.headline)

    def clear(self) -> None:
        """Forget everything of the last user; called whenever a session has ended."""

    def intent(self, name: str, *args: object) -> None:
        """Forward a tap to the journey (for taps that also change what this screen shows)."""
        App.get_running_app().intent(name, *args)
