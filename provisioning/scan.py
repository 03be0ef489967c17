"""`devices scan`: what is plugged into this terminal, and the `devices set` line for each find.

Serial ports (the card reader, serial receipt printers) through pyserial's port list, cameras from
video4linux, CUPS queues (`lpstat -v`) and the printers CUPS can see (`lpinfo -v`: USB, network),
USB printers from sysfs (printer-class interfaces, and vendor-specific ones with no driver, as many
ESC/POS receipt printers have), and ESC/POS printers on the network or a serial port given with
`--probe HOST[:PORT]` / `--probe PATH[@BAUD]`.
"""

from __future__ import annotations

import glob
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices import registry
from devices.errors import DeviceError
from devices.state import DeviceState

from .units import USB_ID

SYSFS = Path("/sys")
LPINFO_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Found:
    kind: str  # a device kind of the config, or "cups_device" for lpinfo's printer URIs
    device: str  # a path, URI or host:port
    description: str
    suggestion: str  # the kiosk-provision command that would use it

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "device": self.device,
            "description": self.description,
            "suggestion": self.suggestion,
        }


def serial_ports() -> list[Found]:
    from serial.tools import list_ports  # pyserial, the card reader's own library

    found = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        if port.vid is None and not Path(port.device).name.startswith(("ttyUSB", "ttyACM")):
            continue  # a motherboard ttyS with nothing behind it
        ids = f"{port.vid:04x}:{port.pid:04x} " if port.vid is not None else ""
        found.append(
            Found(
                "id_card",
                port.device,
                f"serial {ids}{port.description or ''}".strip(),
                f"devices set id_card serial port={port.device}",
            )
        )
    for link in sorted(glob.glob("/dev/kiosk-*")):  # the stable names of our udev rules
        found.append(Found("stable_name", link, f"-> {os.path.realpath(link)}", ""))
    return found


def cameras(sysfs: Path = SYSFS) -> list[Found]:
    found = []
    for node in sorted((sysfs / "class" / "video4linux").glob("video*")):
        index = _read(node / "index")
        if index not in ("", "0"):
            continue  # a camera's second node is its metadata stream
        name = _read(node / "name") or "camera"
        device = f"/dev/{node.name}"
        found.append(
            Found("qr_camera", device, name, f"devices set qr_camera camera source={device}")
        )
    return found


def usb_printers(sysfs: Path = SYSFS) -> list[Found]:
    """USB printer-class interfaces, and vendor-specific ones no driver has taken that can be
    written to (many ESC/POS receipt printers, e.g. Xprinter and GPrinter models, say 0xFF
    rather than 0x07; a USB-serial chip says 0xFF too, but its driver has it). The suggestion
    names the interface's own bulk endpoints: a printer whose differ from python-escpos's
    defaults (in 0x82, out 0x01) takes the job and prints nothing."""
    # one line a device, however many interfaces it has: its first printer-class one, else its
    # first vendor one; (printer class?, the line)
    found: dict[str, tuple[bool, Found]] = {}
    for link in sorted((sysfs / "bus" / "usb" / "devices").glob("*:*")):
        interface = link.resolve()  # a link into /sys/devices, where the device is its parent
        klass = _read(interface / "bInterfaceClass").lower()
        in_ep, out_ep = _bulk_endpoints(interface)
        # usbfs: a libusb program (the kiosk itself, on escpos-usb) has claimed it
        vendor_specific = klass == "ff" and _driver(interface) in ("", "usbfs")
        printer = klass == "07"
        if not (printer or (vendor_specific and out_ep is not None)):
            continue
        device = interface.parent
        vid, pid = _read(device / "idVendor"), _read(device / "idProduct")
        key = f"{vid}:{pid}"
        if USB_ID.match(key) is None or (key in found and (found[key][0] or not printer)):
            continue  # not a device's ids (install --receipt-usb reads them), or already listed
        label = " ".join(
            x for x in (_read(device / "manufacturer"), _read(device / "product")) if x
        ) or ("USB printer" if printer else "USB device")
        if not printer:
            label += " (vendor-specific interface, no driver: perhaps an ESC/POS receipt printer)"
        endpoints = "".join(
            f" {name}=0x{address:02x}"
            for name, address in (("in_ep", in_ep), ("out_ep", out_ep))
            if address is not None
        )
        found[key] = (
            printer,
            Found(
                "receipt_printer",
                f"usb {key}",
                label,
                f"devices set receipt_printer escpos-usb vendor_id=0x{vid} product_id=0x{pid}"
                + endpoints,
            ),
        )
    return [line for _, line in found.values()]


def _driver(interface: Path) -> str:
    link = interface / "driver"
    return link.resolve().name if link.exists() else ""


