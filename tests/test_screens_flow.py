"""The screens driven by touches through the Window, with a real Journey on a real JourneyRunner."""

from __future__ import annotations

from . import kivy_env  # noqa: F401  # isort: skip  (sets up Kivy before it is imported)

import asyncio
import tempfile
import time
from pathlib import Path

from kivy.uix.label import Label

from kiosk.errors import PlatformUnavailable
from kiosk.ports import PrintFailure
from kiosk.steps import Step
from screens.voice import Voice
from screens.widgets import KioskButton

from .kiosk_fakes import ACME, BETA, FakeServices, login, report
from .kivy_env import Card, KioskTestCase, Window, visible_widgets


class DefaultPathTest(KioskTestCase):
    def test_card_to_printed_report_in_three_taps(self) -> None:
        services = self.start()
        self.assertEqual(self.current, "attract")
        self.cards.put(Card())  # the card on the reader: not a tap
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.assertIn("全部领域（5个）", self.texts())  # all domains, last three years, preselected
        self.assertIn("2023-11-22 至 2026-11-22", self.texts())
        self.tap(self.button("下一步"))
        self.wait_for_step(Step.CONFIRM)
        self.assertIn(ACME.name, self.texts())
        self.tap(self.button("生成报告"))
        self.wait_for_step(Step.SUMMARY)
        self.assertIn("所选2个领域均无违法违规记录", self.texts())
        self.tap(self.button("打印报告"))
        self.wait_for_step(Step.DONE)
        self.assertIn("请取走报告和凭条，并带好您的身份证。", self.texts())
        self.assertLessEqual(self.taps, 5)
        self.assertEqual(self.taps, 3)
        self.assertEqual(services.fetches[0][:2], (ACME.uscc, None))
        self.assertEqual(services.prints, ["a4"])
        # the header followed along; with one enterprise there was no choice: no such step listed
        steps = self.app.root.ids.header.ids.steps.children[::-1]
        self.assertEqual(
            [s.text for s in steps], ["1  身份认证", "2  选择范围", "3  报告概要", "4  打印"]
        )
        self.assertEqual([s.state for s in steps], ["done"] * 3 + ["current"])
        self.tap(self.button("完成"))
        self.wait_for_step(Step.ATTRACT)

    def test_several_enterprises_are_listed_with_their_roles(self) -> None:
        services = self.start(FakeServices(login_answer=login(ACME, BETA)))
        self.cards.put(Card())
        self.wait_for_step(Step.CHOOSE_ENTERPRISE)
        labels = self.texts()
        self.assertIn(f"{ACME.name}\n法定代表人", labels)
        self.assertIn(f"{BETA.name}\n经办人", labels)
        self.tap(self.button(f"{BETA.name}\n经办人"))
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.tap(self.button("返回"))  # several enterprises: Back goes to the list
        self.wait_for_step(Step.CHOOSE_ENTERPRISE)
        self.tap(self.button(f"{BETA.name}\n经办人"))
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.tap(self.button("下一步"))
        self.wait_for_step(Step.CONFIRM)
        self.tap(self.button("生成报告"))
        self.wait_for_step(Step.SUMMARY)
        self.assertEqual(services.fetches[0][0], BETA.uscc)

    def domain_buttons(self) -> list[str]:
        return sorted(
            w.text
            for w in visible_widgets(self.app.root)
            if isinstance(w, KioskButton) and "领域" in w.text
        )

    def test_domain_picker_sends_only_the_chosen_domains(self) -> None:
        services = self.start()
        self.cards.put(Card())
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.tap(self.button("选择部分领域"))
        self.wait_for_step(Step.CHOOSE_DOMAINS)
        self.assertEqual(self.domain_buttons(), [f"领域{i}" for i in range(1, 6)])
        # nothing chosen: Done is greyed out, the screen says why, and a tap does nothing
        self.assertIn("还没有选择领域，请至少选择一个", self.texts())
        self.assertTrue(self.button("选好了").blocked)
        self.tap(self.button("选好了"))
        self.settle(3)
        self.assertEqual(self.current, "choose_domains")
        # every domain in one tap, and none in one tap
        self.tap(self.button("全选"))
        self.wait_for(lambda: self.domain_buttons() == [f"✓ 领域{i}" for i in range(1, 6)])
        self.assertIn("已选5个领域", self.texts())
        self.assertFalse(self.button("选好了").blocked)
        self.tap(self.button("全不选"))
        self.wait_for(lambda: self.domain_buttons() == [f"领域{i}" for i in range(1, 6)])
        self.assertTrue(self.button("选好了").blocked)
        for name in ("领域2", "领域4"):
            self.tap(self.button(name))
        self.wait_for(
            lambda: self.domain_buttons() == ["✓ 领域2", "✓ 领域4", "领域1", "领域3", "领域5"]
        )
        self.assertEqual(self.button("✓ 领域2").role, "selected")
        self.assertEqual(self.button("领域1").role, "secondary")
        self.assertIn("已选2个领域", self.texts())
        self.tap(self.button("选好了"))
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.assertIn("已选2个领域", self.texts())
        self.tap(self.button("下一步"))
        self.wait_for_step(Step.CONFIRM)
        self.assertIn("已选2个领域\n领域2、领域4", self.texts())
        self.tap(self.button("生成报告"))
        self.wait_for_step(Step.SUMMARY)
        self.assertEqual(services.fetches[0][1], ["D02", "D04"])

    def test_custom_period_in_a_few_taps_with_its_range_and_error(self) -> None:
        services = self.start()
        self.cards.put(Card())
        self.wait_for_step(Step.CHOOSE_SCOPE)
        # the allowed range is on screen: the region's floor, today, the longest period
        self.assertIn("可查询2021-01-01至2026-11-22的记录；\n一次最长5年", self.texts())
        self.tap(self.button("去年"))  # a quick choice: last calendar year
        self.wait_for(lambda: "2025-01-01 至 2025-12-31" in self.texts())
        self.tap(self.button("自定义期间"))
        self.settle(3)
        # years before the floor are not offered at all
        self.assertEqual(
            sorted(w.text for w in visible_widgets(self.app.root) if isinstance(w, KioskButton)
                   and w.text.endswith("年") and w.text[:4].isdigit()),
            [f"{y}年" for y in range(2021, 2027)],
        )  # fmt: skip
        taps = self.taps
        for label in ("2021年", "1月", "2026年", "11月"):  # start, then (by itself) the end
            self.tap(self.button(label))
        self.assertEqual(self.taps - taps, 4)
        banner = self.app.root.ids.banner
        # 2021-01-01 to 2026-11-22 is longer than five years: refused, and Next is greyed out
        self.wait_for(lambda: banner.text == "查询期间最长5年，请缩短查询期间。")
        self.assertIn("开始日期\n2021-01-01", self.texts())  # the user's dates stay
        self.assertIn("结束日期\n2026-11-22", self.texts())  # the end month's last day: today
        self.tap(self.button("下一步"))
        self.settle(3)
        self.assertEqual(self.current, "choose_scope")
        self.tap(self.button("开始日期\n2021-01-01"))
        self.tap(self.button("2022年"))
        self.wait_for(lambda: "2022-01-01 至 2026-11-22" in self.texts())
        self.assertEqual(banner.text, "")
        self.tap(self.button("后一天"))  # one day later, in one tap
        self.wait_for(lambda: "2022-01-02 至 2026-11-22" in self.texts())
        self.tap(self.button("下一步"))
        self.wait_for_step(Step.CONFIRM)
        self.tap(self.button("生成报告"))
        self.wait_for_step(Step.SUMMARY)
        self.assertEqual(services.fetches[0][2].start.isoformat(), "2022-01-02")
        self.assertEqual(services.fetches[0][2].end.isoformat(), "2026-11-22")


