"""Registry factories: one dict of config options in, a `ReceiptPrinter` out.

Each key is checked with a precise ConfigError; unknown keys are refused so typos do not pass silently.
Common keys: paper_mm (58|80), profile (a python-escpos profile name), supports_paper_status, qr
("auto"|"native"|"raster"), cut ("auto"|"full"|"partial"|"none"), gb18030_four_byte, timeout_s.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import select
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from escpos.capabilities import get_profile
from escpos.printer import File, Network, Serial, Usb

from ..errors import ConfigError, DriverMissing
from .device import ReceiptPrinter
from .layout import PAPER_WIDTHS, LayoutOptions, PaperWidth
from .transport import FileLink, Link, NetworkLink, SerialLink, UsbLink

COMMON_KEYS = {"paper_mm", "profile", "supports_paper_status", "qr", "cut", "gb18030_four_byte"}
COMMON_KEYS |= {"timeout_s"}
BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
FLOW_CONTROL = ("dsrdtr", "xonxoff", "none")


class _Options:
    """Reads config keys with a ConfigError naming the backend and key on anything wrong."""

    def __init__(self, backend: str, options: Mapping[str, Any], keys: set[str]) -> None:
        if not isinstance(options, Mapping):
            raise ConfigError(f"receipt_printer {backend}: options must be a mapping")
        unknown = sorted(set(options) - keys - COMMON_KEYS)
        if unknown:
            raise ConfigError(
                f"receipt_printer {backend}: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(keys | COMMON_KEYS))}"
            )
        self.backend = backend
        self.options = options

    def _bad(self, key: str, wanted: str) -> ConfigError:
        return ConfigError(
            f"receipt_printer {self.backend}: {key} must be {wanted}, got {self.options[key]!r}"
        )

    def text(self, key: str, default: str | None = None) -> str:
        if key not in self.options:
            if default is None:
                raise ConfigError(f"receipt_printer {self.backend}: {key} is required")
            return default
        value = self.options[key]
        if not isinstance(value, str) or not value.strip():
            raise self._bad(key, "a non-empty string")
        return value

    def choice(self, key: str, choices: tuple[Any, ...], default: Any) -> Any:
        value = self.options.get(key, default)
        if value not in choices or isinstance(value, bool):
            raise self._bad(key, "one of " + ", ".join(map(str, choices)))
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.options.get(key, default)
        if not isinstance(value, bool):
            raise self._bad(key, "true or false")
        return value

    def integer(self, key: str, low: int, high: int, default: int | None = None) -> int:
        if key not in self.options and default is not None:
            return default
        value = self.options.get(key)
        if isinstance(value, str):  # USB ids are written in hex: "0x0416"
            with contextlib.suppress(ValueError):
                value = int(value, 0)
        if key not in self.options:
            raise ConfigError(f"receipt_printer {self.backend}: {key} is required")
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise self._bad(key, f"an integer {low}-{high}")
        return value

    def seconds(self, key: str, default: float, *, allow_zero: bool = False) -> float:
        value = self.options.get(key, default)
        low = 0 if allow_zero else 1e-3
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= 300:
            raise self._bad(key, f"a number of seconds in [{low:g}, 300]")
        return float(value)

    def profile(self) -> tuple[str, Any]:
        """The profile's name (what python-escpos printers take) and its capabilities."""
        name = self.text("profile", "default")
        try:
            return name, get_profile(name)
        except KeyError:
            raise ConfigError(
                f"receipt_printer {self.backend}: unknown python-escpos profile {name!r}"
            ) from None

    def layout(self, profile: Any, paper_mm: PaperWidth) -> LayoutOptions:
        qr = self.choice("qr", ("auto", "native", "raster"), "auto")
        if qr == "auto":  # the profile knows whether the model has GS ( k QR
            qr = "native" if profile.supports("qrCode") else "raster"
        cut = self.choice("cut", ("auto", "full", "partial", "none"), "auto")
        if cut == "auto":
            full, part = profile.supports("paperFullCut"), profile.supports("paperPartCut")
            cut = "full" if full else "partial" if part else "none"
        four_byte_ok = self.flag("gb18030_four_byte", True)
        return LayoutOptions(paper_mm=paper_mm, cut=cut, qr_mode=qr, four_byte_ok=four_byte_ok)


