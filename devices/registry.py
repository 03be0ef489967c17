"""Picks each device's backend by its config name.

The table below is the whole registry: adding a backend means adding a line here. Backend modules are
imported only when built, so a kiosk without a receipt printer never needs python-escpos.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from .errors import DriverMissing, UnknownBackend

# device kind -> backend name -> "module:factory"
BACKENDS: Mapping[str, Mapping[str, str]] = {
    "id_card": {
        "serial": "devices.id_card.reader:SerialIdCardReader.from_config",
        "sim": "devices.id_card.simulator:simulated_reader",
    },
    "qr_camera": {
        "camera": "devices.qr.scanner:QrScanner.from_config",
        "sim": "devices.qr.scanner:QrScanner.sim_from_config",  # a video file or image sequence, with faults
    },
    "a4_printer": {
        "cups": "devices.a4_printer.cups_backend:CupsPrinter.from_config",
    },
    "receipt_printer": {
        "escpos-usb": "devices.receipt.backends:usb_printer",
        "escpos-serial": "devices.receipt.backends:serial_printer",
        "escpos-network": "devices.receipt.backends:network_printer",
        "escpos-file": "devices.receipt.backends:file_printer",
        "sim": "devices.receipt.backends:network_printer",  # the TCP simulator on 127.0.0.1
    },
}

# import name of a driver library -> what to install
INSTALL_HINTS: Mapping[str, str] = {
    "serial": "pip install pyserial",
    "cv2": "pip install opencv-python-headless (never together with opencv-python)",
    "zxingcpp": "pip install zxing-cpp",
    "pyzbar": "pip install pyzbar and apt install libzbar0",
    "escpos": "pip install python-escpos",
    "usb": "pip install pyusb and apt install libusb-1.0-0",
    "cups": "apt install libcups2-dev, then pip install pycups",
}


def backend_names(kind: str) -> list[str]:
    if kind not in BACKENDS:
        raise UnknownBackend(f"unknown device kind {kind!r}; known: {', '.join(sorted(BACKENDS))}")
    return sorted(BACKENDS[kind])


def resolve(kind: str, name: str) -> Any:
    """The factory for `kind`/`name`, importing its module now."""
    names = backend_names(kind)
    if name not in BACKENDS[kind]:
        raise UnknownBackend(
            f"unknown {kind} backend {name!r}; choose one of: {', '.join(names)}",
        )
    module_name, _, attr_path = BACKENDS[kind][name].partition(":")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as exc:
        missing = (exc.name or "").split(".")[0]
        hint = INSTALL_HINTS.get(missing)
        if hint is None:
            raise
        raise DriverMissing(
            f"{kind} backend {name!r} needs the {missing!r} library: {hint}"
        ) from exc
    for part in attr_path.split("."):
        target = getattr(target, part)
    return target


def create(kind: str, name: str, options: Mapping[str, Any] | None = None) -> Any:
    """Build the backend `name` for device `kind` from its config options."""
    return resolve(kind, name)(dict(options or {}))