class MessagesAndIdleTest(KioskTestCase):
    def test_platform_error_shows_a_banner_on_the_same_screen(self) -> None:
        self.start(FakeServices(report_answer=PlatformUnavailable("timeout")))
        self.cards.put(Card())
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.tap(self.button("下一步"))
        self.wait_for_step(Step.CONFIRM)
        self.tap(self.button("生成报告"))
        banner = self.app.root.ids.banner
        self.wait_for(lambda: banner.text == "暂时无法连接信用平台，请稍后再试或呼叫帮办。")
        self.assertEqual(self.current, "confirm")  # the user can try again from here
        self.assertGreater(banner.height, 0)
        self.assertEqual(banner.opacity, 1)

    def test_countdown_overlay_appears_and_a_touch_anywhere_keeps_the_session(self) -> None:
        self.start()
        self.cards.put(Card())
        self.wait_for_step(Step.CHOOSE_SCOPE)
        overlay = self.app.root.ids.countdown
        self.assertFalse(overlay.active)
        self.clock.now += 52  # idle for 52 of 60 s: the last 10 s are counted down on screen
        self.wait_for(lambda: overlay.active and overlay.seconds == "8")
        self.assertEqual(overlay.opacity, 1)
        # a dialog: the question, the seconds left, and a big button to carry on
        for text in ("您还在办理吗？", "8", "8秒后返回首页，触摸屏幕继续办理"):
            self.assertIn(text, self.texts())
        self.tap(self.button("继续办理"))
        self.wait_for(lambda: not overlay.active)
        self.assertEqual(self.current, "choose_scope")
        # the touch and the button each send an intent: both handled before the clock moves on
        # (on a busy machine the second could otherwise count as activity 52 s later)
        assert self.runner is not None
        self.runner.submit(lambda j: None).result(5)
        self.clock.now += 52
        self.wait_for(lambda: overlay.active and overlay.seconds == "8")
        # a touch on the Next button under the overlay: the session goes on, nothing is pressed
        self.tap(self.button("下一步"))
        self.wait_for(lambda: not overlay.active)
        self.assertEqual(self.current, "choose_scope")
        self.clock.now += 61  # then idle too long: the session is wiped
        self.wait_for_step(Step.ATTRACT)
        self.assertFalse(overlay.active)
        for screen in self.app.root.ids.manager.screens:  # nothing of the user stays anywhere
            shown = [w.text for w in screen.walk() if isinstance(w, Label)]
            self.assertFalse([t for t in shown if ACME.name in t or "张*" in t], screen.name)

    def test_ui_keeps_drawing_while_the_core_waits_and_cancel_works(self) -> None:
        release = asyncio.Event()
        self.start(FakeServices(hold=release.wait))
        self.cards.put(Card())
        self.wait_for_step(Step.AUTHENTICATING)  # the login is held on the loop thread
        frames = []
        for _ in range(3):
            started = time.perf_counter()
            self.draw()  # real frames with the spinner turning
            frames.append(time.perf_counter() - started)
        self.assertLess(max(frames), 2.0)  # a blocked UI thread would wait for the login forever
        self.assertIn("正在核验身份，请稍候……", self.texts())
        self.tap(self.button("取消"))
        self.wait_for_step(Step.ATTRACT)
        assert self.runner is not None
        self.runner.loop.call_soon_threadsafe(release.set)
        time.sleep(0.2)
        self.settle(3)
        self.assertEqual(self.current, "attract")  # the late login belongs to a wiped session


