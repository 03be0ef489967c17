"""`kiosk-provision self-test` on the simulators and a real platform: a pass, and one clear line with
the step to take for each injected fault."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from devices.a4_printer.private_cups import free_port
from devices.receipt.device import self_test_receipt
from provisioning.configfile import load_kiosk_config
from provisioning.output import Progress
from provisioning.selftest import CHECKS, Check, Options, run_self_test

from .provision_support import Terminal, outcome

TEST_RECEIPT = self_test_receipt("sim", 80)
assert TEST_RECEIPT.qr_payload is not None  # the self-test receipt carries a QR
TEST_QR: str = TEST_RECEIPT.qr_payload


def test_a_healthy_terminal_passes_with_a_test_page_and_a_test_receipt(
    kiosk_terminal: Terminal,
) -> None:
    t = kiosk_terminal
    t.enroll()
    t.camera.show(TEST_QR)
    status, report, _ = t.self_test()
    assert status == 0 and report["ok"], report
    assert outcome(report, "qr_camera")["summary"] == "frames ok, the test QR decoded"
    assert "test page printed" in outcome(report, "a4_printer")["summary"]
    assert t.cups.output_path("KioskA4").read_bytes().startswith(b"%PDF")
    assert any(r.qr_payloads == [TEST_QR] for r in t.receipts.receipts)
    assert (
        outcome(report, "platform")["outcome"] == "pass"
        and "accepted" in outcome(report, "platform")["summary"]
    )
    assert outcome(report, "id_card")["outcome"] == "warn"  # no card on the reader: a warning
    table = t.run("self-test", "--no-print")
    assert "通过 pass" in table.stdout and "读卡器 ID card reader" in table.stdout
    strict = t.run("self-test", "--no-print", "--strict", "--only", "id_card")
    assert strict.returncode == 1 and "put a test ID card on the reader" in strict.stdout


def test_each_printer_fault_is_one_line_with_its_step(kiosk_terminal: Terminal) -> None:
    t = kiosk_terminal
    for reason, words in (
        ("media-empty-error", "A4 printer out of paper"),
        ("media-jam-error", "A4 printer paper jam"),
        ("cover-open", "A4 printer cover open"),
    ):
        t.cups.set_reasons("KioskA4", reason)
        status, report, _ = t.self_test("--only", "a4_printer")
        check = outcome(report, "a4_printer")
        assert status == 1 and words in check["summary"], check
        assert "cupsenable KioskA4" in check["step"] or "close" in check["step"]
    t.cups.set_reasons("KioskA4")
    for setting, value, words in (
        ("paper", "out", "receipt printer out of paper"),
        ("cover_open", True, "receipt printer cover open"),
    ):
        setattr(t.receipts.settings, setting, value)
        status, report, _ = t.self_test("--only", "receipt_printer")
        assert status == 1 and words in outcome(report, "receipt_printer")["summary"]
        setattr(t.receipts.settings, setting, "full" if setting == "paper" else False)


def test_a_silent_reader_and_a_black_or_missing_camera_fail(kiosk_terminal: Terminal) -> None:
    t = kiosk_terminal
    t.write_config(
        id_card={"backend": "sim", "cards": [], "faults": {"no_reply": True}, "timeout_s": 0.3},
        qr_camera={"backend": "camera", "source": "/dev/video-kiosk-missing"},
    )
    status, report, _ = t.self_test("--only", "id_card", "--only", "qr_camera")
    assert status == 1
    assert "card reader silent" in outcome(report, "id_card")["summary"]
    assert "check the reader's power and cable" in outcome(report, "id_card")["step"]
    assert "camera missing" in outcome(report, "qr_camera")["summary"]
    import cv2

    cv2.imwrite(str(t.camera.folder / "0.png"), np.zeros((480, 640), np.uint8))
    t.write_config()
    status, report, _ = t.self_test("--only", "qr_camera")
    assert status == 1 and "camera picture is black" in outcome(report, "qr_camera")["summary"]


def test_platform_away_clock_skewed_and_disk_nearly_full(kiosk_terminal: Terminal) -> None:
    t = kiosk_terminal
    t.enroll()
    config = load_kiosk_config(t.config)
    skewed = run_self_test(
        config,
        Options(only=("platform",), clock=lambda: time.time() + 600),
        Progress(enabled=False),
    )
    (result,) = skewed.results
    assert (
        result.outcome == "fail"
        and "clock skewed" in result.summary
        and "clock is +60" in result.summary
    )  # the Date header has 1 s steps
    assert "timedatectl" in result.step
    status, report, _ = t.self_test("--only", "disk", "--min-free-mb", str(10**9))
    assert status == 1 and "disk nearly full" in outcome(report, "disk")["summary"]
    text = t.config.read_text().replace(t.platform.base_url, f"http://127.0.0.1:{free_port()}")
    t.config.write_text(text)
    status, report, _ = t.self_test("--only", "platform")
    assert status == 1 and "platform unreachable" in outcome(report, "platform")["summary"]


def test_a_tls_certificate_for_another_name_is_named_as_such(
    kiosk_terminal: Terminal, tmp_path: Path
) -> None:
    from .tls_support import tls_platform

    with tls_platform(kiosk_terminal.platform.db, tmp_path, names=("other.example",)) as (url, ca):
        text = kiosk_terminal.config.read_text().replace(kiosk_terminal.platform.base_url, url)
        kiosk_terminal.config.write_text(
            text.replace("[platform]", f'[platform]\nca_bundle = "{ca}"', 1)
        )
        status, report, _ = kiosk_terminal.self_test("--only", "platform")
    check = outcome(report, "platform")
    assert status == 1 and "TLS certificate does not match" in check["summary"], check


def test_a_file_a_check_cannot_open_fails_that_row_and_the_rest_still_run(
    kiosk_terminal: Terminal,
) -> None:
    """A key or device file of the wrong owner (PermissionError; root, running the tests, cannot
    be refused one for real)."""

    def unreadable(config: Any, options: Options, check: Check) -> Any:
        raise PermissionError(13, "Permission denied", "/var/lib/credit-kiosk/terminal.key")

    checks = (Check("platform", "平台连接", "platform", unreadable),
              *(c for c in CHECKS if c.key == "disk"))  # fmt: skip
    report = run_self_test(load_kiosk_config(kiosk_terminal.config), Options(),
                           Progress(enabled=False), checks)  # fmt: skip
    first, second = report.results
    assert not report.ok and first.outcome == "fail" and second.outcome == "pass"
    assert "terminal.key" in first.as_dict()["summary"], first.as_dict()