def _build(
    backend: str,
    options: Mapping[str, Any],
    keys: set[str],
    make: Callable[[_Options, str, float], Link],
) -> ReceiptPrinter:
    opts = _Options(backend, options, keys)
    paper_mm = cast(PaperWidth, opts.choice("paper_mm", PAPER_WIDTHS, 80))
    profile_name, profile = opts.profile()
    layout = opts.layout(profile, paper_mm)
    timeout_s = opts.seconds("timeout_s", 5.0)
    supports_status = opts.flag("supports_paper_status", False)
    link = make(opts, profile_name, timeout_s)
    if supports_status and not link.can_read:
        raise ConfigError(f"receipt_printer {backend}: supports_paper_status needs a readable link")
    return ReceiptPrinter(
        link,
        backend=backend,
        supports_paper_status=supports_status,
        layout=layout,
    )


def network_printer(options: Mapping[str, Any]) -> ReceiptPrinter:
    """Raw TCP printer (also the `sim` backend, pointed at the simulator's port)."""

    def make(opts: _Options, profile: str, timeout_s: float) -> Link:
        host = opts.text("host")
        port = opts.integer("port", 1, 65535, 9100)
        reset_check_s = opts.seconds("reset_check_s", 0.1, allow_zero=True)
        printer = Network(host, port=port, timeout=timeout_s, profile=profile)
        where = f"tcp {host}:{port}"
        return NetworkLink(printer, where=where, timeout_s=timeout_s, reset_check_s=reset_check_s)

    return _build("escpos-network", options, {"host", "port", "reset_check_s"}, make)


def serial_printer(options: Mapping[str, Any]) -> ReceiptPrinter:
    def make(opts: _Options, profile: str, timeout_s: float) -> Link:
        port = opts.text("port")
        baudrate = opts.choice("baudrate", BAUD_RATES, 9600)
        flow = opts.choice("flow_control", FLOW_CONTROL, "dsrdtr")
        printer = Serial(
            port,
            baudrate=baudrate,
            timeout=timeout_s,
            dsrdtr=flow == "dsrdtr",
            xonxoff=flow == "xonxoff",
            profile=profile,
        )
        return SerialLink(printer, where=f"serial {port} {baudrate} baud", timeout_s=timeout_s)

    return _build("escpos-serial", options, {"port", "baudrate", "flow_control"}, make)


def usb_printer(options: Mapping[str, Any]) -> ReceiptPrinter:
    def make(opts: _Options, profile: str, timeout_s: float) -> Link:
        vendor = opts.integer("vendor_id", 1, 0xFFFF)
        product = opts.integer("product_id", 1, 0xFFFF)
        in_ep = opts.integer("in_ep", 0x81, 0x8F, 0x82)
        out_ep = opts.integer("out_ep", 0x01, 0x0F, 0x01)
        if importlib.util.find_spec("usb") is None:
            raise DriverMissing(
                "receipt_printer escpos-usb needs pyusb: pip install pyusb and "
                "apt install libusb-1.0-0"
            )
        printer = Usb(
            vendor,
            product,
            timeout=int(timeout_s * 1000),  # pyusb counts milliseconds; 0 would wait forever
            in_ep=in_ep,
            out_ep=out_ep,
            profile=profile,
        )
        return UsbLink(printer, where=f"usb {vendor:04x}:{product:04x}", timeout_s=timeout_s)

    return _build("escpos-usb", options, {"vendor_id", "product_id", "in_ep", "out_ep"}, make)


class _AppendingFile(File):  # type: ignore[misc]  # python-escpos is untyped
    """python-escpos' File truncates on open and blocks without limit on a device file that does
    not take data (printer offline behind /dev/usb/lp0); this one appends and writes with a timeout.
    """

    def __init__(self, devfile: str, *, timeout_s: float, profile: str) -> None:
        super().__init__(devfile, profile=profile)
        self.timeout_s = timeout_s

    def open(self, raise_not_found: bool = True) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK
        try:
            self.device = os.fdopen(os.open(self.devfile, flags, 0o644), "ab", buffering=0)
        except OSError:
            self.device = cast(Any, None)  # python-escpos' "initialised but not connected"
            if raise_not_found:
                raise

    def _raw(self, msg: bytes) -> None:
        fd = self.device.fileno()
        view = memoryview(msg)
        deadline = time.monotonic() + self.timeout_s
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                    raise TimeoutError("device file does not take data") from None


def file_printer(options: Mapping[str, Any]) -> ReceiptPrinter:
    """Appends each job's bytes to `path` (a device file such as /dev/usb/lp0, or a file in tests)."""

    def make(opts: _Options, profile: str, timeout_s: float) -> Link:
        path = opts.text("path")
        if not Path(path).parent.is_dir():
            raise ConfigError(f"receipt_printer escpos-file: directory of {path!r} does not exist")
        printer = _AppendingFile(path, timeout_s=timeout_s, profile=profile)
        return FileLink(printer, where=f"file {path}", timeout_s=timeout_s)

    return _build("escpos-file", options, {"path"}, make)
