"""The layout check (tests/layout_check.py) on every screen: normal and elderly mode, Chinese and
English, landscape 1920x1080 and portrait 1080x1920, with Gansu's 38 domains and a report with
records. Nothing may be cut off, overlap, fall outside the window or hide under something, scroll
areas included (scrolled through), and text contrast holds 4.5:1 (7:1 in elderly mode). Also: text
sizes, the 5:4 screen, and real screenshots."""

from __future__ import annotations

from . import kivy_env  # noqa: F401  # isort: skip  (sets up Kivy before it is imported)

import dataclasses
import re
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import pytest
from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget
from PIL import Image

from kiosk.i18n import Translator
from kiosk.steps import Snapshot, Step
from screens.theme import HIGH_CONTRAST, NORMAL, contrast
from screens.widgets import KioskButton

from .kivy_env import KioskTestCase, Window, sample_snapshots, screen_variants, visible_widgets
from .layout_check import LayoutCheck

pytestmark = pytest.mark.runs_long(3)  # every screen drawn in eight variants
LANDSCAPE = (1920, 1080)
PORTRAIT = (1080, 1920)
SXGA = (1280, 1024)


class LayoutCheck8(KioskTestCase):
    """Each test is one of the eight combinations; each checks every screen and its variants.
    Two classes (landscape, portrait): each is a unit pytest-xdist's loadscope hands to one
    worker, and the eight together are minutes of drawing."""

    def check_every_screen(self, size: tuple[int, int], language: str, elderly: bool) -> None:
        self.start_offline()
        self.resize(size)
        started, problems, checked = time.monotonic(), [], 0
        for name, snapshot in screen_variants(language, elderly):
            self.show(snapshot)
            ids = self.app.root.ids
            layer, regions = (
                self.app.root,
                {n: ids[n] for n in ("header", "banner", "manager", "footer")},
            )
            if snapshot.countdown is not None:  # a dialog over the dimmed page: only it is read
                layer, regions = ids.countdown, {}
            check = LayoutCheck(
                layer,
                regions,
                elderly,
                settle=lambda: self.settle(2),
                draw=self.draw,
                where=f"{name} {size[0]}x{size[1]} {language}{' elderly' if elderly else ''}",
            )
            problems += check.run()
            checked += 1
        print(f"layout check {size} {language} elderly={elderly}: {checked} screens, "
              f"{time.monotonic() - started:.1f} s")  # fmt: skip
        self.assertGreaterEqual(checked, len(Step))
        self.assertEqual(problems, [], "\n" + "\n".join(problems))


class LandscapeLayoutTest(LayoutCheck8):
    def test_landscape_chinese(self) -> None:
        self.check_every_screen(LANDSCAPE, "zh_CN", elderly=False)

    def test_landscape_chinese_elderly(self) -> None:
        self.check_every_screen(LANDSCAPE, "zh_CN", elderly=True)

    def test_landscape_english(self) -> None:
        self.check_every_screen(LANDSCAPE, "en", elderly=False)

    def test_landscape_english_elderly(self) -> None:
        self.check_every_screen(LANDSCAPE, "en", elderly=True)


class PortraitLayoutTest(LayoutCheck8):
    def test_portrait_chinese(self) -> None:
        self.check_every_screen(PORTRAIT, "zh_CN", elderly=False)

    def test_portrait_chinese_elderly(self) -> None:
        self.check_every_screen(PORTRAIT, "zh_CN", elderly=True)

    def test_portrait_english(self) -> None:
        self.check_every_screen(PORTRAIT, "en", elderly=False)

    def test_portrait_english_elderly(self) -> None:
        self.check_every_screen(PORTRAIT, "en", elderly=True)


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def data_strings(value: object) -> set[str]:
    """Every string in a Snapshot's data (dataclasses, tuples, dicts), and each line of it."""
    found: set[str] = set()
    if isinstance(value, str):
        found |= {value, *value.split("\n")} - {""}
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            found |= data_strings(getattr(value, item.name))
    elif isinstance(value, dict):
        for key, item in value.items():
            found |= data_strings(key) | data_strings(item)
    elif isinstance(value, (tuple, list, frozenset, set)):
        for item in value:
            found |= data_strings(item)
    return found


