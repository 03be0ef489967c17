"""Screens whose words depend on the call's state, the region's period rule and the holiday
calendar: one instruction at a time, no limit no rule states, a provisional due date said so."""

from __future__ import annotations

from . import kivy_env  # noqa: F401  # isort: skip  (sets up Kivy before it is imported)

import dataclasses
import datetime as dt

from kiosk.periods import Bounds
from kiosk.steps import Step

from .kiosk_fakes import TODAY, FakeServices
from .kivy_env import KioskTestCase, sample_snapshots

CALLED = "已通知工作人员，请在原地稍候。"
TAP_HELP = "请在本机旁稍候；工作人员添纸后点“重新打印”，不必重新刷卡。"


class WordsTest(KioskTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.start(FakeServices())
        self.samples = sample_snapshots()

    def test_print_failed_gives_the_next_step_until_staff_are_called_then_the_calls_state(
        self,
    ) -> None:
        failed = self.samples[Step.PRINT_FAILED]
        self.show(failed)
        self.assertIn(TAP_HELP, self.texts())
        self.show(dataclasses.replace(failed, help_state="open"))
        texts = self.texts()
        self.assertIn(CALLED, texts)
        self.assertNotIn(TAP_HELP, texts)

    def test_a_period_from_the_floor_names_no_length_limit(self) -> None:
        scope = self.samples[Step.CHOOSE_SCOPE]
        self.show(scope)
        self.assertTrue([t for t in self.texts() if "一次最长5年" in t])
        floor = Bounds(dt.date(2021, 1, 1), 6, TODAY, from_floor=True)
        self.show(dataclasses.replace(scope, period_bounds=floor))
        texts = self.texts()
        self.assertIn(f"可查询2021-01-01至{TODAY.isoformat()}的记录", texts)
        self.assertFalse([t for t in texts if "一次最长" in t])

    def test_a_due_date_past_the_published_holidays_says_so(self) -> None:
        done = self.samples[Step.OBJECTION_DONE]
        self.show(done)
        self.assertFalse([t for t in self.texts() if "以国务院办公厅公布为准" in t])
        self.show(dataclasses.replace(done, objection_due_provisional=True))
        self.assertTrue([t for t in self.texts() if "以国务院办公厅公布为准" in t])
