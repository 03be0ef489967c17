"""A whole kiosk on simulated hardware and the reference platform, for `kiosk demo`, the benchmarks and
the end-to-end tests: a `report-service serve` process, a private cupsd with a file-backed A4 queue,
the ESC/POS simulator on TCP, the ID card simulator on a pty and the camera on an image sequence.

The platform is driven only through its command line (the kiosk never imports `report_service`).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np

from devices.a4_printer.private_cups import CupsServer, free_port
from devices.qr.render import place, render_qr
from devices.receipt.device import self_test_receipt
from devices.receipt.simulator import ReceiptSimulator, SimulatorSettings

from .compose import Kiosk, build_kiosk
from .config import load_config
from .staff import hash_pin

log = logging.getLogger(__name__)

DEMO_PEOPLE = Path(__file__).with_name("demo_people.jsonl")  # platform import lines
DEMO_CARDS = Path(__file__).with_name("demo_cards.jsonl")  # the card simulator's cards
DEMO_REGION = "gansu"
DEMO_STAFF_PIN = "24681357"
A4_QUEUE = "KioskA4"
FRAME_SIZE = (640, 480)


@dataclass(frozen=True)
class DemoStaff:
    """The demo hall's staff account (a demo's, printed on the console: never a real one)."""

    username: str = "demo-staff"
    password: str = "demo-staff-2026"
    display_name: str = "值班员小李"


DEMO_HALL = "demo-hall"


@dataclass(frozen=True)
class DemoPerson:
    """One of the demo's synthetic people, with the card the card simulator holds for them."""

    name: str
    id_number: str
    enterprises: tuple[str, ...]  # USCCs, in the order of the import file
    card: dict[str, Any]

    @property
    def masked(self) -> str:
        return self.name[0] + "*" * (len(self.name) - 1)


def demo_people() -> list[DemoPerson]:
    """The demo's people in the order of the simulator's cards file: two enterprises, one
    enterprise, an expired card (the reader refuses it before the platform is asked), the holder
    of a 2017 foreigner permanent residence card (a 15-character number), and a card read whole
    whose number the kiosk cannot accept (its check digit is wrong)."""
    roles: dict[str, tuple[str, ...]] = {}
    for line in DEMO_PEOPLE.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["type"] == "person":
            roles[row["id_number"]] = tuple(role["uscc"] for role in row["roles"])
    cards = [json.loads(line) for line in DEMO_CARDS.read_text(encoding="utf-8").splitlines()]
    return [DemoPerson(c["name"], c["id_number"], roles.get(c["id_number"], ()), c) for c in cards]


