"""A whole kiosk on real parts: the reference service, a private cupsd, the receipt simulator on TCP,
the ID card simulator on a pty and the camera on an image sequence; wired by the real composition root.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from devices.receipt.simulator import ReceiptSimulator, SimulatorSettings
from kiosk.compose import Kiosk, build_kiosk
from kiosk.config import load_config
from kiosk.staff import hash_pin

from .cups_server import CupsServer
from .platform_client import ServiceProcess, cli

STAFF_PIN = "24681357"


@dataclass
class Rig:
    kiosk: Kiosk
    cups: CupsServer
    receipts: ReceiptSimulator
    a4_output: Path
    frames: Path

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out; journey at {self.kiosk.journey.step}")

    def close(self) -> None:
        self.kiosk.close()
        self.receipts.stop()


def blank_frames(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(folder / "0.png"), np.full((480, 640), 255, np.uint8))
    return folder


def build_rig(
    platform: ServiceProcess,
    cups: CupsServer,
    workdir: Path,
    cards: list[dict[str, Any]],
    *,
    queue: str = "KioskA4",
) -> Rig:
    a4_output = cups.add_queue(queue)
    receipts = ReceiptSimulator(settings=SimulatorSettings(chinese_default=False)).start()
    token = cli(
        "terminals", "add-token", "--db", platform.db, "--hall", "hall-e2e", "--region", "gansu"
    )
    (workdir / "token").write_text(token.stdout.strip())
    (workdir / "staff.pin").write_text(hash_pin(STAFF_PIN, iterations=1000))
    frames = blank_frames(workdir / "frames")
    config = {
        "platform": {"url": platform.base_url},
        "terminal": {
            "state_dir": str(workdir / "state"),
            "hall_name": "测试政务服务中心",
            "enrollment_token_file": str(workdir / "token"),
            "staff_pin_file": str(workdir / "staff.pin"),
        },
        "devices": {
            "id_card": {"backend": "sim", "cards": cards},
            "qr_camera": {"backend": "sim", "source": str(frames)},
            "a4_printer": {"backend": "cups", **cups.printer_config(queue)},
            "receipt_printer": {
                "backend": "sim",
                "host": "127.0.0.1",
                "port": receipts.port,
                "supports_paper_status": True,
            },
        },
    }
    path = workdir / "kiosk.toml"
    path.write_text(_toml(config), encoding="utf-8")
    kiosk = build_kiosk(load_config(path))
    return Rig(kiosk, cups, receipts, a4_output, frames)


def _toml(config: dict[str, Any], prefix: str = "") -> str:
    """Enough TOML for the rig's config: tables of scalars, lists of inline tables as JSON."""
    scalars, tables = [], []
    for key, value in config.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            scalars.append(f"{key} = {_value(value)}")
    out = ([f"[{prefix}]"] if prefix and scalars else []) + scalars
    for key, value in tables:
        out.append(_toml(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(out) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + "}"
    return _value(value)
