"""A real headless Chromium (Debian's `chromium` + `chromium-driver`) driven by selenium, for the
platform's web pages. Nothing here downloads a browser."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-background-networking",  # no calls home: this machine has no network
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=zh-CN",
)
PC = (1920, 1080)
PHONE = (390, 844)


@contextmanager
def chromium(size: tuple[int, int] = PC) -> Iterator[Any]:
    if not CHROMEDRIVER.exists():
        pytest.fail("chromium-driver is not installed: `make test` installs it (apt)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        driver.set_window_size(*size)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def resources_loaded(driver: Any) -> list[str]:
    """Every URL the page loaded (scripts, styles, images, fetches)."""
    entries = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return [str(e) for e in entries]


def fits_width(driver: Any) -> bool:
    """Nothing wider than the window: no sideways scrolling on a phone."""
    return bool(
        driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1"
        )
    )
