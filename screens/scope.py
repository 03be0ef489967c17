"""All domains or a few, and the period: three presets or a custom one set with steppers.

A custom period goes to the journey shortly after the last stepper tap; while the journey refuses
it (its message is in the banner) Next is greyed out, so the refused dates are never sent silently.
"""

from __future__ import annotations

import datetime as dt

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.periods import PRESETS, Period
from kiosk.steps import Snapshot

from .base import KioskScreen, Translator

SETTLE_S = 0.6  # wait for the last of a run of stepper taps


class CustomPeriod(BoxLayout):
    """Start and end steppers; shown under the presets after "custom period" is tapped."""

    def set_dates(self, start: dt.date, end: dt.date) -> None:
        self.ids.start.date = start
        self.ids.end.date = end

    @property
    def dates(self) -> tuple[dt.date, dt.date]:
        return self.ids.start.date, self.ids.end.date


class ScopeScreen(KioskScreen):
    headline_id = "scope.title"
    domains_label = StringProperty("")
    all_text = StringProperty("")
    some_text = StringProperty("")
    all_selected = BooleanProperty(True)
    period_label = StringProperty("")
    preset = StringProperty("")  # one of PRESETS, or "custom"
    preset_texts = ListProperty(["", "", "", ""])
    range_text = StringProperty("")
    next_text = StringProperty("")
    custom_open = BooleanProperty(False)
    period_refused = BooleanProperty(False)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.custom = CustomPeriod()
        self._period: Period | None = None
        self._send = Clock.create_trigger(self._send_custom, SETTLE_S)
        self.custom.ids.start.bind(date=self._stepped)
        self.custom.ids.end.bind(date=self._stepped)

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        arriving = self.manager is not None and self.manager.current != self.name
        self.domains_label = t("scope.domains")
        self.all_text = t("scope.all_domains", count=len(snapshot.domains))
        chosen = snapshot.selected_domains
        self.all_selected = chosen is None
        self.some_text = (
            t("scope.some_domains") if chosen is None else t("scope.selected", count=len(chosen))
        )
        self.period_label = t("scope.period")
        self.preset_texts = [t(f"period.{p}") for p in (*PRESETS, "custom")]
        period = snapshot.period
        self.range_text = (
            t("period.range", start=period.start.isoformat(), end=period.end.isoformat())
            if period
            else ""
        )
        if period is not None and period != self._period:
            self._period = period
            self.custom.set_dates(period.start, period.end)  # the user's own dates survive an error
        if arriving:
            self.custom_open = snapshot.period_preset is None
        self.preset = "custom" if self.custom_open else (snapshot.period_preset or "custom")
        self.period_refused = self.custom_open and snapshot.message_id.startswith("period.")
        self.next_text = t("button.next")
        parts = [t(f"period.{p}_value") for p in ("year", "month", "day")]
        for stepper, label in ((self.custom.ids.start, "start"), (self.custom.ids.end, "end")):
            stepper.label = t(f"period.{label}")
            stepper.parts = parts

    def pick_preset(self, preset: str) -> None:
        self._send.cancel()
        self.custom_open = False
        self.preset = preset
        self.intent("choose_period_preset", preset)

    def open_custom(self) -> None:
        self.custom_open = True
        self.preset = "custom"

    def on_custom_open(self, *_: object) -> None:
        body = self.ids.body
        if self.custom_open and self.custom.parent is None:
            body.add_widget(self.custom)
        elif not self.custom_open and self.custom.parent is not None:
            body.remove_widget(self.custom)

    def _stepped(self, *_: object) -> None:
        start, end = self.custom.dates
        if self.custom_open and Period(start, end) != self._period:
            self._send()

    def _send_custom(self, *_: object) -> None:
        start, end = self.custom.dates
        if self.custom_open and Period(start, end) != self._period:
            self.intent("choose_custom_period", start, end)

    def clear(self) -> None:
        self._send.cancel()
        self.custom_open = False
        self._period = None
        self.range_text = ""