class TextAndScreensTest(KioskTestCase):
    def texts_and_fonts(self, snapshots: dict[Step, Snapshot]) -> dict[Step, dict[str, float]]:
        seen = {}
        for step, snapshot in snapshots.items():
            self.show(snapshot)
            labels = [w for w in visible_widgets(self.app.root) if isinstance(w, Label)]
            # the scroll controls (▲ ▼) come and go with the room there is: not words
            seen[step] = {w.text: w.font_size for w in labels if w.text not in ("", "▲", "▼")}
        return seen

    def test_text_sizes_and_the_same_words_on_every_screen_size(self) -> None:
        self.start_offline()
        for language, elderly in (("zh_CN", False), ("en", False), ("zh_CN", True)):
            smallest = 36 if elderly else 24
            by_size: dict[tuple[int, int], Any] = {}
            for size in (LANDSCAPE, SXGA, PORTRAIT):
                self.resize(size)
                by_size[size] = self.texts_and_fonts(sample_snapshots(language, elderly))
            for step in Step:
                with self.subTest(step=step.value, language=language, elderly=elderly):
                    fonts = by_size[LANDSCAPE][step]
                    self.assertTrue(fonts, f"{step.value} shows no text")
                    self.assertGreaterEqual(min(fonts.values()), smallest, fonts)
                    for size in (SXGA, PORTRAIT):
                        # every screen shows the same words, only wrapped differently
                        self.assertEqual(sorted(by_size[size][step]), sorted(fonts), size)
                        self.assertGreaterEqual(min(by_size[size][step].values()), smallest)

    def test_english_screens_show_no_chinese_but_data(self) -> None:
        """Every fixed text is translated: what stays Chinese in English is data (names of
        enterprises, domains, agencies, the hall), never a label, a button or a message."""
        self.start_offline()
        for size in (LANDSCAPE, PORTRAIT):
            self.resize(size)
            for name, snapshot in screen_variants("en", elderly=False):
                self.show(snapshot)
                # the language button names the other language in that language: 中文
                toggle = Translator("en")("attract.language")
                data = sorted(data_strings(snapshot) | {toggle}, key=len, reverse=True)
                for text in self.texts():
                    rest = text
                    for value in data:
                        rest = rest.replace(value, "")
                    with self.subTest(screen=name, text=text):
                        self.assertFalse(CJK.search(rest), f"{name}: {text!r}")

    def test_elderly_mode_is_larger(self) -> None:
        self.start_offline()
        self.resize(LANDSCAPE)
        standard = self.texts_and_fonts(sample_snapshots("zh_CN", elderly=False))
        large = self.texts_and_fonts(sample_snapshots("zh_CN", elderly=True))
        self.assertIs(self.app.theme.palette, HIGH_CONTRAST)
        for step in Step:
            for text, font in standard[step].items():
                if text in large[step]:
                    self.assertGreater(large[step][text], font, text)

    def test_screenshots_of_every_screen_are_real_pictures(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="kiosk-screens-"))
        self.start_offline()
        for size in (LANDSCAPE, PORTRAIT):
            self.resize(size)
            for step, snapshot in sample_snapshots().items():
                self.show(snapshot)
                self.draw()
                path = Path(Window.screenshot(name=str(folder / f"{size[0]}-{step.value}.png")))
                with Image.open(path) as image:
                    self.assertEqual(image.size, size)
                    rgb = image.convert("RGB")
                    colours = rgb.getcolors(maxcolors=1 << 16) or []
                    # text antialiasing gives many shades; a blank or failed frame has one or two
                    self.assertGreater(len(colours), 20, path.name)
                    # the header band is dark and the body light, as the normal palette says
                    top = cast(tuple[int, int, int], rgb.getpixel((size[0] // 2, 5)))
                    self.assertLess(sum(top), 200, path.name)
        self.assertEqual(len(list(folder.glob("*.png"))), 2 * len(Step))

    def test_palettes_meet_contrast_targets(self) -> None:
        for palette, target in ((NORMAL, 4.5), (HIGH_CONTRAST, 7.0)):
            self.assertGreaterEqual(contrast(palette.text, palette.background), target)
            self.assertGreaterEqual(contrast(palette.muted, palette.background), target)
            self.assertGreaterEqual(contrast(palette.header_text, palette.header), target)
            self.assertGreaterEqual(contrast(palette.banner_text, palette.banner), target)
            self.assertGreaterEqual(contrast(palette.dialog_text, palette.dialog), target)
            for state in ("step_todo", "step_done", "step_current"):  # the step bar's labels
                self.assertGreaterEqual(contrast(getattr(palette, state), palette.header), target)
            for role, (bg, fg, _) in palette.buttons.items():
                self.assertGreaterEqual(contrast(fg, bg), target, f"{palette.name} {role}")
        # the inactive steps read at the elderly standard in both palettes
        self.assertGreaterEqual(contrast(NORMAL.step_todo, NORMAL.header), 7.0)


class LayoutCheckSeesTest(KioskTestCase):
    """The check itself: each fault it is there for, drawn on purpose, is reported; a tidy
    screen is not."""

    def check(self, *widgets: Widget, background: tuple[float, ...] = (1, 1, 1, 1)) -> list[str]:
        root = FloatLayout()
        with root.canvas.before:
            Color(*background)
            Rectangle(pos=(0, 0), size=Window.size)
        for widget in widgets:
            root.add_widget(widget)
        Window.add_widget(root)
        try:
            self.settle(3)
            return LayoutCheck(root, {}, False, lambda: self.settle(2), self.draw).run()
        finally:
            Window.remove_widget(root)

    @staticmethod
    def label(text: str, pos: tuple[float, float], size: tuple[float, float], **kw: Any) -> Label:
        kw.setdefault("color", (0, 0, 0, 1))
        return Label(text=text, pos=pos, size=size, size_hint=(None, None), font_size=28, **kw)

    def test_a_tidy_screen_passes(self) -> None:
        self.start_offline()
        self.resize(LANDSCAPE)
        ok = KioskButton(text="下一步", pos=(100, 100), size=(300, 100), size_hint=(None, None))
        self.assertEqual(self.check(ok, self.label("请选择", (100, 300), (300, 60))), [])

    def test_each_fault_is_reported(self) -> None:
        self.start_offline()
        self.resize(LANDSCAPE)
        b1 = KioskButton(text="甲", pos=(100, 100), size=(300, 100), size_hint=(None, None))
        b2 = KioskButton(text="乙", pos=(200, 150), size=(300, 100), size_hint=(None, None))
        tiny = KioskButton(text="丙", pos=(600, 100), size=(40, 100), size_hint=(None, None))
        cut = self.label("这一句话比它的格子长得多", (100, 400), (120, 40))
        outside = self.label("窗外", (1880, 400), (100, 40))
        faint = self.label("看不清", (100, 500), (200, 40), color=(0.75, 0.75, 0.75, 1))
        scroll = ScrollView(pos=(1000, 100), size=(400, 300), size_hint=(None, None))
        column = BoxLayout(orientation="vertical", size_hint_y=None, height=900)
        column.add_widget(Label(text="列表的第一行", color=(0, 0, 0, 1), font_size=28))
        scroll.add_widget(column)
        problems = "\n".join(self.check(b1, b2, tiny, cut, outside, faint, scroll))
        for fault in (
            "overlaps '甲'",
            "under finger size '丙'",
            "cut by its 120x40 box '这一句话比它的格子长得多'",
            "outside the window",
            "under 4.5:1 '看不清'",  # light grey on white
            "a list 900 px high in 300 px shows no scroll controls",
            "taller (900 px) than its scroll area '列表的第一行'",
        ):
            self.assertIn(fault, problems)
