"""The parts every screen shares: buttons, text, header, banner, footer, countdown, keypad, steppers.

Their look lives in widgets.kv; the Python side only holds state and forwards touches.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from typing import Any, TypeVar, cast

from kivy.animation import Animation
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.i18n import Translator
from kiosk.steps import PROGRESS, Snapshot

from .dates import step_date


class KioskButton(ButtonBehavior, Label):
    """A flat button at least one touch target high; `role` picks its colours."""

    role = OptionProperty(
        "secondary", options=["primary", "secondary", "selected", "header", "key"]
    )
    size_name = OptionProperty("normal", options=["small", "normal", "large", "title"])
    wrap = BooleanProperty(True)  # False: one line, and the button is as wide as its text
    value = StringProperty("")  # what the tap stands for (a USCC, a domain code, a key)
    hidden = BooleanProperty(False)  # invisible and let touches through (a disabled one eats them)
    blocked = BooleanProperty(False)  # shown greyed out, does nothing

    def on_touch_down(self, touch: object) -> bool:
        if self.hidden:
            return False
        return bool(super().on_touch_down(touch))


class FitButton(KioskButton):
    """A button as wide as its text (header and footer)."""


class Text(Label):
    """Body text that wraps to its width and grows in height.

    Subclasses and instances change it through these properties only: a kv rule that binds a
    property the base rule also binds (font_size, text_size, color) fights it on every update.
    """

    size_name = OptionProperty("normal", options=["small", "normal", "large", "title"])
    scale = NumericProperty(1.0)
    tone = OptionProperty(
        "text", options=["text", "muted", "header_text", "overlay_text", "banner_text", "alert"]
    )
    wrap = BooleanProperty(True)


class Display(Label):
    """A boxed one-line read-out: the phone number being typed, the PIN dots; `hint` when empty."""

    value = StringProperty("")
    hint = StringProperty("")


class Title(Text):
    pass


W = TypeVar("W", bound=Widget)


class Pool:
    """Rows a screen shows again and again (enterprises, records, domains), made once and re-used.

    A kv rule's bindings to long-lived objects (app.theme) outlive the widget, so making new rows
    for every session grew the process by about 0.4 MB a session.
    """

    def __init__(self) -> None:
        self._free: dict[type[Widget], list[Widget]] = {}
        self._used: list[tuple[Widget, tuple[str, ...]]] = []

    def take(self, cls: type[W], **props: Any) -> W:
        free = self._free.setdefault(cls, [])
        widget = free.pop() if free else cls()
        for name, value in props.items():
            setattr(widget, name, value)
        self._used.append((widget, tuple(props)))
        return cast(W, widget)

    def release(self, container: Widget) -> None:
        """Take every row off `container` and forget what they showed."""
        container.clear_widgets()
        for widget, names in self._used:
            for name in names:
                if isinstance(getattr(widget, name), str):
                    setattr(widget, name, "")
            self._free.setdefault(type(widget), []).append(widget)
        self._used = []


class KioskScroll(ScrollView):
    """ScrollView without its binding leak: Kivy 2.3 binds `_change_bar_color` again at every
    scroll update and unbinds once 0.5 s later, so a screen laid out often piled up callbacks."""

    def update_from_scroll(self, *largs: Any) -> None:
        self.funbind("bar_color", self._change_bar_color)
        super().update_from_scroll(*largs)


class InfoRow(BoxLayout):
    """A label and its value side by side (confirm, verify result, staff status)."""

    label = StringProperty("")
    value = StringProperty("")


class BusyIndicator(Widget):
    """A turning arc: shows the UI thread is alive while the runner works."""

    angle = NumericProperty(0)

    def start(self) -> None:
        Animation.cancel_all(self)
        self.angle = 0
        animation = Animation(angle=360, duration=1.2)
        animation.repeat = True
        animation.start(self)

    def stop(self) -> None:
        Animation.cancel_all(self)


class StepLabel(Label):
    state = OptionProperty("todo", options=["todo", "current", "done"])


class Header(BoxLayout):
    title = StringProperty("")
    person = StringProperty("")
    language_text = StringProperty("")
    elderly_text = StringProperty("")
    help_text = StringProperty("")
    show_controls = BooleanProperty(False)
    show_help = BooleanProperty(False)

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        self.title = snapshot.report_title or t("app.title")
        self.person = t("header.person", name=snapshot.person) if snapshot.person else ""
        self.language_text = t("attract.language")
        self.elderly_text = t("attract.standard" if snapshot.elderly else "attract.elderly")
        self.help_text = t("attract.help")
        self.show_controls = snapshot.show_controls
        self.show_help = snapshot.show_help
        current = snapshot.progress
        self.ids.steps.shown = current is not None
        labels = [f"{i + 1}  {t(message_id)}" for i, message_id in enumerate(PROGRESS)]
        states = [
            "todo" if current is None or i > current else "current" if i == current else "done"
            for i in range(len(PROGRESS))
        ]
        self.ids.steps.set_steps(labels, states)


class StepIndicator(BoxLayout):
    """The header's row of steps; as tall as its tallest (possibly wrapped) label, or nothing."""

    shown = BooleanProperty(False)

    def set_steps(self, labels: Sequence[str], states: Sequence[str]) -> None:
        if [w.text for w in reversed(self.children)] != list(labels):
            self.clear_widgets()
            for text in labels:
                label = StepLabel(text=text)
                label.bind(texture_size=self._fit)
                self.add_widget(label)
        for widget, state in zip(reversed(self.children), states, strict=True):
            widget.state = state
        self._fit()

    def on_shown(self, *_: object) -> None:
        self._fit()

    def _fit(self, *_: object) -> None:
        tallest = max((c.texture_size[1] for c in self.children), default=0)
        self.height = tallest + 12 if self.shown else 0  # room for the current step's underline


