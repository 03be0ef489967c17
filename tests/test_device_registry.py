"""The device registry: backends by config name, clear errors, and no import-time side effects."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devices import registry
from devices.errors import ConfigError, DriverMissing, UnknownBackend
from devices.state import DeviceState

ROOT = Path(__file__).resolve().parents[1]


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_every_kind_lists_its_backends() -> None:
    assert registry.backend_names("receipt_printer") == [
        "escpos-file",
        "escpos-network",
        "escpos-serial",
        "escpos-usb",
        "sim",
    ]
    assert registry.backend_names("id_card") == ["serial", "sim"]


def test_an_unknown_backend_names_the_choices() -> None:
    with pytest.raises(UnknownBackend, match="choose one of: cups"):
        registry.create("a4_printer", "lpr", {})
    with pytest.raises(UnknownBackend, match="unknown device kind 'scanner'"):
        registry.create("scanner", "sim", {})


def test_a_missing_driver_library_says_what_to_install() -> None:
    result = python(
        "import sys; sys.modules['cups'] = None\n"  # as if pycups were not installed
        "from devices import registry\n"
        "from devices.errors import DriverMissing\n"
        "try:\n"
        "    registry.create('a4_printer', 'cups', {'queue': 'KioskA4'})\n"
        "except DriverMissing as exc:\n"
        "    print(exc.code, exc.detail)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("device.driver_missing")
    assert "libcups2-dev" in result.stdout and "pycups" in result.stdout
    assert issubclass(DriverMissing, ConfigError)


def test_importing_the_device_layer_loads_no_driver_and_starts_nothing() -> None:
    result = python(
        "import sys, threading, json\n"
        "import devices, devices.registry, devices.state, devices.errors\n"
        "drivers = [m for m in ('cups', 'cv2', 'escpos', 'serial', 'zxingcpp', 'pyzbar') if m in sys.modules]\n"
        "print(json.dumps({'drivers': drivers, 'threads': threading.active_count()}))\n"
    )
    assert json.loads(result.stdout) == {"drivers": [], "threads": 1}


def test_bad_options_are_refused_by_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="paper_mm"):
        registry.create(
            "receipt_printer", "escpos-file", {"path": str(tmp_path / "r.bin"), "paper_mm": 76}
        )
    with pytest.raises(ConfigError, match="queue"):
        registry.create("a4_printer", "cups", {})


def test_simulated_devices_built_by_name_run_their_self_test(tmp_path: Path) -> None:
    reader = registry.create("id_card", "sim", {"cards": []})
    try:
        result = reader.self_test()
        assert result.device == "id_card" and result.ok, result.as_dict()
        assert reader.status().state is DeviceState.ONLINE
    finally:
        reader.close()
    receipt = registry.create("receipt_printer", "escpos-file", {"path": str(tmp_path / "r.bin")})
    try:
        assert receipt.self_test().device == "receipt_printer"
    finally:
        receipt.close()
