"""Touches for a running KioskApp, from a script thread: the scripted walk-through and the benchmark.

Every look at a widget and every touch runs on the Kivy thread (posted with Clock.schedule_once); the
script thread only waits. Touches go through Kivy's input dispatch, as a finger's would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels
from kivy.tests.common import UnitTestTouch
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.steps import Snapshot, Step

from .app import KioskApp
from .widgets import KioskButton, StaffCorner

T = TypeVar("T")
PRESS_WAIT_S = 2.0  # a touch that has not pressed its button by then is tried again


class RobotError(RuntimeError):
    """What the script expected did not happen (the message says what the screen showed)."""


def visible_widgets(root: Widget) -> Iterator[Widget]:
    """Widgets a person can see (not inside something transparent or hidden)."""
    if root.opacity == 0 or getattr(root, "hidden", False):
        return
    yield root
    for child in root.children:
        yield from visible_widgets(child)


def scroll_into_view(widget: Widget) -> None:
    parent = widget.parent
    while parent is not None and parent is not Window:
        if isinstance(parent, ScrollView):
            parent.scroll_to(widget, padding=0, animate=False)
            return
        parent = parent.parent


class Robot:
    def __init__(self, app: KioskApp, *, timeout: float = 30.0) -> None:
        self.app = app
        self.timeout = timeout
        self.taps = 0
        self.touched_at = 0.0  # time.monotonic() of the last touch, as Kivy dispatched it

    # --- the Kivy thread -----------------------------------------------------------------------
    def on_kivy(self, fn: Callable[[], T], timeout: float = 30.0) -> T:
        """Run `fn` on the Kivy thread and return its result."""
        done = threading.Event()
        box: dict[str, Any] = {}

        def run(_dt: float) -> None:
            try:
                box["value"] = fn()
            except BaseException as exc:  # handed to the script thread
                box["error"] = exc
            done.set()

        Clock.schedule_once(run)
        if not done.wait(timeout):
            raise RobotError(f"the Kivy thread did not answer within {timeout:.0f} s")
        if "error" in box:
            raise box["error"]
        return box["value"]  # type: ignore[no-any-return]

    # --- looking -------------------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot | None:
        return self.app.snapshot

    def t(self, message_id: str, **args: Any) -> str:
        snapshot = self.snapshot
        language = snapshot.language if snapshot is not None else "zh_CN"
        return self.app.translator(language)(message_id, **args)

    def shown(self) -> tuple[Step | None, str]:
        def read() -> tuple[Step | None, str]:
            snapshot = self.app.snapshot
            return (None if snapshot is None else snapshot.step), self.app.root.ids.manager.current

        return self.on_kivy(read)

    def wait_step(self, step: Step, timeout: float | None = None) -> None:
        """Until the journey is at `step` and its screen is the one shown (transition included)."""

        def there() -> bool:
            now, screen = self.shown()
            return now is step and screen == step.value and self.settled()

        self.wait(there, timeout, lambda: f"expected {step.value}")

    def wait(
        self,
        condition: Callable[[], object],
        timeout: float | None = None,
        what: Callable[[], str] = lambda: "the condition",
    ) -> None:
        deadline = time.monotonic() + (timeout or self.timeout)
        while not condition():
            if time.monotonic() > deadline:
                snapshot = self.snapshot
                raise RobotError(
                    f"{what()}; the screen shows {self.shown()[1]} "
                    f"(message {snapshot.message_id if snapshot else ''!r})"
                )
            time.sleep(0.03)

    def texts(self) -> list[str]:
        return self.on_kivy(
            lambda: [
                w.text for w in visible_widgets(self.app.root) if isinstance(w, Label) and w.text
            ]
        )

    def banner(self) -> str:
        return str(self.on_kivy(lambda: self.app.root.ids.banner.text))

    # --- touching ------------------------------------------------------------------------------
    def tap(self, text: str) -> None:
        """Touch the one visible button that shows `text`, scrolling it into view first."""
        self._tap(lambda b: b.text == text, repr(text))

    def tap_value(self, value: str) -> None:
        """Touch the visible button standing for `value` (a keypad key, a domain code, a USCC)."""
        self._tap(lambda b: b.value == value, f"value {value!r}")

    def type_keys(self, digits: str) -> None:
        for digit in digits:

            def is_key(button: KioskButton, digit: str = digit) -> bool:
                return bool(button.role == "key" and button.text == digit)

            self._tap(is_key, f"key {digit}")

    def unlock_staff(self) -> None:
        """Five quick touches on the unmarked staff corner."""

        def corner() -> tuple[float, float]:
            found = [w for w in self.app.root.walk() if isinstance(w, StaffCorner)]
            visible = [w for w in found if w.get_root_window() is not None]
            x, y = visible[0].to_window(*visible[0].center)
            return float(x), float(y)

        x, y = self.on_kivy(corner)
        for _ in range(5):
            self.on_kivy(lambda: self._touch(x, y))
        self.taps += 1

    def settled(self) -> bool:
        """The journey's latest Snapshot is the one on screen, and laid out."""
        self.wait(
            lambda: self.app.runner.journey.snapshot is self.app.snapshot,
            what=lambda: "the screen did not catch up with the journey",
        )
        for _ in range(2):  # layouts and label textures update on the Clock rounds after a render
            self.on_kivy(lambda: None)
        return self.app.runner.journey.snapshot is self.app.snapshot

    def _tap(self, match: Callable[[KioskButton], bool], what: str) -> None:
        self.settled()

        def find() -> KioskButton:
            found = [
                w
                for w in visible_widgets(self.app.root)
                if isinstance(w, KioskButton) and match(w) and not w.blocked
            ]
            if len(found) != 1:
                raise RobotError(f"{len(found)} buttons match {what} on {self.shown_now()}")
            scroll_into_view(found[0])
            return found[0]

        button = self.on_kivy(find)
        pressed = threading.Event()
        uid = self.on_kivy(lambda: button.fbind("on_release", lambda *_: pressed.set()))
        try:
            for _ in range(3):
                self.on_kivy(lambda: None)  # one Clock round: the scroll is laid out
                self.on_kivy(lambda: self._touch(*button.to_window(*button.center)))
                # a ScrollView hands a short touch to its children 0.2 s later, not at once
                if pressed.wait(PRESS_WAIT_S):
                    self.taps += 1
                    return
        finally:
            self.on_kivy(lambda: button.unbind_uid("on_release", uid))
        raise RobotError(f"touching {what} on {self.shown_now()} never pressed it")

    def _touch(self, x: float, y: float) -> None:
        self.touched_at = time.monotonic()
        _touch(x, y)

    def shown_now(self) -> str:
        return str(self.app.root.ids.manager.current)

    # --- pictures ------------------------------------------------------------------------------
    def screenshot(self, path: Path) -> Path:
        """The next frame the window draws, saved as PNG."""
        done = threading.Event()

        def grab(window: Any) -> None:
            width, height = window.size
            data = glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)
            pixels = np.frombuffer(data, np.uint8).reshape(height, width, 3)
            cv2.imwrite(str(path), cv2.cvtColor(pixels[::-1], cv2.COLOR_RGB2BGR))
            Window.unbind(on_flip=grab)
            done.set()

        def arm() -> None:
            Window.bind(on_flip=grab)  # observers run before the buffers swap
            Window.canvas.ask_update()

        path.parent.mkdir(parents=True, exist_ok=True)
        self.on_kivy(arm)
        if not done.wait(30):
            raise RobotError("no frame was drawn within 30 s")
        return path


def _touch(x: float, y: float) -> None:
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()
