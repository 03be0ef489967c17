"""All domains or a few, and the period: quick choices (this year, last year, the last 1/2/3 years,
everything the region keeps) or a custom period picked in a few taps, with the allowed range shown.

The custom period: tap the start or the end date, then its year and its month (a start date gets
the month's first day, an end date its last); a day earlier or later is one tap more. Picking the
start's month moves on to the end date. The dates go to the journey shortly after the last tap;
while the journey refuses them (its message is in the banner) Next is greyed out, so refused dates
are never used silently.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.periods import PRESETS, Bounds, Period
from kiosk.steps import Snapshot

from .base import KioskScreen, Translator
from .dates import month_open, step_date, with_month, with_year, year_choices
from .widgets import KioskButton

SETTLE_S = 0.6  # wait for the last of a run of taps


class CustomPeriod(BoxLayout):
    """The custom period's picker; shown under the quick choices after "custom period" is tapped.

    Its state is input in progress: the two dates, and which of them is being changed."""

    hint = StringProperty("")
    start_text = StringProperty("")
    end_text = StringProperty("")
    editing = StringProperty("start")  # "start" or "end"
    day_text = StringProperty("")
    before_text = StringProperty("")
    after_text = StringProperty("")
    can_before = BooleanProperty(True)
    can_after = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start = self.end = dt.date(2000, 1, 1)
        self.low, self.high, self.longest = dt.date(1900, 1, 1), dt.date.today(), 5
        self.labels = {
            "start": "",
            "end": "",
            "year": "{value}",
            "month": "{value}",
            "day": "{value}",
        }
        self.on_change: Any = lambda: None  # the screen's: send the dates after a pause
        self._years: list[int] = []

    # --- what the screen hands in ----------------------------------------------------------------
    def set_dates(self, start: dt.date, end: dt.date) -> None:
        self.start, self.end = start, end
        self.refresh()

    def set_bounds(self, bounds: Bounds) -> None:
        self.low = bounds.floor or dt.date(bounds.today.year - 20, 1, 1)
        self.high, self.longest = bounds.today, bounds.max_years
        years = year_choices(self.low, self.high, self.longest)
        if years != self._years:  # the buttons are data (the allowed years): made here
            self._years = years
            grid = self.ids.years
            grid.clear_widgets()
            for year in years:
                grid.add_widget(KioskButton(value=str(year), on_release=self._tap_year))
            months = self.ids.months
            if not months.children:
                for month in range(1, 13):
                    months.add_widget(KioskButton(value=str(month), on_release=self._tap_month))
        self.refresh()

    # --- taps ------------------------------------------------------------------------------------
    def edit(self, which: str) -> None:
        self.editing = which
        self.refresh()

    def _tap_year(self, button: KioskButton) -> None:
        self._put(with_year(self._edited, int(button.value), self.low, self.high))

    def _tap_month(self, button: KioskButton) -> None:
        end = self.editing == "end"
        self._put(with_month(self._edited, int(button.value), end, self.low, self.high))
        if not end:
            self.editing = "end"  # the start is set: the end date is next
            self.refresh()

    def shift_day(self, delta: int) -> None:
        self._put(min(max(step_date(self._edited, "day", delta), self.low), self.high))

    @property
    def _edited(self) -> dt.date:
        return self.start if self.editing == "start" else self.end

    def _put(self, day: dt.date) -> None:
        if self.editing == "start":
            self.start = day
        else:
            self.end = day
        self.refresh()
        self.on_change()

    # --- what it shows ---------------------------------------------------------------------------
    def refresh(self) -> None:
        label = self.labels
        self.start_text = f"{label['start']}\n{self.start.isoformat()}"
        self.end_text = f"{label['end']}\n{self.end.isoformat()}"
        day = self._edited
        self.day_text = label["day"].replace("{value}", f"{day.day:02d}")
        self.can_before, self.can_after = day > self.low, day < self.high
        for button in self.ids.years.children:
            year = int(button.value)
            button.text = label["year"].replace("{value}", str(year))
            button.role = "selected" if year == day.year else "secondary"
        for button in self.ids.months.children:
            month = int(button.value)
            button.text = label["month"].replace("{value}", str(month))
            button.role = "selected" if month == day.month else "secondary"
            button.blocked = not month_open(day.year, month, self.low, self.high)

    @property
    def dates(self) -> tuple[dt.date, dt.date]:
        return self.start, self.end


class ScopeScreen(KioskScreen):
    headline_id = "scope.title"
    domains_label = StringProperty("")
    all_text = StringProperty("")
    some_text = StringProperty("")
    all_selected = BooleanProperty(True)
    period_label = StringProperty("")
    preset = StringProperty("")  # one of PRESETS, or "custom"
    presets = ListProperty([*PRESETS, "custom"])
    preset_texts = ListProperty([""] * (len(PRESETS) + 1))
    range_text = StringProperty("")
    allowed_text = StringProperty("")  # the floor, today and the longest period
    next_text = StringProperty("")
    custom_open = BooleanProperty(False)
    period_refused = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.custom = CustomPeriod()
        self.custom.on_change = self._changed
        self._period: Period | None = None
        self._send = Clock.create_trigger(self._send_custom, SETTLE_S)

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
        # this year and last year say which year they are: "Last year (2025)"
        year = snapshot.period_bounds.today.year if snapshot.period_bounds else 0
        self.preset_texts = [
            t(f"period.{p}", year=year - 1 if p == "last_year" else year) for p in self.presets
        ]
        period = snapshot.period
        self.range_text = (
            t("period.range", start=period.start.isoformat(), end=period.end.isoformat())
            if period
            else ""
        )
        self.allowed_text = allowed(snapshot.period_bounds, t)
        custom = self.custom
        custom.hint = t("period.pick")
        custom.before_text, custom.after_text = t("period.day_before"), t("period.day_after")
        custom.labels = {
            "start": t("period.start"),
            "end": t("period.end"),
            **{part: t(f"period.{part}_value") for part in ("year", "month", "day")},
        }
        if snapshot.period_bounds is not None:
            custom.set_bounds(snapshot.period_bounds)
        if period is not None and period != self._period:
            self._period = period
            custom.set_dates(period.start, period.end)  # the user's own dates survive an error
        custom.refresh()
        if arriving:
            self.custom_open = snapshot.period_preset is None
        self.preset = "custom" if self.custom_open else (snapshot.period_preset or "custom")
        self.period_refused = self.custom_open and snapshot.message_id.startswith("period.")
        self.next_text = t("button.next")

    def pick_preset(self, preset: str) -> None:
        if preset == "custom":
            self.open_custom()
            return
        self._send.cancel()
        self.custom_open = False
        self.preset = preset
        self.intent("choose_period_preset", preset)

    def open_custom(self) -> None:
        self.custom_open = True
        self.preset = "custom"
        self.custom.edit("start")

    def on_custom_open(self, *_: object) -> None:
        body = self.ids.body
        if self.custom_open and self.custom.parent is None:
            body.add_widget(self.custom)
            # the picker opens below the fold on a small screen: bring it into view
            Clock.schedule_once(lambda _dt: self.ids.area.show_widget(self.custom), 0)
        elif not self.custom_open and self.custom.parent is not None:
            body.remove_widget(self.custom)

    def _changed(self) -> None:
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


def allowed(bounds: Bounds | None, t: Translator) -> str:
    """What a period may be, in words: from the region's floor to today, at most N years."""
    if bounds is None:
        return ""
    years = bounds.max_years
    if bounds.floor is not None and bounds.from_floor:  # no length limit to speak of
        return t(
            "period.allowed_from_floor",
            floor=bounds.floor.isoformat(),
            today=bounds.today.isoformat(),
        )
    if bounds.floor is None:
        return t("period.allowed_open", today=bounds.today.isoformat(), years=years, count=years)
    return t(
        "period.allowed",
        floor=bounds.floor.isoformat(),
        today=bounds.today.isoformat(),
        years=years,
        count=years,
    )
