"""Look of the kiosk: the CJK font, sizes that hold on 1920x1080, 1280x1024 and portrait 1080x1920,
two palettes.

Sizes follow the window's shorter side (the target panels are about 1000 px on their short side and
17-24" across, so a pixel is about the same size on all of them, landscape or turned on its side);
widths come from size_hint so the 5:4 screen only wraps more, and screens lay out top to bottom when
the window is taller than wide (`portrait`). Touch targets are also at least 15 mm by Kivy's metrics
(set KIVY_DPI where a screen lies about it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kivy.event import EventDispatcher
from kivy.metrics import mm
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty

log = logging.getLogger(__name__)

# set up by scripts/setup.sh (fonts-wqy-microhei); the others are fallbacks seen on Debian images
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
REFERENCE_HEIGHT = 1080
MIN_TOUCH_MM = 15.0

Rgba = tuple[float, float, float, float]


def register_cjk_font(candidates: Iterable[str] = FONT_CANDIDATES) -> str | None:
    """Make the first CJK font found the default of every Kivy label; returns its path."""
    from kivy.core.text import DEFAULT_FONT, LabelBase

    for candidate in candidates:
        if Path(candidate).is_file():
            # index 0 of the TTC is the proportional face (WenQuanYi Micro Hei)
            LabelBase.register(DEFAULT_FONT, candidate)
            return candidate
    log.error("no CJK font found (tried %s): Chinese text will show as boxes", list(candidates))
    return None


@dataclass(frozen=True)
class Palette:
    name: str
    background: Rgba
    text: Rgba
    muted: Rgba
    header: Rgba
    header_text: Rgba
    banner: Rgba
    banner_text: Rgba
    overlay: Rgba
    overlay_text: Rgba
    step_done: Rgba
    step_current: Rgba
    step_todo: Rgba
    pressed: Rgba
    alert: Rgba  # a forged or revoked report
    dialog: Rgba  # the idle countdown's box, opaque over the dimmed page
    dialog_text: Rgba
    scroll: Rgba  # the scroll bar of a list longer than its area
    # button role -> (background, text, border)
    buttons: dict[str, tuple[Rgba, Rgba, Rgba]] = field(default_factory=dict)


_WHITE: Rgba = (1, 1, 1, 1)
_BLACK: Rgba = (0, 0, 0, 1)
_BLUE: Rgba = (0.05, 0.33, 0.68, 1)
_INK: Rgba = (0.11, 0.12, 0.15, 1)
_YELLOW: Rgba = (1, 0.86, 0.0, 1)

NORMAL = Palette(
    name="normal",
    background=(0.96, 0.97, 0.98, 1),
    text=_INK,
    muted=(0.30, 0.33, 0.38, 1),
    header=(0.04, 0.22, 0.45, 1),
    header_text=_WHITE,
    banner=(1.0, 0.93, 0.72, 1),
    banner_text=(0.25, 0.15, 0.0, 1),
    overlay=(0.0, 0.0, 0.0, 0.78),
    overlay_text=_WHITE,
    step_done=(0.62, 0.75, 0.92, 1),
    step_current=_WHITE,
    step_todo=(0.75, 0.80, 0.88, 1),  # 7:1 on the header, like the elderly palette
    pressed=(0.02, 0.18, 0.38, 1),
    alert=(0.70, 0.07, 0.07, 1),
    dialog=_WHITE,
    dialog_text=_INK,
    scroll=_BLUE,
    buttons={
        "primary": (_BLUE, _WHITE, _BLUE),
        "secondary": ((0.86, 0.89, 0.93, 1), _INK, (0.70, 0.74, 0.80, 1)),
        "selected": ((0.04, 0.22, 0.45, 1), _WHITE, (0.04, 0.22, 0.45, 1)),
        "header": ((0.10, 0.32, 0.60, 1), _WHITE, (0.45, 0.60, 0.80, 1)),
        "key": (_WHITE, _INK, (0.70, 0.74, 0.80, 1)),
    },
)

HIGH_CONTRAST = Palette(
    name="high_contrast",
    background=_BLACK,
    text=_WHITE,
    muted=(0.92, 0.92, 0.92, 1),
    header=_BLACK,
    header_text=_YELLOW,
    banner=_YELLOW,
    banner_text=_BLACK,
    overlay=(0.0, 0.0, 0.0, 0.92),
    overlay_text=_YELLOW,
    step_done=_WHITE,
    step_current=_YELLOW,
    step_todo=(0.75, 0.75, 0.75, 1),
    pressed=(0.5, 0.5, 0.5, 1),
    alert=(1.0, 0.55, 0.55, 1),
    dialog=_BLACK,
    dialog_text=_WHITE,
    scroll=_YELLOW,
    buttons={
        "primary": (_YELLOW, _BLACK, _YELLOW),
        "secondary": (_BLACK, _WHITE, _WHITE),
        "selected": (_WHITE, _BLACK, _YELLOW),
        "header": (_BLACK, _YELLOW, _YELLOW),
        "key": (_BLACK, _WHITE, _WHITE),
    },
)

# font sizes in px at 1080 px height: (small, normal, large, title)
_FONTS = {False: (24, 28, 34, 42), True: (36, 42, 50, 58)}


def relative_luminance(colour: Rgba) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: Rgba, b: Rgba) -> float:
    """WCAG contrast ratio of two opaque colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


class Theme(EventDispatcher):
    """Sizes (px) and colours the .kv rules bind to; `fit` and `elderly` recompute them."""

    elderly = BooleanProperty(False)
    palette = ObjectProperty(NORMAL, rebind=True)  # kv rules bind through it (palette.text)
    font_small = NumericProperty(24)
    font_normal = NumericProperty(28)
    font_large = NumericProperty(34)
    font_title = NumericProperty(42)
    touch = NumericProperty(80)  # smallest side of anything to touch
    spacing = NumericProperty(16)
    padding = NumericProperty(24)
    radius = NumericProperty(10)
    window_height = NumericProperty(REFERENCE_HEIGHT)
    short_side = NumericProperty(REFERENCE_HEIGHT)  # what sizes follow, in either orientation
    portrait = BooleanProperty(False)  # taller than wide: screens stack their parts

    def fit(self, width: float, height: float) -> None:
        self.window_height = max(float(height), 1.0)
        self.short_side = max(min(float(width), float(height)), 1.0)
        self.portrait = height > width
        self._recompute()

    def on_elderly(self, *_: object) -> None:
        self._recompute()

    def _recompute(self) -> None:
        # a portrait panel is a landscape one turned on its side: the same pixel, the same sizes
        side = self.short_side
        scale = side / REFERENCE_HEIGHT
        sizes = _FONTS[bool(self.elderly)]
        floor = sizes[0]  # never below the smallest size of the mode, on any screen
        self.font_small, self.font_normal, self.font_large, self.font_title = (
            max(floor, round(size * scale)) for size in sizes
        )
        share, minimum_mm = (0.085, 18.0) if self.elderly else (0.075, MIN_TOUCH_MM)
        self.touch = max(mm(minimum_mm), round(side * share))
        self.spacing = round(side * 0.015)
        self.padding = round(side * 0.022)
        self.radius = round(side * 0.01)
        self.palette = HIGH_CONTRAST if self.elderly else NORMAL