class ModesTest(KioskTestCase):
    def test_language_toggle_switches_visible_text_to_english(self) -> None:
        self.start()
        self.assertIn("请将身份证放在读卡区，或向摄像头出示政务App登录二维码", self.texts())
        self.tap(self.button("English"))
        self.wait_for(lambda: self.app.snapshot is not None and self.app.snapshot.language == "en")
        self.settle(2)
        texts = self.texts()
        self.assertIn(
            "Place your ID card on the reader, or show the login QR code from the government "
            "app to the camera",
            texts,
        )
        self.assertIn("Verify a report", texts)
        self.assertFalse([t for t in texts if "核验" in t or "身份证" in t])
        self.cards.put(Card())
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.assertIn("Choose the domains and the period", self.texts())
        self.tap(self.button("中文"))
        self.wait_for(lambda: "请选择查询领域和期间" in self.texts())

    def font_sizes(self) -> dict[str, float]:
        return {
            w.text: w.font_size
            for w in visible_widgets(self.app.root)
            if isinstance(w, Label) and w.text
        }

    def test_elderly_mode_enlarges_text_raises_contrast_and_speaks(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="fake-espeak-"))
        spoken = folder / "spoken.txt"
        binary = folder / "espeak-ng"  # stands in for the real one: records what it was asked
        binary.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{spoken}"\n', encoding="utf-8")
        binary.chmod(0o755)
        self.start(voice=Voice(str(binary)))
        standard = self.font_sizes()
        self.tap(self.button("长者模式"))
        self.wait_for(lambda: self.app.snapshot is not None and self.app.snapshot.elderly)
        self.settle(2)
        large = self.font_sizes()
        self.assertGreaterEqual(min(large.values()), 36)
        headline = "请将身份证放在读卡区，或向摄像头出示政务App登录二维码"
        self.assertGreater(large[headline], standard[headline])
        self.assertEqual(self.app.theme.palette.name, "high_contrast")
        deadline = time.monotonic() + 5
        while not (spoken.exists() and headline in spoken.read_text(encoding="utf-8")):
            self.assertLess(time.monotonic(), deadline, "no voice prompt")
            time.sleep(0.05)
        self.assertIn("-v\ncmn\n", spoken.read_text(encoding="utf-8"))
        self.assertIn("标准模式", large)  # the same button switches back
        self.tap(self.button("标准模式"))
        self.wait_for(lambda: self.app.theme.palette.name == "normal")
        self.assertGreaterEqual(min(self.font_sizes().values()), 24)