def _bulk_endpoints(interface: Path) -> tuple[int | None, int | None]:
    """The first bulk IN and OUT endpoint addresses of a USB interface (sysfs ep_XX/), each only
    where the receipt backend accepts it (IN 0x81-0x8F, OUT 0x01-0x0F)."""
    found: dict[str, int] = {}
    for endpoint in sorted(interface.glob("ep_*")):
        try:
            address = int(_read(endpoint / "bEndpointAddress"), 16)
        except ValueError:
            continue
        direction = _read(endpoint / "direction")
        if _read(endpoint / "type") == "Bulk" and direction in ("in", "out"):
            found.setdefault(direction, address)
    in_ep, out_ep = found.get("in"), found.get("out")
    return (
        in_ep if in_ep is not None and 0x81 <= in_ep <= 0x8F else None,
        out_ep if out_ep is not None and 0x01 <= out_ep <= 0x0F else None,
    )


def cups_queues(env: Mapping[str, str]) -> list[Found]:
    out = _run(["lpstat", "-v"], env, 10.0)
    found = []
    for line in out.splitlines():
        if line.startswith("device for ") and ": " in line:
            name, uri = line[len("device for ") :].split(": ", 1)
            found.append(
                Found(
                    "a4_printer",
                    name,
                    f"CUPS queue -> {_scheme(uri)}",
                    f"devices set a4_printer cups queue={name}",
                )
            )
    return found


def cups_devices(env: Mapping[str, str]) -> list[Found]:
    out = _run(["lpinfo", "-v"], env, LPINFO_TIMEOUT_S)
    found = []
    for line in out.splitlines():
        klass, _, uri = line.partition(" ")
        if "://" not in uri or uri.startswith("file:"):
            continue  # lpinfo's bare backend names ("network ipp") are not printers
        found.append(Found("cups_device", uri, f"{klass} printer", f"printer add-a4 --uri {uri}"))
    return found


def probe_printers(targets: Sequence[str], timeout_s: float = 2.0) -> list[Found]:
    """Ask each ESC/POS printer for its status, through the receipt backend itself: HOST[:PORT]
    on the network, or a serial port as PATH[@BAUD] (a card reader and a serial printer both
    look like a ttyUSB: only an answer to DLE EOT tells them apart)."""
    found = []
    for target in targets:
        try:
            backend, options, where = _probe_target(target, timeout_s)
            printer = registry.create("receipt_printer", backend, options)
        except (DeviceError, ValueError) as exc:
            found.append(Found("receipt_printer", target, f"not usable: {exc}", ""))
            continue
        try:
            status = printer.status()
        finally:
            printer.close()
        what = f"ESC/POS {status.state.value}" + (
            f", paper {status.paper.value}" if status.paper else ""
        )
        if status.error_code:
            what += f" ({status.error_code})"
        answered = status.state is not DeviceState.OFFLINE  # a card reader's port answers nothing
        settings = " ".join(
            f"{k}={str(v).lower() if isinstance(v, bool) else v}"
            for k, v in options.items()
            if k != "timeout_s"
        )
        found.append(
            Found(
                "receipt_printer",
                where,
                what,
                f"devices set receipt_printer {backend} {settings}" if answered else "",
            )
        )
    return found


def _probe_target(target: str, timeout_s: float) -> tuple[str, dict[str, Any], str]:
    """(backend, options, where) for a probe: a path (or a /dev name such as ttyUSB1) with an
    optional @BAUD is a serial port, anything else HOST[:PORT]. Bad values are left for the
    backend's own checks to name (a port `abc`, a baud rate it does not know)."""
    port, at, baud_text = target.rpartition("@")
    if not at:
        port, baud_text = target, ""
    if "/" in port or (port and Path("/dev", port).exists()):
        port = port if "/" in port else f"/dev/{port}"
        baudrate: Any = int(baud_text) if baud_text.isdigit() else baud_text or 9600
        options: dict[str, Any] = {"port": port, "baudrate": baudrate}
        backend, where = "escpos-serial", f"{port} {baudrate} baud"
    else:
        host, _, port_text = target.partition(":")
        if "[" in target or ":" in port_text:
            raise ValueError("an IPv6 address: the ESC/POS network backend opens IPv4 sockets only")
        options = {
            "host": host,
            "port": int(port_text) if port_text.isdigit() else port_text or 9100,
        }
        backend, where = "escpos-network", f"{host}:{options['port']}"
    return backend, options | {"supports_paper_status": True, "timeout_s": timeout_s}, where


def _scheme(uri: str) -> str:
    return uri.split("://", 1)[0] + "://…" if "://" in uri else uri  # no credentials shown


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return ""


def _run(args: list[str], env: Mapping[str, str], timeout: float) -> str:
    try:
        done = subprocess.run(
            args, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""
