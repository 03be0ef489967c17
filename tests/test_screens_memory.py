"""Sessions one after another must not leave widgets or bindings behind (a kiosk runs for months;
Kivy leaks of this kind are a known field problem)."""

from __future__ import annotations

from . import kivy_env  # noqa: F401  # isort: skip  (sets up Kivy before it is imported)

import gc
import weakref
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


def widgets() -> list[Widget]:
    gc.collect()
    # type(), not isinstance(): a dead Kivy WeakProxy raises on __class__; it is no widget
    return [obj for obj in gc.get_objects() if issubclass(type(obj), Widget)]


def census(older: weakref.WeakSet[Widget]) -> Counter[str]:
    """Widgets and bindings, leaving out the widgets `older` holds: those of a test module run
    before this one in the same worker process, which may go at any time."""
    counts: Counter[str] = Counter(widgets=sum(1 for w in widgets() if w not in older))
    counts["bindings"] = sum(1 for o in gc.get_objects() if type(o).__name__ == "BoundCallback")
    return counts


class RepeatedSessionsTest(KioskTestCase):
    def test_thirty_sessions_leave_no_widgets_or_bindings_behind(self) -> None:
        older: weakref.WeakSet[Widget] = weakref.WeakSet(widgets())
        self.start_offline()
        snapshots = sample_snapshots()

        def session() -> None:
            for step in SESSION:
                self.app.render(snapshots[step])
                self.settle(2)

        for _ in range(3):  # every screen and pool built once
            session()
        before = census(older)
        for _ in range(30):
            session()
        after = census(older)
        self.assertEqual(after["widgets"], before["widgets"])
        self.assertLessEqual(after["bindings"] - before["bindings"], 10)