class SideDoorsTest(KioskTestCase):
    def test_staff_entry_by_corner_taps_then_pin(self) -> None:
        self.start()
        top = Window.height - self.app.root.ids.header.height - 20
        for _ in range(5):
            self.touch_at(20, top)  # the unmarked top-left corner of the attract screen
        self.wait_for_step(Step.STAFF_PIN)
        for digit in "1111":
            self.tap(self.button(digit))
        self.assertIn("●●●●", self.texts())
        self.assertFalse([t for t in self.texts() if "1111" in t])  # never the digits
        self.tap(self.button("确定"))
        self.wait_for(lambda: self.app.root.ids.banner.text.startswith("密码不正确"))
        self.assertNotIn("●●●●", self.texts())
        for digit in "246810":
            self.tap(self.button(digit))
        self.tap(self.button("确定"))
        self.wait_for_step(Step.STAFF)
        self.assertIn("A4打印机", self.texts())
        self.assertIn("正常", self.texts())  # the device state in words, not its code

    def test_objection_with_reason_and_phone_from_the_keypad(self) -> None:
        services = self.start(FakeServices(report_answer=report(records=1)))
        self.cards.put(Card())
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.tap(self.button("下一步"))
        self.wait_for_step(Step.CONFIRM)
        self.tap(self.button("生成报告"))
        self.wait_for_step(Step.SUMMARY)
        self.assertIn("共1条记录，涉及1个领域", self.texts())
        self.assertIn("其余1个领域均无违法违规记录", self.texts())
        self.tap(self.button("对此记录提出异议"))
        self.wait_for_step(Step.OBJECTION)
        self.assertIn("联系电话（必填，用于答复您）", self.texts())  # it says it is required
        self.tap(self.button("提交异议"))  # no reason yet
        self.wait_for(lambda: self.app.root.ids.banner.text == "请选择一项异议理由。")
        self.tap(self.button("记录内容有误"))
        for digit in "13912345678":
            self.tap(self.button(digit))
        self.assertIn("13912345678", self.texts())
        self.tap(self.button("提交异议"))
        self.wait_for_step(Step.OBJECTION_DONE)
        # the number and the due date on screen, and the slip from the receipt printer
        self.wait_for(
            lambda: "请取走异议回执：上面有异议编号、答复期限和查询方法。" in self.texts()
        )
        self.assertIn("异议编号：OB1", self.texts())
        self.assertIn("信用平台将在2026-11-27前答复您。", self.texts())
        self.assertEqual(services.objections, [("REC0", "记录内容有误", "13912345678")])
        self.assertEqual(services.slips, [("OB1", "R20261122ABCDEFGHJK", "文号0 处罚")])
        self.tap(self.button("返回报告概要"))
        self.wait_for_step(Step.SUMMARY)

    def test_paper_out_then_print_again(self) -> None:
        failure = PrintFailure("no paper", phase="a4", message_id="error.paper_out")
        services = self.start(FakeServices(print_failures=[failure]))
        self.cards.put(Card())
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.tap(self.button("下一步"))
        self.wait_for_step(Step.CONFIRM)
        self.tap(self.button("生成报告"))
        self.wait_for_step(Step.SUMMARY)
        self.tap(self.button("打印报告"))
        self.wait_for_step(Step.PRINT_FAILED)
        self.assertIn("打印机缺纸，已通知工作人员。添纸后可重新打印。", self.texts())
        self.tap(self.button("重新打印"))
        self.wait_for_step(Step.DONE)
        self.assertEqual(services.prints, ["a4", "a4"])

    def test_help_from_a_step_and_back_to_it(self) -> None:
        services = self.start()
        self.cards.put(Card())
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.tap(self.button("呼叫帮办"))
        self.wait_for_step(Step.HELP)
        self.wait_for(lambda: services.help_calls == ["choose_scope"])
        self.tap(self.button("继续办理"))
        self.wait_for_step(Step.CHOOSE_SCOPE)

    def test_verify_a_report_by_its_qr(self) -> None:
        self.start()
        self.tap(self.button("核验报告"))
        self.wait_for_step(Step.VERIFY_SCAN)
        self.assertIn("请将报告上的二维码对准摄像头", self.texts())
        self.camera.show("KQR1.some-login-code")  # a login QR here is not a report
        self.wait_for(lambda: "这不是报告核验二维码" in self.app.root.ids.banner.text)
        self.camera.show("https://credit.example.gov.cn/v1/verify/ABCDEFGHJK12")
        self.wait_for_step(Step.VERIFY_RESULT)
        texts = self.texts()
        self.assertIn("报告真实有效", texts)
        self.assertIn(f"{ACME.name}\n{ACME.uscc}", texts)
        self.assertIn("2026-11-22 10:00", texts)  # the issue time to the minute, not ISO text
        self.assertTrue(any("2023-11-22" in x and "2026-11-22" in x for x in texts), texts)
        self.tap(self.button("核验另一份"))
        self.wait_for_step(Step.VERIFY_SCAN)
        self.tap(self.button("返回首页"))
        self.wait_for_step(Step.ATTRACT)
