"""A terminal to provision: a kiosk config on simulators that drive the real protocol code (private
cupsd with a file-backed A4 queue, the ESC/POS TCP simulator, the GA/T 467 card simulator on a pty,
the camera on an image folder) and `kiosk-provision` run as a technician runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devices.a4_printer.private_cups import CupsServer
from devices.receipt.simulator import ReceiptSimulator, SimulatorSettings
from kiosk.demo_rig import Camera, to_toml

from .platform_client import ROOT, ServiceProcess, cli

CARD = {
    "card_type": "resident", "name": "测试甲", "sex": "男", "nation": "汉",
    "birth_date": "1990-03-07", "address": "测试省测试市测试路1号", "id_number": "110101199003071233",
    "authority": "测试市公安局", "valid_from": "2020-01-01", "valid_until": "2040-01-01",
}  # fmt: skip
COMMENT = "# the technician's note: printer on the left of the counter"


def provision(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioning", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, input=stdin,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def token(platform: ServiceProcess, hall: str = "hall-prov") -> str:
    made = cli("terminals", "add-token", "--db", platform.db, "--hall", hall, "--region", "gansu")
    return made.stdout.strip()


@dataclass
class Terminal:
    folder: Path
    config: Path
    cups: CupsServer
    receipts: ReceiptSimulator
    camera: Camera
    platform: ServiceProcess

    def write_config(self, **devices: dict[str, Any]) -> None:
        config: dict[str, Any] = {
            "platform": {"url": self.platform.base_url},
            "terminal": {"state_dir": "state", "hall_name": "测试大厅"},
            "devices": {
                "id_card": {"backend": "sim", "cards": [CARD]},
                "qr_camera": {"backend": "sim", "source": str(self.camera.folder)},
                "a4_printer": {"backend": "cups", **self.cups.printer_config("KioskA4", job_timeout_s=20)},
                "receipt_printer": {"backend": "sim", "host": "127.0.0.1", "port": self.receipts.port,
                                    "supports_paper_status": True},
            },
        }  # fmt: skip
        config["devices"].update(devices)
        self.config.write_text(COMMENT + "\n" + to_toml(config), encoding="utf-8")

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return provision(*args, "--config", str(self.config), stdin=stdin)

    def enroll(self) -> dict[str, Any]:
        file = self.folder / "token"
        file.write_text(token(self.platform))
        done = self.run(
            "enroll", "--platform", self.platform.base_url, "--token-file", str(file), "--json"
        )
        assert done.returncode == 0, done.stderr
        return dict(json.loads(done.stdout))

    def self_test(self, *extra: str) -> tuple[int, dict[str, Any], str]:
        done = self.run("self-test", "--json", *extra)
        return done.returncode, json.loads(done.stdout), done.stderr


@pytest.fixture
def kiosk_terminal(tmp_path: Path, platform: ServiceProcess) -> Iterator[Terminal]:
    cups = CupsServer().start()
    receipts = ReceiptSimulator(settings=SimulatorSettings(chinese_default=False)).start()
    try:
        cups.add_queue("KioskA4")
        t = Terminal(
            tmp_path, tmp_path / "kiosk.toml", cups, receipts, Camera(tmp_path / "camera"), platform
        )
        t.write_config()
        yield t
    finally:
        receipts.stop()
        cups.stop()


def outcome(report: dict[str, Any], check: str) -> dict[str, Any]:
    return next(c for c in report["checks"] if c["check"] == check)
