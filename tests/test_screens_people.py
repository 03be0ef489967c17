"""What a person notices on the real screens (issue 17), driven by touches through the Window with a
real Journey on a real JourneyRunner: a next step on an error screen, nothing about a card after a
QR login, one title and the hall's name on every screen, the countdown read aloud in elderly
mode, a card the platform cannot take answered with the login QR."""

from __future__ import annotations

from . import kivy_env  # noqa: F401  # isort: skip  (sets up Kivy before it is imported)

import tempfile
import time
from pathlib import Path

from kivy.uix.label import Label

from kiosk.errors import ApiError
from kiosk.steps import Step
from screens.voice import Voice

from .kiosk_fakes import CATALOG, FakeServices, report
from .kivy_env import Card, KioskTestCase, visible_widgets

HALL = "兰州新区政务服务中心"


class PeopleTest(KioskTestCase):
    def header_texts(self) -> list[str]:
        header = self.app.root.ids.header
        return [w.text for w in visible_widgets(header) if isinstance(w, Label) and w.text]

    def test_an_error_screen_names_the_next_step(self) -> None:
        self.start(FakeServices(login_answer=ApiError(404, "person_not_found", "")))
        self.cards.put(Card())
        self.wait_for_step(Step.ERROR)
        texts = self.texts()
        self.assertIn("未查到您担任法定代表人或经办人的企业。如有疑问请呼叫帮办。", texts)
        self.assertIn("下一步", texts)
        self.assertIn(
            "请携带身份证和企业营业执照（经办人另带授权委托书）到信用窗口，核实您的登记信息。",
            texts,
        )

    def test_a_card_the_platform_cannot_take_is_answered_with_the_login_qr(self) -> None:
        self.start(FakeServices(login_answer=ApiError(422, "invalid_id_number", "")))
        self.cards.put(Card(id_number="USA620180010100"))
        banner = self.app.root.ids.banner
        self.wait_for(lambda: "登录二维码" in banner.text)
        self.assertEqual(self.current, "attract")  # the camera reads a login QR right here
        self.assertNotIn("重新放置", banner.text)
        self.assertTrue(self.button("呼叫帮办"))

    def test_after_a_qr_login_nothing_says_to_take_a_card(self) -> None:
        self.start(FakeServices(report_answer=report(records=0)))
        self.camera.show("KQR1.a-login-code")
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.tap(self.button("下一步"))
        self.wait_for_step(Step.CONFIRM)
        self.tap(self.button("生成报告"))
        self.wait_for_step(Step.SUMMARY)
        self.tap(self.button("打印报告"))
        self.wait_for_step(Step.DONE)
        self.assertIn("请取走报告和凭条。", self.texts())
        self.assertFalse([t for t in self.texts() if "身份证" in t])

    def test_one_title_and_the_hall_on_every_screen(self) -> None:
        self.start(hall_name=HALL, report_title=CATALOG.report_title)
        title = "甘肃省专用信用报告自助打印"
        seen = [self.header_texts()]  # the attract screen, before anyone signed in
        self.cards.put(Card())
        self.wait_for_step(Step.CHOOSE_SCOPE)
        seen.append(self.header_texts())
        self.tap(self.button("下一步"))
        self.wait_for_step(Step.CONFIRM)
        seen.append(self.header_texts())
        for texts in seen:
            self.assertIn(title, texts)
            self.assertIn(HALL, texts)

    def test_the_countdown_is_read_aloud_in_elderly_mode(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="fake-espeak-"))
        spoken = folder / "spoken.txt"
        binary = folder / "espeak-ng"  # stands in for the real one: records what it was asked
        binary.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{spoken}"\n', encoding="utf-8")
        binary.chmod(0o755)
        self.start(voice=Voice(str(binary)))
        self.tap(self.button("长者模式"))
        self.cards.put(Card())
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.clock.now += 52
        overlay = self.app.root.ids.countdown
        self.wait_for(lambda: overlay.active)
        deadline = time.monotonic() + 5
        while not (spoken.exists() and "您还在办理吗？" in spoken.read_text(encoding="utf-8")):
            self.assertLess(time.monotonic() - deadline, 0, "the countdown was not read aloud")
            time.sleep(0.05)
        self.tap(self.button("继续办理"))
        self.wait_for(lambda: not overlay.active)
