"""Sessions one after another must not leave widgets or bindings behind (a kiosk runs for months;
Kivy leaks of this kind are a known field problem)."""

from __future__ import annotations

from . import kivy_env  # noqa: F401  # isort: skip  (sets up Kivy before it is imported)

import gc
from collections import Counter

from kivy.uix.widget import Widget

from kiosk.steps import Step

from .kivy_env import KioskTestCase, sample_snapshots

SESSION = (
    Step.ATTRACT,
    Step.AUTHENTICATING,
    Step.CHOOSE_ENTERPRISE,
    Step.CHOOSE_SCOPE,
    Step.CHOOSE_DOMAINS,
    Step.CONFIRM,
    Step.FETCHING,
    Step.SUMMARY,
    Step.PRINTING,
    Step.DONE,
    Step.STAFF,
    Step.ATTRACT,
)


def census() -> Counter[str]:
    gc.collect()
    counts: Counter[str] = Counter()
    for obj in gc.get_objects():
        # type(), not isinstance(): a dead Kivy WeakProxy raises on __class__; it is no widget
        if issubclass(type(obj), Widget):
            counts["widgets"] += 1
        elif type(obj).__name__ == "BoundCallback":
            counts["bindings"] += 1
    return counts


class RepeatedSessionsTest(KioskTestCase):
    def test_thirty_sessions_leave_no_widgets_or_bindings_behind(self) -> None:
        self.start_offline()
        snapshots = sample_snapshots()

        def session() -> None:
            for step in SESSION:
                self.app.render(snapshots[step])
                self.settle(2)

        for _ in range(3):  # every screen and pool built once
            session()
        before = census()
        for _ in range(30):
            session()
        after = census()
        # no growth; fewer is no leak: widgets of a test module run before this one in the same
        # worker process may still be held at `before` and go during these sessions
        self.assertLessEqual(after["widgets"], before["widgets"])
        self.assertLessEqual(after["bindings"] - before["bindings"], 10)
