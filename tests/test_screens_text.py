"""Without a window: the font covers every catalog text, voice prompts, theme sizes, date steppers."""

from __future__ import annotations

from . import kivy_env  # noqa: F401  # isort: skip  (sets up Kivy before it is imported)

import datetime as dt
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import kivy
import pytest
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.metrics import mm
from PIL import ImageFont

from kiosk.i18n import LANGUAGES, locale_dir
from screens.dates import month_open, step_date, with_month, with_year, year_choices
from screens.theme import FONT_CANDIDATES, Theme, register_cjk_font
from screens.voice import Voice
from screens.widgets import keyed

WQY = FONT_CANDIDATES[0]
# characters the screens draw that are not in a catalog: keypad, steppers, PIN dots, data
SCREEN_SYMBOLS = "0123456789+-●:：、，,()（）*-_ABCDEFGHJKLMNPQRSTUVWXYZ▲▼✓"


def catalog_texts(language: str) -> list[str]:
    po = (locale_dir() / language / "LC_MESSAGES" / "kiosk.po").read_text(encoding="utf-8")
    strings = re.findall(r'^msgstr(?:\[\d\])? "(.*)"$', po, flags=re.M)  # plural forms too
    return [s.encode().decode("unicode_escape").encode("latin-1").decode() for s in strings if s]


def missing_glyphs(font_path: str, text: str) -> set[str]:
    """Characters the font draws as its .notdef box (what a person would see as a square)."""
    font = ImageFont.truetype(font_path, 32, index=0, layout_engine=ImageFont.Layout.BASIC)
    notdef = font.getmask("\ue000")  # a private-use code point: no font here maps it
    box = (notdef.size, bytes(notdef))
    missing = set()
    for char in set(text) - set(" \n\t"):
        mask = font.getmask(char)
        if (mask.size, bytes(mask)) == box:
            missing.add(char)
    return missing


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_text_has_glyphs_in_the_cjk_font(language: str) -> None:
    texts = catalog_texts(language)
    assert len(texts) > 100
    everything = "".join(texts) + SCREEN_SYMBOLS
    assert missing_glyphs(WQY, everything) == set()
    # the check itself sees a missing glyph: a symbol outside the font, and Chinese in Roboto
    assert missing_glyphs(WQY, "⌫") == {"⌫"}
    roboto = str(Path(kivy.__file__).parent / "data" / "fonts" / "Roboto-Regular.ttf")
    assert "报" in missing_glyphs(roboto, "报告")


def test_the_cjk_font_becomes_every_labels_default(tmp_path: Path) -> None:
    assert register_cjk_font([str(tmp_path / "none.ttc")]) is None  # logs, keeps going
    assert register_cjk_font() == WQY
    assert LabelBase._fonts[DEFAULT_FONT][0] == WQY


def test_theme_sizes_hold_on_both_target_screens() -> None:
    theme = Theme()
    for height in (1080, 1024):
        theme.elderly = False
        theme.fit(1920 if height == 1080 else 1280, height)
        assert theme.font_small >= 24 and theme.font_normal > theme.font_small
        assert theme.touch >= mm(15)
        standard = (theme.font_normal, theme.touch)
        theme.elderly = True
        assert theme.font_small >= 36
        assert (theme.font_normal, theme.touch) > standard
        assert theme.palette.name == "high_contrast"
    theme.fit(1920, 1080)
    theme.elderly = False
    at_1080, touch = theme.font_normal, theme.touch
    assert not theme.portrait
    theme.fit(1080, 1920)  # the same panel turned on its side: the same sizes, stacked layouts
    assert (theme.font_normal, theme.touch) == (at_1080, touch) and theme.portrait
    theme.fit(3840, 2160)  # a 4K panel: everything scales with the shorter side
    assert theme.font_normal == 2 * at_1080


def fake_espeak(folder: Path, seconds: float = 0.0) -> tuple[str, Path]:
    log = folder / "spoken.txt"
    script = folder / "espeak-ng"
    script.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{log}"\nsleep {seconds}\n', encoding="utf-8"
    )
    script.chmod(0o755)
    return str(script), log


def wait_for_file(path: Path, text: str) -> str:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if path.exists() and text in (content := path.read_text(encoding="utf-8")):
            return content
        time.sleep(0.02)
    raise AssertionError(f"{text!r} never reached {path}")


