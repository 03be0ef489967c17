"""The verify page for phones and PCs (DESIGN §10, issue 14) in a real headless Chromium from
Debian's `chromium` and `chromium-driver` packages, against a real `report-service serve`:
status in large words, the report's facts, a PDF checked by its SHA-256 in the browser, nothing
loaded from anywhere else, readable at 390×844 and 1920×1080 (screenshots in the test's tmp_path).
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from .casebook import company_and_person, id_number, uscc
from .conftest import import_jsonl
from .platform_client import ServiceProcess, TerminalClient, cli

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
COMPANY = uscc("gansu", 8201)
PERSON = id_number("gansu", 821)
ENTITY = "兰州核验页测试科技有限公司"
SIZES = {"phone": (390, 844, True), "pc": (1920, 1080, False)}

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="Debian's chromium and chromium-driver are not installed (make setup installs them)",
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="verify-page-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)  # with the Service path: Selenium Manager stays out
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={profile}", "--lang=zh-CN",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def reports(
    platform: ServiceProcess,
    gansu_terminal: TerminalClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("verify-page")
    lines = company_and_person("gansu", COMPANY, ENTITY, PERSON, "核验页人", "agent")
    import_jsonl(platform, workdir / "p.jsonl", lines)
    token = gansu_terminal.login_card(PERSON, "核验页人")["session_token"]

    def issue() -> dict[str, Any]:
        r = gansu_terminal.report(token, COMPANY, "2023-01-01", "2024-12-31")
        assert r.status_code == 201, r.text
        return dict(r.json())

    valid, revoked, expired = issue(), issue(), issue()
    pdf = gansu_terminal.request("GET", f"/v1/reports/{valid['report_id']}/pdf", token=token)
    genuine = workdir / "report.pdf"
    genuine.write_bytes(pdf.content)
    tampered = workdir / "tampered.pdf"
    tampered.write_bytes(pdf.content.replace(b"/Producer", b"/Producex", 1))
    cli("reports", "revoke", "--db", platform.db, revoked["report_id"])
    with sqlite3.connect(platform.db) as conn:  # its validity has run out (30 days ago)
        conn.execute(
            "UPDATE reports SET valid_until = '2020-01-31' WHERE report_id = ?",
            (expired["report_id"],),
        )
    return {
        "valid": valid, "revoked": revoked, "expired": expired,
        "genuine": genuine, "tampered": tampered,
    }  # fmt: skip


def open_page(browser: Any, url: str, size: str) -> None:
    width, height, mobile = SIZES[size]
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )
    browser.get(url)


def layout(browser: Any) -> dict[str, Any]:
    return dict(
        browser.execute_script(
            """
            const word = document.getElementById('status-word');
            const box = word.getBoundingClientRect();
            return {
              word: word.textContent,
              wordPx: parseFloat(getComputedStyle(word).fontSize),
              wordBottom: box.bottom,
              viewWidth: window.innerWidth,
              viewHeight: window.innerHeight,
              scrollWidth: document.documentElement.scrollWidth,
              bodyPx: parseFloat(getComputedStyle(document.body).fontSize),
              text: document.body.innerText,
              resources: performance.getEntriesByType('resource').map(e => e.name),
              lang: document.documentElement.lang,
            };
            """
        )
    )


def screenshot(browser: Any, path: Path, size: str) -> None:
    browser.save_screenshot(str(path))
    with Image.open(path) as image:
        assert image.size == SIZES[size][:2]
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 20  # drawn text


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_valid_report_reads_at_phone_and_pc_size(
    platform: ServiceProcess, browser: Any, reports: dict[str, Any], size: str, tmp_path: Path
) -> None:
    report = reports["valid"]
    open_page(browser, f"{platform.base_url}/v1/verify/{report['verification_code']}", size)
    page = layout(browser)
    assert page["word"] == "有效" and page["lang"] == "zh-CN"
    assert page["wordPx"] >= 40 and page["wordPx"] >= 2.5 * page["bodyPx"]  # large words
    assert page["wordBottom"] <= page["viewHeight"]  # the status without scrolling
    assert page["scrollWidth"] <= page["viewWidth"]  # nothing runs off the side
    for fact in (ENTITY, COMPANY, "2023-01-01 至 2024-12-31", report["sha256"], "市场监管"):
        assert fact in page["text"], fact
    assert "证明领域（38个）" in page["text"] and "出具时间" in page["text"]
    assert page["resources"] == []  # no script, style or font from anywhere
    screenshot(browser, tmp_path / f"verify-valid-{size}.png", size)


def test_a_pdf_is_checked_in_the_browser(
    platform: ServiceProcess, browser: Any, reports: dict[str, Any], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url = f"{platform.base_url}/v1/verify/{reports['valid']['verification_code']}"
    open_page(browser, url, "phone")
    for pdf, verdict in ((reports["genuine"], "一致："), (reports["tampered"], "不一致：")):
        browser.find_element(By.ID, "file").send_keys(str(pdf))
        WebDriverWait(browser, 20).until(
            lambda d: d.find_element(By.ID, "result").text.startswith(("一致", "不一致"))
        )
        assert browser.find_element(By.ID, "result").text.startswith(verdict)
        browser.refresh()
    browser.find_element(By.ID, "file").send_keys(str(reports["genuine"]))
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "result").text[:2] == "一致")
    browser.execute_script("document.getElementById('checker').scrollIntoView()")
    screenshot(browser, tmp_path / "verify-checked-phone.png", "phone")


def test_a_pdf_is_checked_where_the_browser_gives_no_webcrypto(
    platform: ServiceProcess, browser: Any, reports: dict[str, Any], tmp_path: Path
) -> None:
    """A phone opening the verify URL over plain http on a hall's network gets no WebCrypto
    (secure origins only): the page's own SHA-256 gives the same verdicts."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    hide = browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": "Object.defineProperty(window, 'crypto', {value: undefined});"},
    )
    try:
        url = f"{platform.base_url}/v1/verify/{reports['valid']['verification_code']}"
        open_page(browser, url, "phone")
        assert browser.execute_script("return window.crypto === undefined")
        empty = tmp_path / "empty.pdf"
        empty.write_bytes(b"")
        for pdf, verdict in (
            (reports["genuine"], "一致："),
            (reports["tampered"], "不一致："),
            (empty, "不一致：所选文件不是本报告，或已被改动。所选文件的SHA-256为 "
                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ):  # fmt: skip
            browser.find_element(By.ID, "file").send_keys(str(pdf))
            WebDriverWait(browser, 20).until(
                lambda d: d.find_element(By.ID, "result").text.startswith(("一致", "不一致"))
            )
            assert browser.find_element(By.ID, "result").text.startswith(verdict)
            browser.refresh()
    finally:
        browser.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": hide["identifier"]}
        )


@pytest.mark.parametrize(
    ("which", "word"), [("revoked", "已撤销"), ("expired", "已过期"), ("unknown", "未找到")]
)
def test_every_status_in_large_words(
    platform: ServiceProcess, browser: Any, reports: dict[str, Any], which: str, word: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    code = "ZZZZZZZZZZZZ" if which == "unknown" else reports[which]["verification_code"]
    for size in sorted(SIZES):
        open_page(browser, f"{platform.base_url}/v1/verify/{code}", size)
        page = layout(browser)
        assert page["word"] == word and page["wordPx"] >= 40
        assert page["scrollWidth"] <= page["viewWidth"]
        screenshot(browser, tmp_path / f"verify-{which}-{size}.png", size)


def test_machines_still_get_json_and_the_page_allows_nothing_foreign(
    platform: ServiceProcess, reports: dict[str, Any]
) -> None:
    url = f"{platform.base_url}/v1/verify/{reports['valid']['verification_code']}"
    machine = httpx.get(url)
    assert machine.headers["content-type"].startswith("application/json")
    assert machine.json()["status"] == "valid"
    page = httpx.get(url, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy
    assert "http" not in page.text.replace(platform.base_url, "")  # no address elsewhere
