"""The layout check: what a person would see wrong on a rendered screen, found from the widget tree
and the drawn pixels.

For every visible text and button it reports text cut off by its widget, a word broken in the middle,
text squeezed into a column a few characters wide,
anything outside the window or its part of the frame (header, banner, screen, footer), two texts or
buttons on top of each other, a button smaller than a finger, text under 4.5:1 contrast (7:1 in
elderly mode) against what is drawn behind it. Scroll areas are scrolled through: each text in
them must come fully into view somewhere, must not meet another while it is in view, and a list
longer than its area must show its scroll controls.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from kivy.core.window import Window
from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels
from kivy.metrics import mm
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from screens.theme import contrast
from screens.widgets import KioskButton, ScrollArea

Box = tuple[float, float, float, float]  # x, y, right, top in window coordinates
SLACK = 1.5  # px: rounding in Kivy's layouts


def box_of(widget: Widget) -> Box:
    x, y = widget.to_window(widget.x, widget.y)
    return (x, y, x + widget.width, y + widget.height)


def text_box(label: Label) -> Box:
    """Where the label draws its texture (Kivy's Label rule centres it in the widget)."""
    tw, th = label.texture_size
    cx, cy = label.to_window(label.center_x, label.center_y)
    x, y = int(cx - tw / 2.0), int(cy - th / 2.0)
    return (x, y, x + tw, y + th)


def inside(inner: Box, outer: Box, slack: float = SLACK) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def overlap(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > SLACK and min(a[3], b[3]) - max(a[1], b[1]) > SLACK


def shown_tree(root: Widget) -> Iterator[Widget]:
    """Widgets a person can see: not transparent, not hidden (scroll contents included)."""
    if root.opacity == 0 or getattr(root, "hidden", False):
        return
    yield root
    for child in root.children:
        yield from shown_tree(child)


def scroller_of(widget: Widget) -> ScrollView | None:
    parent = widget.parent
    while parent is not None and parent is not Window:
        if isinstance(parent, ScrollView):
            return parent
        parent = parent.parent
    return None


UNITS = "年月日个条号天时分秒岁元"  # a number wrapped away from its unit reads wrong: "2021\n年"


def broken_words(label: Label) -> list[str]:
    """Line breaks Kivy made inside a Latin word or number (it breaks a word that cannot fit),
    or between a number and its Chinese unit."""
    lines = label._label._cached_lines
    found = []
    for line, after in itertools.pairwise(lines):
        a, b = ("".join(w.text for w in x.words) for x in (line, after))
        if line.is_last_line or not a or not b:
            continue  # an explicit newline, not a wrap
        if a[-1].isdigit() and b[0] in UNITS:
            found.append(f"{a!r}|{b!r}")
            continue
        if not (a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum()):
            continue
        joined = a.split()[-1] + b.split()[0]  # Kivy drops the space it wraps at
        if any(joined in token for token in label.text.split()):
            found.append(f"{a!r}|{b!r}")
    return found


def frame_pixels() -> np.ndarray:
    """The frame last drawn, as rows of RGB from the bottom of the window (GL's order)."""
    width, height = Window.size
    data = glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)
    return np.frombuffer(data, np.uint8).reshape(height, width, 3)


def text_contrast(pixels: np.ndarray, box: Box) -> float | None:
    """Contrast of drawn text against its background: the commonest colour in the text's box is
    the background, the pixel furthest from it the ink. None for a box too small to judge."""
    height, width = pixels.shape[:2]
    x0, y0 = max(0, int(box[0]) + 1), max(0, int(box[1]) + 1)
    x1, y1 = min(width, int(box[2]) - 1), min(height, int(box[3]) - 1)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    crop = pixels[y0:y1, x0:x1].reshape(-1, 3)
    colours, counts = np.unique(crop, axis=0, return_counts=True)
    background = colours[counts.argmax()] / 255.0
    lum = _luminance(colours / 255.0)
    bg_lum = float(_luminance(background[None, :])[0])
    ratios = (np.maximum(lum, bg_lum) + 0.05) / (np.minimum(lum, bg_lum) + 0.05)
    ink = colours[ratios.argmax()] / 255.0
    return contrast((*ink, 1.0), (*background, 1.0))


def _luminance(rgb: np.ndarray) -> np.ndarray:
    linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    weighted: np.ndarray = linear @ np.array([0.2126, 0.7152, 0.0722])
    return weighted


@dataclass
class LayoutCheck:
    """Checks one rendered screen. `settle` runs Kivy's layout; `draw` draws a real frame."""

    root: Widget
    regions: dict[str, Widget]
    elderly: bool
    settle: Callable[[], None]
    draw: Callable[[], None]
    where: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def min_contrast(self) -> float:
        return 7.0 if self.elderly else 4.5

    @property
    def min_touch(self) -> float:
        return float(mm(18 if self.elderly else 15)) - 0.5

    def fail(self, what: str, label: Widget | None = None) -> None:
        text = "" if label is None else f" {getattr(label, 'text', '')[:60]!r}"
        self.problems.append(f"{self.where}: {what}{text}")

    def texts(self) -> list[Label]:
        return [w for w in shown_tree(self.root) if isinstance(w, Label) and w.text]

    def run(self) -> list[str]:
        labels = self.texts()
        window: Box = (0, 0, *Window.size)
        fixed = [w for w in labels if scroller_of(w) is None]
        scrolls = [w for w in shown_tree(self.root) if isinstance(w, ScrollView)]
        for label in labels:
            self.check_label(label)
        for label in fixed:
            box = box_of(label)
            if not inside(box, window):
                self.fail(f"outside the window at {tuple(round(v) for v in box)}", label)
            region = self.region_of(label)
            if region is not None and not inside(box, box_of(region)):
                self.fail("runs out of its part of the frame", label)
            for scroll in scrolls:
                if overlap(box, box_of(scroll)) and not _descends(label, scroll):
                    self.fail("lies under a scroll area", label)
        for a, b in itertools.combinations(fixed, 2):
            if overlap(box_of(a), box_of(b)):
                self.fail(f"overlaps {b.text[:40]!r}", a)
        self.draw()
        self.check_contrast(fixed, self.viewport_filter(scrolls))
        for scroll in scrolls:
            self.scroll_through(scroll, fixed, labels)
        return self.problems

    def region_of(self, widget: Widget) -> Widget | None:
        ids = {id(w): w for w in self.regions.values()}
        parent = widget.parent
        while parent is not None and parent is not Window:
            if id(parent) in ids:
                return ids[id(parent)]
            parent = parent.parent
        return None

    def check_label(self, label: Label) -> None:
        tw, th = label.texture_size
        if tw > label.width + 2 or th > label.height + 2:
            self.fail(f"text {tw}x{th} cut by its {label.width:.0f}x{label.height:.0f} box", label)
        if label.width < 3 * label.font_size and len(label.text.replace("\n", "")) > 3:
            self.fail(f"squeezed into {label.width:.0f} px, a few characters a line", label)
        if broken := broken_words(label):
            self.fail(f"word broken across lines {broken}", label)
        if isinstance(label, KioskButton) and min(label.size) < self.min_touch:
            self.fail(f"button {label.width:.0f}x{label.height:.0f} under finger size", label)

    def viewport_filter(self, scrolls: list[ScrollView]) -> Callable[[Label], bool]:
        """Which labels inside scroll areas are fully in view right now."""

        def shown(label: Label) -> bool:
            scroll = scroller_of(label)
            return scroll is None or (scroll in scrolls and inside(box_of(label), box_of(scroll)))

        return shown

    def check_contrast(self, fixed: list[Label], in_view: Callable[[Label], bool]) -> None:
        pixels = frame_pixels()
        for label in self.texts():
            if label not in fixed and not in_view(label):
                continue
            if isinstance(label, KioskButton) and label.blocked:
                continue  # a greyed-out control is exempt (WCAG 1.4.3)
            ratio = text_contrast(pixels, text_box(label))
            if ratio is not None and ratio < self.min_contrast - 0.05:
                self.fail(f"contrast {ratio:.1f}:1 under {self.min_contrast}:1", label)

    def scroll_through(self, scroll: ScrollView, fixed: list[Label], labels: list[Label]) -> None:
        inner = [w for w in labels if scroller_of(w) is scroll]
        if not inner or not scroll.children:
            return
        content, view = scroll.children[0], scroll.height
        overflow = content.height - view
        area = scroll.parent if isinstance(scroll.parent, ScrollArea) else None
        if overflow > SLACK and (area is None or not area.controls_shown):
            self.fail(
                f"a list {content.height:.0f} px high in {view:.0f} px shows no scroll controls"
            )
        for label in inner:
            if label.height > view + SLACK:
                self.fail(f"taller ({label.height:.0f} px) than its scroll area", label)
        seen: set[int] = set()
        steps = 1 if overflow <= SLACK else int(np.ceil(overflow / (view * 0.5))) + 1
        for i in range(steps):
            scroll.scroll_y = 1.0 - (i / (steps - 1) if steps > 1 else 0.0)
            self.settle()
            frame = box_of(scroll)
            now = [w for w in inner if inside(box_of(w), frame)]
            fresh = [w for w in now if id(w) not in seen]
            for label in now:
                seen.add(id(label))
                for other in fixed:
                    if overlap(box_of(label), box_of(other)):
                        self.fail(f"scrolled into view over {other.text[:40]!r}", label)
            for a, b in itertools.combinations(now, 2):
                if overlap(box_of(a), box_of(b)):
                    self.fail(f"overlaps {b.text[:40]!r} in its scroll area", a)
            if fresh and i > 0:
                self.draw()
                self.check_contrast([], fresh.__contains__)
        for label in inner:
            if id(label) not in seen:
                self.fail("never comes fully into view when scrolled", label)
        scroll.scroll_y = 1.0
        self.settle()


def _descends(widget: Widget, ancestor: Widget) -> bool:
    parent = widget.parent
    while parent is not None and parent is not Window:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False
