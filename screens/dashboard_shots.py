"""Screenshots of the hall dashboard for the demo's output: Debian's headless Chromium, logged in as
the demo hall's staff member, once the page shows what the walk-through just did (a help call, the
paper running out). Without Chromium (or selenium) the demo goes on without these pictures."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from kiosk.demo_rig import DemoStaff

log = logging.getLogger(__name__)

CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--lang=zh-CN")  # fmt: skip


class DashboardCamera:
    def __init__(self, url: str, staff: DemoStaff, *, size: tuple[int, int] = (1920, 1080)) -> None:
        self.url = url
        self.staff = staff
        self.size = size
        self._driver: Any = None
        self._profile = ""

    @classmethod
    def available(cls) -> bool:
        try:
            import selenium  # noqa: F401
        except ImportError:
            return False
        return CHROMEDRIVER.exists()

    def shot(self, path: Path, words: str, timeout: float = 30.0) -> bool:
        """Save the page once its text holds `words`; False when it never did."""
        driver = self._open()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if words in self._body_text(driver):
                time.sleep(0.3)  # the redraw that brought the words has settled
                driver.save_screenshot(str(path))
                return True
            time.sleep(0.3)
        driver.save_screenshot(str(path))  # what it showed instead, for whoever looks
        log.error("the dashboard never showed %r", words)
        return False

    @staticmethod
    def _body_text(driver: Any) -> str:
        """The page's text; "" while the page after the login is still replacing the form (its
        body is briefly missing or stale then: chromedriver says so as a stale element, or as a
        node that "does not belong to the document")."""
        from selenium.common.exceptions import WebDriverException

        try:
            return str(driver.find_element("tag name", "body").text)
        except WebDriverException:  # NoSuchElement and StaleElementReference are among these
            return ""

    def _open(self) -> Any:
        if self._driver is not None:
            return self._driver
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self._profile = tempfile.mkdtemp(prefix="demo-chromium-")
        options = webdriver.ChromeOptions()
        for flag in (*FLAGS, f"--user-data-dir={self._profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        driver.set_window_size(*self.size)
        driver.get(self.url)  # not logged in: the login form
        driver.find_element("name", "username").send_keys(self.staff.username)
        driver.find_element("name", "password").send_keys(self.staff.password)
        driver.find_element("css selector", "button[type=submit]").click()
        self._driver = driver
        return driver

    def close(self) -> None:
        if self._driver is not None:
            self._driver.quit()
            self._driver = None
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