def test_voice_speaks_with_the_mandarin_voice_without_waiting(tmp_path: Path) -> None:
    binary, log = fake_espeak(tmp_path, seconds=3)
    voice = Voice(binary)
    started = time.monotonic()
    assert voice.say("请将身份证放在读卡区", "zh_CN")
    assert time.monotonic() - started < 0.5  # the prompt runs in its own process
    assert voice.speaking
    args = wait_for_file(log, "请将身份证放在读卡区").split("\n")
    assert args[:2] == ["-v", "cmn"] and "--" in args
    first = voice._current
    assert voice.say("Place your ID card", "en")  # a new prompt cuts the old one off
    assert first is not None and first.wait(timeout=5) != 0
    assert "en" in wait_for_file(log, "Place your ID card").split("\n")
    voice.stop()
    assert not voice.speaking


def test_voice_without_espeak_is_silent_and_harmless(tmp_path: Path) -> None:
    quiet = Voice(None)
    assert not quiet.available
    assert quiet.say("你好", "zh_CN") is False
    quiet.stop()
    old_path = os.environ["PATH"]
    os.environ["PATH"] = str(tmp_path)  # a PATH without espeak-ng
    try:
        assert Voice.find().binary is None
    finally:
        os.environ["PATH"] = old_path
    broken = Voice(str(tmp_path / "gone" / "espeak-ng"))  # uninstalled after start-up
    assert broken.say("你好", "zh_CN") is False


def test_real_espeak_ng_accepts_the_command(tmp_path: Path) -> None:
    binary = shutil.which("espeak-ng")
    assert binary is not None
    wav = tmp_path / "prompt.wav"
    subprocess.run(
        [binary, "-v", "cmn", "-w", str(wav), "--", "请取走报告"], check=True, timeout=30
    )
    assert wav.stat().st_size > 1000


def test_date_steppers_clamp_to_real_dates() -> None:
    assert step_date(dt.date(2024, 1, 31), "month", 1) == dt.date(2024, 2, 29)
    assert step_date(dt.date(2023, 1, 31), "month", 1) == dt.date(2023, 2, 28)
    assert step_date(dt.date(2024, 2, 29), "year", -1) == dt.date(2023, 2, 28)
    assert step_date(dt.date(2024, 1, 15), "month", -1) == dt.date(2023, 12, 15)
    assert step_date(dt.date(2024, 12, 31), "day", 1) == dt.date(2025, 1, 1)
    assert step_date(dt.date(9999, 12, 31), "day", 1) == dt.date(9999, 12, 31)
    assert step_date(dt.date(9999, 6, 1), "year", 1) == dt.date(9999, 6, 1)
    with pytest.raises(ValueError):
        step_date(dt.date(2024, 1, 1), "week", 1)


def test_keypad_editing() -> None:
    assert keyed("139", "4", 12) == "1394"
    assert keyed("139", "delete", 12) == "13"
    assert keyed("139", "clear", 12) == ""
    assert keyed("123456789012", "3", 12) == "123456789012"  # full
    assert keyed("", "delete", 12) == ""
    assert keyed("1", "x", 12) == "1"
    assert keyed("1", "²", 12) == keyed("1", "٣", 12) == "1"  # digits, but not ASCII ones


def test_the_custom_period_picker_stays_within_the_allowed_range() -> None:
    low, high = dt.date(2021, 1, 1), dt.date(2026, 11, 22)
    start, end = dt.date(2023, 11, 22), dt.date(2026, 11, 22)
    # a year, then a month: a start gets the month's first day, an end its last
    assert with_year(start, 2024, low, high) == dt.date(2024, 11, 22)
    assert with_month(start, 3, False, low, high) == dt.date(2023, 3, 1)
    assert with_month(dt.date(2024, 1, 1), 2, True, low, high) == dt.date(2024, 2, 29)
    # never past today or before the floor, whatever is tapped
    assert with_month(end, 12, True, low, high) == high
    assert with_year(dt.date(2024, 2, 29), 2026, low, high) == dt.date(2026, 2, 28)
    assert with_year(dt.date(2023, 12, 31), 2026, low, high) == high
    # months wholly outside the range are not offered; the years are the floor's to this one
    assert not month_open(2026, 12, low, high) and month_open(2026, 11, low, high)
    assert not month_open(2020, 12, low, high) and month_open(2021, 1, low, high)
    assert year_choices(low, high, 5) == [2021, 2022, 2023, 2024, 2025, 2026]
    assert year_choices(dt.date(1990, 1, 1), high, 5) == [2021, 2022, 2023, 2024, 2025, 2026]