class Platform:
    """A `report-service serve` process on a loopback port, and its command line."""

    def __init__(self, db: str, workdir: Path, *, port: int | None = None) -> None:
        self.db = db
        self.workdir = workdir
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "platform.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "report_service", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"report-service {args[0]} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def seed(self, entities: int = 200, seed: int = 1) -> None:
        """Synthetic enterprises of the demo region plus the demo's own people (idempotent)."""
        if not Path(self.db).exists():
            self.cli(
                "seed", "--db", self.db, "--region", DEMO_REGION, "--entities", str(entities),
                "--seed", str(seed),
            )  # fmt: skip
        self.cli("import", "--db", self.db, str(DEMO_PEOPLE))

    def add_token(self, hall: str) -> str:
        return self.cli(
            "terminals", "add-token", "--db", self.db, "--hall", hall, "--region", DEMO_REGION
        )

    def open_hall(self, hall: str, staff: DemoStaff) -> str:
        """The demo hall, open all day, and a staff account for its dashboard; returns its URL."""
        self.cli("halls", "set-hours", "--db", self.db, "--hall", hall, "--region", DEMO_REGION,
                 "--name", "兰州新区政务服务中心", "--hours", "mon-sun 00:00-24:00")  # fmt: skip
        self.cli("staff", "add", "--db", self.db, "--hall", hall, "--region", DEMO_REGION,
                 "--username", staff.username, "--role", "hall_admin",
                 "--display-name", staff.display_name, stdin=staff.password + "\n")  # fmt: skip
        return f"{self.base_url}/halls/{hall}"

    def login_qr(self, id_number: str) -> str:
        return self.cli("issue-login-qr", "--db", self.db, "--id-number", id_number)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 60.0) -> Platform:
        if self.running:
            return self
        with open(self.log_path, "ab") as out:
            self._proc = subprocess.Popen(
                [
                    sys.executable, "-m", "report_service", "serve", "--db", self.db,
                    "--host", "127.0.0.1", "--port", str(self.port),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the platform exited; see {self.log_path}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"the platform did not answer within {timeout:.0f} s; see {self.log_path}"
        )

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None


class Camera:
    """The simulated camera's image sequence: a blank frame, or a QR code someone holds up."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.clear()

    def show(self, text: str) -> None:
        frame = place(render_qr(text, module_px=4), *FRAME_SIZE)
        self._write(frame)

    def clear(self) -> None:
        self._write(np.full((FRAME_SIZE[1], FRAME_SIZE[0]), 255, np.uint8))

    def _write(self, frame: Any) -> None:
        # write then rename: the scanner never reads half a file
        tmp = self.folder / "next.tmp.png"
        cv2.imwrite(str(tmp), frame)
        tmp.replace(self.folder / "0.png")


@dataclass
class Rig:
    kiosk: Kiosk
    cups: CupsServer
    receipts: ReceiptSimulator
    camera: Camera
    a4_output: Path
    self_test: dict[str, Any] = field(default_factory=dict)  # kiosk-provision self-test --json

    def insert_card(self, index: int) -> None:
        self.kiosk.devices["id_card"].simulator.insert(index)

    def remove_card(self) -> None:
        self.kiosk.devices["id_card"].simulator.remove()

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        raise TimeoutError(f"timed out; the journey is at {self.kiosk.journey.step.value}")

    def close(self) -> None:
        self.kiosk.close()
        self.receipts.stop()
        self.cups.stop()


def build_rig(
    workdir: Path,
    platform_url: str,
    enrollment_token: str,
    cards: Sequence[Mapping[str, Any]] | Path,
    *,
    ui: Mapping[str, Any] | None = None,
    offline: Mapping[str, Any] | None = None,
    hall: Mapping[str, Any] | None = None,
    hall_name: str = "兰州新区政务服务中心",
    state_dir: Path | None = None,
    provision: bool = False,
) -> Rig:
    """Start the simulated devices and build the kiosk through its real composition root.

    `cards`: the card simulator's cards, inline or as a cards file (the demo's: nothing about its
    people is written anywhere by the rig). `provision`: enroll and self-test the terminal with
    `kiosk-provision`, as a technician does (otherwise the kiosk enrolls on its first start)."""
    workdir.mkdir(parents=True, exist_ok=True)
    cups = CupsServer().start()
    receipts = ReceiptSimulator(settings=SimulatorSettings(chinese_default=False)).start()
    try:
        a4_output = cups.add_queue(A4_QUEUE)
        token_file = workdir / "enrollment.token"
        token_file.write_text(enrollment_token.strip() + "\n", encoding="utf-8")
        pin_file = workdir / "staff-pin.hash"
        pin_file.write_text(hash_pin(DEMO_STAFF_PIN, iterations=10_000), encoding="utf-8")
        camera = Camera(workdir / "camera")
        config = {
            "platform": {"url": platform_url},
            "terminal": {
                "state_dir": str(state_dir or workdir / "state"),
                "hall_name": hall_name,
                "enrollment_token_file": str(token_file),
                "staff_pin_file": str(pin_file),
            },
            "ui": dict(ui or {}),
            # retries within seconds, so a platform that comes back is seen at once
            "offline": {"drain_backoff_base_s": 0.5, "drain_backoff_cap_s": 3, **(offline or {})},
            # the dashboard follows the demo closely: a heartbeat every 10 s (the least allowed)
            "hall": {"heartbeat_interval_s": 10, "service_desk": "一楼综合咨询台", **(hall or {})},
            "devices": {
                "id_card": {"backend": "sim", **card_option(cards)},
                "qr_camera": {"backend": "sim", "source": str(camera.folder)},
                "a4_printer": {"backend": "cups", **cups.printer_config(A4_QUEUE)},
                "receipt_printer": {
                    "backend": "sim",
                    "host": "127.0.0.1",
                    "port": receipts.port,
                    "supports_paper_status": True,
                },
            },
        }
        path = workdir / "kiosk.toml"
        path.write_text(to_toml(config), encoding="utf-8")
        self_test: dict[str, Any] = {}
        if provision:
            provision_cli("enroll", "--config", str(path), "--platform", platform_url,
                          "--token-file", str(token_file))  # fmt: skip
            camera.show(str(self_test_receipt("sim", 80).qr_payload))  # the test receipt, held up
            self_test = json.loads(provision_cli("self-test", "--config", str(path), "--json"))
            camera.clear()
        kiosk = build_kiosk(load_config(path))
    except BaseException:
        receipts.stop()
        cups.stop()
        raise
    return Rig(kiosk, cups, receipts, camera, a4_output, self_test)


def provision_cli(*args: str) -> str:
    """Run `kiosk-provision` as a technician would (the kiosk does not import provisioning)."""
    done = subprocess.run(
        [sys.executable, "-m", "provisioning", *args],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(
            f"kiosk-provision {args[0]} failed ({done.returncode}): {done.stderr.strip()}"
        )
    return done.stdout


def card_option(cards: Sequence[Mapping[str, Any]] | Path) -> dict[str, Any]:
    if isinstance(cards, Path):
        return {"cards_file": str(cards)}
    return {"cards": [dict(c) for c in cards]}


def to_toml(config: Mapping[str, Any], prefix: str = "") -> str:
    """Enough TOML for a kiosk config: tables of scalars; lists of tables as inline tables."""
    scalars, tables = [], []
    for key, value in config.items():
        if isinstance(value, Mapping):
            tables.append((key, value))
        else:
            scalars.append(f"{key} = {_value(value)}")
    out = ([f"[{prefix}]"] if prefix and scalars else []) + scalars
    for key, value in tables:
        out.append(to_toml(value, f"{prefix}.{key}" if prefix else key))
    return "\n".join(out) + "\n"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
