"""The staff PIN: hashed on disk, checked in constant time, locked after repeated wrong entries."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.alerts import MAX_ALERTS, StaffAlerts
from kiosk.audit import AuditLog
from kiosk.services import KioskServices
from kiosk.staff import LOCKOUT_S, MAX_FAILURES, StaffLock, hash_pin


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_pin_file_holds_no_pin(tmp_path: Path) -> None:
    line = hash_pin("24681357", iterations=1000)
    assert "24681357" not in line and line.startswith("pbkdf2_sha256$1000$")
    with pytest.raises(ValueError):
        hash_pin("12ab")


def test_lockout_after_repeated_wrong_pins(tmp_path: Path) -> None:
    pin_file = tmp_path / "staff.pin"
    pin_file.write_text(hash_pin("24681357", iterations=1000))
    clock = Clock()
    lock = StaffLock(pin_file, clock=clock)
    assert lock.check("24681357")
    for _ in range(MAX_FAILURES):
        assert not lock.check("00000000")
    assert not lock.check("24681357")  # locked: even the right PIN is refused
    assert lock.locked_for() == LOCKOUT_S
    clock.now += LOCKOUT_S + 1
    assert lock.check("24681357")


def test_no_pin_file_means_no_staff_access(tmp_path: Path) -> None:
    assert not StaffLock(None).check("24681357")
    assert not StaffLock(tmp_path / "missing.pin").check("24681357")
    broken = tmp_path / "broken.pin"
    broken.write_text("garbage")
    assert not StaffLock(broken).check("24681357")


def test_the_staff_status_names_paper_cover_and_error_codes(tmp_path: Path) -> None:
    devices = {
        "a4_printer": {"state": "online", "paper": "low", "cover_open": False, "error_code": ""},
        "receipt_printer": {"state": "user_error", "paper": "out", "cover_open": True,
                            "error_code": "receipt.paper_out"},
        "id_card": {"state": "online", "paper": None, "cover_open": False, "error_code": ""},
    }  # fmt: skip
    audit = AuditLog(None, "T-1")
    alerts = StaffAlerts(audit)
    services = KioskServices(
        None,  # type: ignore[arg-type]  # no platform call is made
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        audit,
        StaffLock(tmp_path / "pin"),
        lambda: devices,
        alerts=alerts,
    )
    for n in range(MAX_ALERTS + 50):
        alerts.add("receipt.paper_out", f"alert {n}")
    status = services.staff_status()
    assert status["a4_printer"] == "online" and status["a4_printer_paper"] == "low"
    assert status["receipt_printer"] == "user_error"
    assert status["receipt_printer_paper"] == "out" and status["receipt_printer_cover"] == "open"
    assert status["receipt_printer_error"] == "receipt.paper_out"
    assert "id_card_paper" not in status and "a4_printer_error" not in status
    assert status["alerts"] == str(MAX_ALERTS)  # the newest only: months of alerts stay bounded