class Banner(Label):
    """The message of the snapshot (an error or a notice); no height when there is none."""

    def show(self, text: str) -> None:
        self.text = text


class Footer(BoxLayout):
    back_text = StringProperty("")
    home_text = StringProperty("")
    show_back = BooleanProperty(False)
    show_home = BooleanProperty(False)


class CountdownOverlay(FloatLayout):
    """Covers the screen in the last seconds before the session is wiped; a touch dismisses it."""

    active = BooleanProperty(False)
    text = StringProperty("")
    seconds = StringProperty("")

    def show(self, countdown: int | None, t: Translator) -> None:
        self.active = countdown is not None
        self.seconds = "" if countdown is None else str(countdown)
        self.text = "" if countdown is None else t("countdown", seconds=countdown)

    def on_touch_down(self, touch: object) -> bool:
        # the root has already reported the activity; swallow the touch so nothing underneath fires
        return bool(self.active)

    def on_touch_move(self, touch: object) -> bool:
        return bool(self.active)

    def on_touch_up(self, touch: object) -> bool:
        return bool(self.active)


class StaffCorner(Widget):
    """The hidden staff entry: five taps within a few seconds on an unmarked corner."""

    taps_needed = NumericProperty(5)
    window_s = NumericProperty(4.0)
    _taps: list[float]

    __events__ = ("on_unlock",)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._taps = []

    def on_touch_down(self, touch: Any) -> bool:
        if self.disabled or not self.collide_point(*touch.pos):
            return False
        now = time.monotonic()
        self._taps = [t for t in self._taps if now - t < self.window_s] + [now]
        if len(self._taps) >= self.taps_needed:
            self._taps = []
            self.dispatch("on_unlock")
        return True

    def on_unlock(self) -> None:
        pass


class Keypad(GridLayout):
    """Digits, delete and clear; `on_key` gets "0".."9", "delete" or "clear"."""

    delete_text = StringProperty("")
    clear_text = StringProperty("")

    __events__ = ("on_key",)

    def on_key(self, key: str) -> None:
        pass


def keyed(text: str, key: str, limit: int) -> str:
    """`text` after one keypad key, at most `limit` characters long."""
    if key == "delete":
        return text[:-1]
    if key == "clear":
        return ""
    if key in "0123456789" and len(key) == 1 and len(text) < limit:
        return text + key
    return text


class DateStepper(BoxLayout):
    """One date with - / + buttons for its year, month and day."""

    label = StringProperty("")
    date = ObjectProperty(dt.date(2000, 1, 1))
    parts = ListProperty(["{value}", "{value}", "{value}"])  # "{value}年" etc. in the language
    year_text = StringProperty("")
    month_text = StringProperty("")
    day_text = StringProperty("")

    def step(self, part: str, delta: int) -> None:
        self.date = step_date(self.date, part, delta)

    def on_date(self, *_: object) -> None:
        self._refresh()

    def on_parts(self, *_: object) -> None:
        self._refresh()

    def _refresh(self) -> None:
        values = (f"{self.date.year:04d}", f"{self.date.month:02d}", f"{self.date.day:02d}")
        self.year_text, self.month_text, self.day_text = (
            template.replace("{value}", value)
            for template, value in zip(self.parts, values, strict=True)
        )
