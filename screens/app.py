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
from kiosk.journey import INTENTS, Journey
from kiosk.steps import Snapshot, Step

from .base import KioskScreen
from .steps import KV_FILES, screen_class
from .theme import FONT_CANDIDATES, Theme, register_cjk_font
from .voice import Voice

log = logging.getLogger(__name__)

KV_DIR = Path(__file__).resolve().parent


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
        if snapshot.session_ended:
            for other in manager.screens:
                if other is not screen:
                    other.clear()
        ids.header.show(snapshot, t)
        message = self.message(snapshot, t)
        ids.banner.show("" if snapshot.message_on_screen else message)
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
        footer.show_back = snapshot.show_back
        footer.show_home = snapshot.show_home
        footer.back_text = t("button.back")
        footer.home_text = t(snapshot.home_label) if snapshot.show_home else ""

    def _speak(self, snapshot: Snapshot, screen: KioskScreen, message: str) -> None:
        if not snapshot.elderly:
            if self._spoken is not None:
                self.voice.stop()
            self._spoken = None
            return
        counting = snapshot.countdown is not None
        key = (snapshot.step, snapshot.language, snapshot.message_id, snapshot.print_phase)
        if (key, counting) == self._spoken:
            return
        dismissed = self._spoken == (key, True) and not counting
        self._spoken = (key, counting)
        if counting:  # the countdown is read out when it appears, not every second
            self.voice.say(self.root.ids.countdown.speech(), snapshot.language)
        elif dismissed:  # the person is back: no need to read the screen again
            self.voice.stop()
        else:
            words = " ".join(part for part in (message, screen.speech()) if part)
            self.voice.say(words, snapshot.language)

    # --- screens -> core ---------------------------------------------------------------------
    def intent(self, name: str, *args: Any) -> None:
        """Ask the journey to do `name(*args)` on its loop; returns at once. Only the journey's
        `@intent` methods may be asked for (kiosk.intents)."""
        if name not in INTENTS:
            raise ValueError(f"{name!r} is not an intent a screen may call")
        future = self.runner.submit(lambda journey: getattr(journey, name)(*args))
        if isinstance(future, Future):
            future.add_done_callback(_log_failure)


def _log_failure(future: Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("intent failed: %s", type(future.exception()).__name__)
