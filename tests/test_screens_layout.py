"""Every screen at 1920x1080 and 1280x1024, in both languages and both modes: text sizes, touch
targets, nothing cut off, the same content on both screens, and a real screenshot of each."""

from __future__ import annotations

from . import kivy_env  # noqa: F401  # isort: skip  (sets up Kivy before it is imported)

import itertools
import tempfile
from pathlib import Path
from typing import Any

from kivy.metrics import mm
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget
from PIL import Image

from kiosk.steps import Step
from screens.theme import HIGH_CONTRAST, NORMAL, contrast
from screens.widgets import KioskButton

from .kivy_env import KioskTestCase, Window, sample_snapshots, visible_widgets

FULL_HD = (1920, 1080)
SXGA = (1280, 1024)


def broken_words(label: Label) -> list[str]:
    """Line breaks Kivy made inside a Latin word or number (it breaks a word that cannot fit)."""
    lines = label._label._cached_lines
    found = []
    for line, after in itertools.pairwise(lines):
        a, b = ("".join(w.text for w in x.words) for x in (line, after))
        if line.is_last_line or not a or not b:
            continue  # an explicit newline, not a wrap
        if not (a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum()):
            continue
        joined = a.split()[-1] + b.split()[0]  # Kivy drops the space it wraps at
        if any(joined in token for token in label.text.split()):
            found.append(f"{a!r}|{b!r}")
    return found


def enclosing_region(widget: Widget, regions: dict[int, Widget]) -> Widget | None:
    """The header, banner, screen area or footer `widget` is drawn in; None inside a ScrollView."""
    parent = widget.parent
    while id(parent) not in regions:
        if parent is None or parent is Window or isinstance(parent, ScrollView):
            return None
        parent = parent.parent
    return parent


class EveryScreenTest(KioskTestCase):
    def sweep(self, size: tuple[int, int], language: str, elderly: bool) -> dict[Step, Any]:
        """Render every step; return per step what a person could read and touch."""
        self.resize(size)
        seen: dict[Step, Any] = {}
        for step, snapshot in sample_snapshots(language, elderly).items():
            self.show(snapshot)
            labels = [w for w in visible_widgets(self.app.root) if isinstance(w, Label)]
            seen[step] = {
                "labels": labels,
                "texts": sorted(w.text for w in labels if w.text),
                "fonts": {w.text: w.font_size for w in labels if w.text},
                "buttons": [w for w in labels if isinstance(w, KioskButton)],
            }
            self.check_fits(step, labels, size)
        return seen

    def check_fits(self, step: Step, labels: list[Label], size: tuple[int, int]) -> None:
        width, _ = size
        ids = self.app.root.ids
        regions = {id(ids[name]): ids[name] for name in ("header", "banner", "manager", "footer")}
        for label in labels:
            if not label.text:
                continue
            where = f"{step.value} {size} {label.text!r}"
            tw, th = label.texture_size
            # the text is drawn inside its widget: nothing runs out sideways or is cut in half
            self.assertLessEqual(tw, label.width + 2, where)
            self.assertLessEqual(th, label.height + 2, where)
            self.assertFalse(broken_words(label), where)
            x, y = label.to_window(label.x, label.y)
            self.assertGreaterEqual(x, -1, where)
            self.assertLessEqual(x + label.width, width + 1, where)
            region = enclosing_region(label, regions)
            if region is not None:  # not inside a ScrollView, which clips on purpose
                _, ry = region.to_window(region.x, region.y)
                self.assertGreaterEqual(y, ry - 1, where)
                self.assertLessEqual(y + label.height, ry + region.height + 1, where)
            if isinstance(label, KioskButton):
                self.assertGreaterEqual(min(label.size), mm(15) - 0.5, where)

    def test_standard_mode_on_both_screens(self) -> None:
        self.start_offline()
        for language in ("zh_CN", "en"):
            big = self.sweep(FULL_HD, language, elderly=False)
            small = self.sweep(SXGA, language, elderly=False)
            for step in Step:
                with self.subTest(step=step.value, language=language):
                    sizes = big[step]["fonts"]
                    self.assertTrue(sizes, f"{step.value} shows no text")
                    self.assertGreaterEqual(min(sizes.values()), 24, sizes)
                    # the 5:4 screen shows the same words, only wrapped differently
                    self.assertEqual(big[step]["texts"], small[step]["texts"])
                    self.assertGreaterEqual(min(small[step]["fonts"].values()), 24)

    def test_elderly_mode_is_larger_and_high_contrast(self) -> None:
        self.start_offline()
        for size in (FULL_HD, SXGA):
            standard = self.sweep(size, "zh_CN", elderly=False)
            large = self.sweep(size, "zh_CN", elderly=True)
            self.assertIs(self.app.theme.palette, HIGH_CONTRAST)
            for step in Step:
                with self.subTest(step=step.value, size=size):
                    self.assertGreaterEqual(min(large[step]["fonts"].values()), 36)
                    for text, font in standard[step]["fonts"].items():
                        if text in large[step]["fonts"]:
                            self.assertGreater(large[step]["fonts"][text], font, text)
            self.sweep(size, "en", elderly=True)  # English wraps more: nothing may be cut off

    def test_screenshots_of_every_screen_are_real_pictures(self) -> None:
        folder = Path(tempfile.mkdtemp(prefix="kiosk-screens-"))
        self.start_offline()
        for size in (FULL_HD, SXGA):
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
                    top = rgb.getpixel((size[0] // 2, 5))
                    self.assertLess(sum(top), 200, path.name)
        self.assertEqual(len(list(folder.glob("*.png"))), 2 * len(Step))

    def test_palettes_meet_contrast_targets(self) -> None:
        for palette, target in ((NORMAL, 4.5), (HIGH_CONTRAST, 7.0)):
            self.assertGreaterEqual(contrast(palette.text, palette.background), target)
            self.assertGreaterEqual(contrast(palette.header_text, palette.header), target)
            self.assertGreaterEqual(contrast(palette.banner_text, palette.banner), target)
            for role, (bg, fg, _) in palette.buttons.items():
                self.assertGreaterEqual(contrast(fg, bg), target, f"{palette.name} {role}")
        self.assertGreater(
            contrast(HIGH_CONTRAST.text, HIGH_CONTRAST.background),
            contrast(NORMAL.text, NORMAL.background),
        )
