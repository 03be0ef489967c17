"""The hall dashboard in a real headless Chromium: a staff member logs in through the form, sees a
help call and an alert in words, answers the call (the kiosk's next heartbeat hears who), sends a
command through the confirmation dialog; at a hall PC's size and a phone's, everything it loads
comes from the platform. Screenshots of both sizes go to the test's folder."""

from __future__ import annotations

import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from .browser import PC, PHONE, chromium, fits_width, resources_loaded
from .hall_support import PASSWORD, Kiosk, add_staff, beat
from .platform_client import ServiceProcess, cli

SHOTS_ENV = "HALL_SCREENSHOTS"  # set to a folder to keep the screenshots (docs/hall-operations)


def wait_for(driver: Any, script: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"the page never satisfied: {script}")


def click(driver: Any, css: str, timeout: float = 10.0) -> None:
    """Click what `css` finds, again if a live update replaced it in between (as a finger would)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    deadline = time.monotonic() + timeout
    while True:
        try:
            driver.find_element(By.CSS_SELECTOR, css).click()
            return
        except StaleElementReferenceException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def log_in(driver: Any, base: str, username: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/halls/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # the click returns before the form's navigation: wait for the dashboard, not the login page
    wait_for(driver, "return document.getElementById('live') !== null", timeout=20.0)


@pytest.fixture(scope="module")
def scene(platform: ServiceProcess) -> dict[str, Any]:
    hall = "hall-web-" + secrets.token_hex(3)
    add_staff(platform, hall, "web-" + hall, "hall_admin", display="张组长")
    cli("halls", "set-hours", "--db", platform.db, "--hall", hall, "--hours", "mon-sun 00:00-24:00")
    kiosk = Kiosk(platform, hall)
    kiosk.heartbeat(
        beat(**{"devices.a4_printer.paper": "out", "devices.a4_printer.reasons": ["media-empty"]})
    )
    idle = Kiosk(platform, hall)
    idle.heartbeat(beat(availability="offline_queueing", **{"queue.pending": 2}))
    call_id = kiosk.assist("paper_out", "print_failed").json()["call_id"]
    return {"hall": hall, "kiosk": kiosk, "call_id": call_id, "user": "web-" + hall}


@pytest.mark.parametrize(("size", "name"), [(PC, "pc"), (PHONE, "phone")])
def test_the_dashboard_reads_in_chinese_at_a_pc_and_a_phone(
    platform: ServiceProcess, scene: dict[str, Any], size: tuple[int, int], name: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    with chromium(size) as driver:
        log_in(driver, platform.base_url, scene["user"])
        wait_for(driver, "return document.getElementById('live').textContent === '实时'")
        text = driver.find_element("tag name", "body").text
        for words in (
            "缺纸",
            "待响应",
            "在「打印失败」",
            "缺纸，请加纸",
            "离线受理中",
            "待提交 2 件",
            "营业中",
        ):
            assert words in text, words
        assert fits_width(driver), "the page scrolls sideways"
        assert all(url.startswith(platform.base_url) for url in resources_loaded(driver))
        shot = tmp_path / f"dashboard-{name}.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        keep(shot)


def test_answering_a_call_and_sending_a_command_from_the_page(
    platform: ServiceProcess, scene: dict[str, Any], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    kiosk, call_id = scene["kiosk"], scene["call_id"]
    with chromium(PC) as driver:
        log_in(driver, platform.base_url, scene["user"])
        wait_for(
            driver, f"return document.querySelector('[data-call=\"{call_id}\"] button.primary')"
        )
        click(driver, f'[data-call="{call_id}"] button.primary')
        wait_for(
            driver,
            f"return document.querySelector('[data-call=\"{call_id}\"]')?.className.includes('acknowledged')",
        )
        assert kiosk.heartbeat(beat()).json()["help_calls"] == [
            {"call_id": call_id, "status": "acknowledged", "staff": "张组长"}
        ]
        card = f'[data-terminal="{kiosk.id}"]'
        click(driver, f'{card} button[data-command="lock"]')
        assert "锁定" in driver.find_element(By.ID, "confirm-text").text
        click(driver, "#confirm-ok")
        commands = wait_for(
            driver, "return document.querySelectorAll('#commands [data-command-id]').length"
        )
        assert commands == 1
        delivered = kiosk.heartbeat(beat()).json()["commands"]
        assert [c["kind"] for c in delivered] == ["lock"]
        shot = tmp_path / "dashboard-answered.png"
        driver.save_screenshot(str(shot))
        keep(shot)


def test_without_a_login_the_page_goes_to_the_login_form(
    platform: ServiceProcess, scene: dict[str, Any]
) -> None:
    with chromium(PHONE) as driver:
        driver.get(f"{platform.base_url}/halls/{scene['hall']}")
        assert driver.current_url.endswith("/halls/login")
        assert "工作人员登录" in driver.find_element("tag name", "body").text


def keep(shot: Path) -> None:
    folder = os.environ.get(SHOTS_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(folder) / shot.name)
