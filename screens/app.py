"""The Kivy application: one Screen per journey step, rendered from the journey's Snapshots.

Threads: the runner's loop thread publishes Snapshots; `_on_snapshot` only re-posts them to the Kivy
thread with Clock.schedule_once. Taps go back through `runner.submit`, which never blocks the UI.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import ColorProperty
from kivy.uix.floatlayout import FloatLayout

from kiosk.i18n import Translator
from kiosk.journey import Journey
from kiosk.steps import Snapshot, Step

from .base import KioskScreen
from .steps import KV_FILES, screen_class
from .theme import FONT_CANDIDATES, Theme, register_cjk_font
from .voice import Voice

log = logging.getLogger(__name__)

KV_DIR = Path(__file__).resolve().parent

# the journey's intents a screen may call (anything else is a programming error)
INTENTS = frozenset(
    {
        "choose_enterprise",
        "choose_all_domains",
        "open_domain_picker",
        "toggle_domain",
        "finish_domains",
        "choose_period_preset",
        "choose_custom_period",
        "scope_done",
        "confirm",
        "enter_uscc",
        "reprint_pickup",
        "print_report",
        "start_verify",
        "start_objection",
        "submit_objection",
        "back_to_summary",
        "call_help",
        "close_help",
        "open_staff",
        "enter_staff_pin",
        "back",
        "cancel",
        "toggle_language",
        "toggle_elderly",
        "activity",
    }
)
# the screen shows the message itself, so the banner stays empty
_MESSAGE_ON_SCREEN = frozenset({Step.ERROR, Step.OUT_OF_SERVICE, Step.PRINT_FAILED})
# steps with a Back that goes somewhere other than the start (journey.back's own table)
_BACK = frozenset(
    {Step.CHOOSE_DOMAINS, Step.CONFIRM, Step.SUMMARY, Step.VERIFY_RESULT, Step.OBJECTION}
)
_NO_HOME = frozenset(
    {Step.ATTRACT, Step.PRINTING, Step.DONE, Step.OUT_OF_SERVICE, Step.QUEUING, Step.QUEUED}
)
# a session has ended: every screen forgets what it showed
_WIPED = frozenset({Step.ATTRACT, Step.ERROR, Step.OUT_OF_SERVICE})


class Runner(Protocol):
    journey: Journey

    def submit(self, intent: Any) -> Any: ...


class KioskRoot(FloatLayout):
    """Any touch anywhere restarts the idle clock before the touch goes on to its widget."""

    # The window's clear colour is the background: a full-screen rectangle would cost software
    # GL (llvmpipe) a textured fill of every pixel on every frame, about 8 ms at 1080p.
    background = ColorProperty((0, 0, 0, 1))

    def on_background(self, _root: Any, rgba: Any) -> None:
        Window.clearcolor = rgba

    def on_touch_down(self, touch: Any) -> bool:
        app = App.get_running_app()
        if isinstance(app, KioskApp):
            app.intent("activity")
        return bool(super().on_touch_down(touch))


def load_kv() -> None:
    """Load the rules once per process (Kivy would apply a file loaded twice twice)."""
    for name in ("widgets", "root", *KV_FILES):
        path = str(KV_DIR / f"{name}.kv")
        if path not in Builder.files:
            Builder.load_file(path)


class KioskApp(App):
    def __init__(
        self,
        runner: Runner,
        *,
        voice: Voice | None = None,
        fonts: tuple[str, ...] = FONT_CANDIDATES,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.runner = runner
        self.voice = voice if voice is not None else Voice.find()
        self.fonts = fonts
        self.font_path: str | None = None
        self.theme = Theme()
        self.snapshot: Snapshot | None = None
        self._translators: dict[str, Translator] = {}
        self._spoken: tuple[object, ...] | None = None

    # --- set-up ------------------------------------------------------------------------------
    def build(self) -> KioskRoot:
        self.title = "credit-kiosk"
        self.font_path = register_cjk_font(self.fonts)
        load_kv()
        self.theme.fit(*Window.size)
        Window.bind(size=self._on_window_size)
        root = KioskRoot()
        manager = root.ids.manager
        for step in Step:
            manager.add_widget(screen_class(step)(name=step.value))
        self.root = root
        # subscribe on the loop thread; the first Snapshot arrives right away
        self.runner.submit(lambda journey: journey.subscribe(self._on_snapshot))
        return root

    def on_stop(self) -> None:
        Window.unbind(size=self._on_window_size)
        self.voice.stop()

    def _on_window_size(self, _window: Any, size: tuple[int, int]) -> None:
        self.theme.fit(*size)

    # --- core -> screens ---------------------------------------------------------------------
    def _on_snapshot(self, snapshot: Snapshot) -> None:
        """Runs on the loop thread: hand the Snapshot to the Kivy thread, nothing else."""
        Clock.schedule_once(lambda _dt: self.render(snapshot))

    def translator(self, language: str) -> Translator:
        if language not in self._translators:
            self._translators[language] = Translator(language)
        return self._translators[language]

    def render(self, snapshot: Snapshot) -> None:
        """Show `snapshot` (Kivy thread only)."""
        if self.root is None:
            return
        self.snapshot = snapshot
        t = self.translator(snapshot.language)
        self.theme.elderly = snapshot.elderly
        ids = self.root.ids
        manager = ids.manager
        screen: KioskScreen = manager.get_screen(snapshot.step.value)
        if snapshot.step in _WIPED:
            for other in manager.screens:
                if other is not screen:
                    other.clear()
        ids.header.show(snapshot, t)
        message = self.message(snapshot, t)
        ids.banner.show("" if snapshot.step in _MESSAGE_ON_SCREEN else message)
        self._show_footer(snapshot, t)
        ids.countdown.show(snapshot.countdown, t)
        screen.show(snapshot, t)
        manager.current = screen.name
        self._speak(snapshot, screen, message)

    @staticmethod
    def message(snapshot: Snapshot, t: Translator) -> str:
        if not snapshot.message_id:
            return ""
        args = {"floor": snapshot.floor or "", **snapshot.message_args}
        return t(snapshot.message_id, **args)

    def _show_footer(self, snapshot: Snapshot, t: Translator) -> None:
        footer = self.root.ids.footer
        step = snapshot.step
        several = len(snapshot.enterprises) > 1
        footer.show_back = snapshot.can_go_back and (
            step in _BACK or (step is Step.CHOOSE_SCOPE and (several or snapshot.offline))
        )
        footer.show_home = step not in _NO_HOME
        footer.back_text = t("button.back")
        busy = step in (Step.AUTHENTICATING, Step.FETCHING)
        footer.home_text = t("button.cancel" if busy else "button.home")

    def _speak(self, snapshot: Snapshot, screen: KioskScreen, message: str) -> None:
        if not snapshot.elderly:
            if self._spoken is not None:
                self.voice.stop()
            self._spoken = None
            return
        key = (snapshot.step, snapshot.language, snapshot.message_id, snapshot.print_phase)
        if key == self._spoken:
            return
        self._spoken = key
        words = " ".join(part for part in (message, screen.speech()) if part)
        self.voice.say(words, snapshot.language)

    # --- screens -> core ---------------------------------------------------------------------
    def intent(self, name: str, *args: Any) -> None:
        """Ask the journey to do `name(*args)` on its loop; returns at once."""
        if name not in INTENTS:
            raise ValueError(f"{name!r} is not an intent a screen may call")
        future = self.runner.submit(lambda journey: getattr(journey, name)(*args))
        if isinstance(future, Future):
            future.add_done_callback(_log_failure)


def _log_failure(future: Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("intent failed: %s", type(future.exception()).__name__)
