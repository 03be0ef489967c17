"""The objection screen says how long the answer may take, and whether the region's scheme says
so (issue 18): the words come from the platform's catalog, built from the region's profile.

Wuhai's seed: “相关单位应在5个工作日内核实所提供信息的真实性、准确性，并按照规定予以说明”. Gansu's says
only “相关部门要建立申诉快速办理机制，对专用信用报告中有关信息的异议、更正、更新、修复等事项进行快速处理”:
its 5 working days are the platform's default, and the screen says so.
"""

from __future__ import annotations

from . import kivy_env  # noqa: F401  # isort: skip  (sets up Kivy before it is imported)

from kiosk.steps import Step

from .kiosk_fakes import RegionServices
from .kivy_env import KioskTestCase

CALENDAR_RULE = "工作日按国务院办公厅公布的节假日安排计算；下一年的安排尚未公布时按法定节假日推算，以官方公布为准。"


class ObjectionDeadlineTest(KioskTestCase):
    def open_objection(self, region: str) -> list[str]:
        self.start(RegionServices(region))
        self.card_to_confirm()
        self.tap(self.button("生成报告"))
        self.wait_for_step(Step.SUMMARY)
        self.tap(self.button("对此记录提出异议"))
        self.wait_for_step(Step.OBJECTION)
        return self.texts()

    def test_wuhai_shows_its_schemes_five_working_days(self) -> None:
        texts = self.open_objection("wuhai")
        self.assertIn(
            "答复期限：5个工作日（本地区实施方案：“相关单位应在5个工作日内核实所提供信息的真实性、"
            "准确性，并按照规定予以说明”）。\n" + CALENDAR_RULE,
            texts,
        )

    def test_gansu_labels_the_five_days_as_the_platforms_default(self) -> None:
        texts = self.open_objection("gansu")
        self.assertIn(
            "答复期限：5个工作日。本地区实施方案未规定天数，这是平台的默认期限。\n" + CALENDAR_RULE,
            texts,
        )
        self.assertFalse([t for t in texts if "本地区实施方案：“" in t])
