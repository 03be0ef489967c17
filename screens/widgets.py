"""The parts every screen shares: buttons, text, header, banner, footer, countdown, keypad, steppers.

Their look lives in widgets.kv; the Python side only holds state and forwards touches.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, TypeVar, cast

from kivy.animation import Animation
from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.layout import Layout
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.i18n import Translator
from kiosk.steps import Snapshot


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
        "text",
        options=[
            "text",
            "muted",
            "header_text",
            "overlay_text",
            "banner_text",
            "alert",
            "dialog_text",
        ],
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


class ScrollArea(BoxLayout):
    """A list that may be longer than its area, and says so unmistakably: big ▲ / ▼ buttons beside
    it and a bar between them showing which part is in view; none of it while the list fits.

    In a kv rule its one child is the list (it goes into the inner ScrollView); a finger can also
    drag the list. Which part is in view is the screen's own business, not the journey's.
    """

    controls_shown = BooleanProperty(False)
    can_up = BooleanProperty(False)
    can_down = BooleanProperty(False)
    view = ListProperty([0.0, 1.0])  # the shown part of the list, as shares from its top

    PAGE = 0.8  # a tap on ▲ / ▼ moves this much of the visible height: the last lines stay in view

    def __init__(self, **kwargs: Any) -> None:
        # whether the list overflows is decided a frame after its size last changed: by then Kivy
        # has laid it out at the view's width and wrapped its text again. Decided at once, a list
        # still sized for the width before the rail came or went made the rail flip for ever.
        self._fit_later = Clock.create_trigger(self._fit, 0)
        super().__init__(**kwargs)

    def on_kv_post(self, base_widget: Widget) -> None:
        self.ids.scroll.bind(scroll_y=self._update, size=self._fit_later)

    def add_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        if isinstance(widget, (KioskScroll, ScrollRail)):  # the rule's own parts
            super().add_widget(widget, *args, **kwargs)
            return
        # the list, from a screen's rule (Kivy applies the class rule, with the scroll view, first)
        scroll = next(w for w in self.children if isinstance(w, KioskScroll))
        scroll.add_widget(widget, *args, **kwargs)
        widget.bind(size=self._fit_later)
        self._fit_later()

    def _fit(self, *_: object) -> None:
        scroll = self.ids.scroll
        content = scroll.children[0] if scroll.children else None
        self.controls_shown = content is not None and content.height - scroll.height > 1
        self._update()

    def _update(self, *_: object) -> None:
        scroll = self.ids.scroll
        content = scroll.children[0] if scroll.children else None
        length = content.height if content is not None else 0.0
        overflow = length - scroll.height
        if not self.controls_shown or overflow <= 1:
            self.can_up = self.can_down = False
            self.view = [0.0, 1.0]
            return
        self.can_up = scroll.scroll_y < 0.999
        self.can_down = scroll.scroll_y > 0.001
        top = (1.0 - scroll.scroll_y) * overflow / length
        self.view = [top, min(1.0, top + scroll.height / length)]

    def page(self, direction: int) -> None:
        """One page down (1) or up (-1)."""
        scroll = self.ids.scroll
        content = scroll.children[0] if scroll.children else None
        if content is None or content.height <= scroll.height:
            return
        step = self.PAGE * scroll.height / (content.height - scroll.height)
        scroll.scroll_y = min(1.0, max(0.0, scroll.scroll_y - direction * step))

    def show_widget(self, widget: Widget) -> None:
        """Scroll so that `widget`, a part of the list, starts at the top of the view (its first
        line is what the person reads first, even when the part is longer than the view)."""
        scroll = self.ids.scroll
        content = scroll.children[0] if scroll.children else None
        if any(
            w._trigger_layout.is_triggered for w in widget.walk_reverse() if isinstance(w, Layout)
        ):
            # heights are still being worked out (as Kivy's own scroll_to does): next frame
            Clock.schedule_once(lambda _dt: self.show_widget(widget))
            return
        if content is None or content.height <= scroll.height:
            return
        _, top = content.to_widget(*widget.to_window(widget.x, widget.top))
        below = content.height - top  # from the list's top down to the part's top
        scroll.scroll_y = min(1.0, max(0.0, 1.0 - below / (content.height - scroll.height)))


class ScrollRail(BoxLayout):
    """The ▲ / ▼ buttons and the bar between them, beside a ScrollArea's list."""


class InfoRow(BoxLayout):
    """A label and its value side by side (confirm, verify result, staff status)."""

    label = StringProperty("")
    value = StringProperty("")
    shown = BooleanProperty(True)  # False: takes no room (a value the platform did not give)


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
    hall = StringProperty("")  # the hall's name under the title: where the person is
    person = StringProperty("")
    language_text = StringProperty("")
    elderly_text = StringProperty("")
    help_text = StringProperty("")
    show_controls = BooleanProperty(False)
    show_help = BooleanProperty(False)

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        # one title on every screen, from the first: the region's term for the report
        title = snapshot.report_title
        self.title = t("header.title", report=title) if title else t("app.title")
        self.hall = snapshot.hall_name
        self.person = t("header.person", name=snapshot.person) if snapshot.person else ""
        self.language_text = t("attract.language")
        self.elderly_text = t("attract.standard" if snapshot.elderly else "attract.elderly")
        self.help_text = t("attract.help")
        self.show_controls = snapshot.show_controls
        self.show_help = snapshot.show_help
        current, groups = snapshot.progress, snapshot.progress_groups
        self.ids.steps.shown = current is not None
        # a step this person skips (one enterprise: no choice) is not listed
        labels = [f"{i + 1}  {t(message_id)}" for i, message_id in enumerate(groups)]
        states = [
            "todo" if current is None or i > current else "current" if i == current else "done"
            for i in range(len(groups))
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
    """The last seconds before the session is wiped: a dialog over the dimmed page with the
    seconds left and a big Continue button; a touch anywhere also keeps the session."""

    active = BooleanProperty(False)
    title = StringProperty("")
    text = StringProperty("")
    seconds = StringProperty("")
    continue_text = StringProperty("")

    def show(self, countdown: int | None, t: Translator) -> None:
        self.active = countdown is not None
        self.seconds = "" if countdown is None else str(countdown)
        self.title = "" if countdown is None else t("countdown.title")
        self.text = "" if countdown is None else t("countdown", seconds=countdown)
        self.continue_text = "" if countdown is None else t("countdown.continue")

    def speech(self) -> str:
        return f"{self.title} {self.text}"

    def on_touch_down(self, touch: object) -> bool:
        # the root has already reported the activity; the dialog's button gets the touch, and
        # nothing underneath does
        if not self.active:
            return False
        super().on_touch_down(touch)
        return True

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
