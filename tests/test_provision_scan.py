"""`kiosk-provision devices scan` reads USB printers from sysfs as Linux lays it out: links in
/sys/bus/usb/devices into /sys/devices, an interface inside its device's directory, its
endpoints in ep_XX/ directories. The tree here is built that way in a temporary directory."""

from __future__ import annotations

import json
import os
import pty
import tty
from pathlib import Path

from devices.receipt.simulator import ReceiptSimulator, SimulatorSettings
from provisioning.scan import usb_printers

from .provision_support import provision


def write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text + "\n")
    return folder


def usb_device(sysfs: Path, name: str, vid: str, pid: str, product: str = "") -> Path:
    device = write(sysfs / "devices/pci0000:00/0000:00:14.0/usb1/1-9" / name,  # behind a hub
                   idVendor=vid, idProduct=pid, **({"product": product} if product else {}))  # fmt: skip
    (sysfs / "bus/usb/devices").mkdir(parents=True, exist_ok=True)
    (sysfs / "bus/usb/devices" / name).symlink_to(device)
    return device


def interface(
    sysfs: Path,
    device: Path,
    number: int,
    klass: str,
    endpoints: dict[str, str],
    driver: str = "",
) -> None:
    folder = write(device / f"{device.name}:1.{number}", bInterfaceClass=klass)
    for address, direction in endpoints.items():
        write(folder / f"ep_{address}", bEndpointAddress=address, type="Bulk", direction=direction)
    if driver:  # bound: a link to the driver's directory, named as the driver
        (folder / "driver").symlink_to(write(sysfs / "bus/usb/drivers" / driver))
    (sysfs / "bus/usb/devices" / folder.name).symlink_to(folder)


def test_printers_are_found_with_their_own_endpoints_and_other_devices_are_not(
    tmp_path: Path,
) -> None:
    sysfs = tmp_path / "sys"
    printer = usb_device(sysfs, "1-1", "04b8", "0202", "TM-T88V")
    interface(sysfs, printer, 0, "07", {"01": "out", "82": "in"})
    interface(sysfs, printer, 1, "07", {"03": "out", "84": "in"})  # a second: still one line
    vendor = usb_device(sysfs, "1-2", "0483", "5743")  # an Xprinter-style vendor interface
    interface(sysfs, vendor, 0, "ff", {"81": "in", "02": "out"})
    serial = usb_device(sysfs, "1-3", "1a86", "7523", "USB Serial")  # the card reader's CH340
    interface(sysfs, serial, 0, "ff", {"82": "in", "02": "out"}, driver="ch341")
    keyboard = usb_device(sysfs, "1-4", "046d", "c31c", "Keyboard")
    interface(sysfs, keyboard, 0, "03", {"81": "in"})
    reader_only = usb_device(sysfs, "1-5", "0c27", "3bfa")  # vendor-specific, nothing to write to
    interface(sysfs, reader_only, 0, "ff", {"81": "in"})
    claimed = usb_device(sysfs, "1-6", "0416", "5011")  # the kiosk holds it through libusb
    interface(sysfs, claimed, 0, "ff", {"01": "out"}, driver="usbfs")
    composite = usb_device(sysfs, "1-7", "28e9", "0289")  # vendor first, printer class second
    interface(sysfs, composite, 0, "ff", {"05": "out"})
    interface(sysfs, composite, 1, "07", {"03": "out", "83": "in"})

    listed = usb_printers(sysfs)
    found = {f.device: f for f in listed}

    assert len(listed) == len(found) == 4, listed  # one line a device
    assert set(found) == {"usb 04b8:0202", "usb 0483:5743", "usb 0416:5011", "usb 28e9:0289"}
    assert found["usb 28e9:0289"].suggestion.endswith("in_ep=0x83 out_ep=0x03")
    assert "vendor-specific" not in found["usb 28e9:0289"].description
    assert usb_printers(tmp_path / "no-usb") == []  # a machine without a USB bus: nothing, no error
    epson, xprinter = found["usb 04b8:0202"], found["usb 0483:5743"]
    assert epson.kind == "receipt_printer" and epson.description == "TM-T88V"
    assert epson.suggestion == (
        "devices set receipt_printer escpos-usb vendor_id=0x04b8 product_id=0x0202 "
        "in_ep=0x82 out_ep=0x01"
    )
    assert xprinter.suggestion.endswith("product_id=0x5743 in_ep=0x81 out_ep=0x02")
    assert "vendor-specific" in xprinter.description


def test_probe_asks_network_and_serial_printers_and_names_what_answered(tmp_path: Path) -> None:
    """`devices scan --probe`: a network printer and one on a serial port (DESIGN §9: ESC/POS
    printers on USB, serial or network) answer DLE EOT through the receipt backend; the line to
    set each is printed. A serial port where nothing answers says so."""
    with ReceiptSimulator(settings=SimulatorSettings(paper="low")) as sim:
        master, slave = pty.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        sim.attach_serial(master)
        quiet_master, quiet_slave = pty.openpty()  # a port with nothing that speaks ESC/POS
        tty.setraw(quiet_slave)
        try:
            serial, quiet = os.ttyname(slave), os.ttyname(quiet_slave)
            done = provision(
                "devices", "scan", "--config", str(tmp_path / "kiosk.toml"), "--quick", "--json",
                "--probe", f"127.0.0.1:{sim.port}", "--probe", f"{serial}@115200",
                "--probe", quiet, "--probe", f"{serial}@12345", "--probe", "127.0.0.1:abc",
                "--probe", "[::1]:9100",
            )  # fmt: skip
        finally:
            for fd in (slave, quiet_slave, quiet_master):
                os.close(fd)
    os.close(master)  # after the simulator's thread has stopped reading it
    assert done.returncode == 0, done.stderr
    found = {f["device"]: f for f in json.loads(done.stdout) if f["kind"] == "receipt_printer"}
    network = found[f"127.0.0.1:{sim.port}"]
    assert network["description"] == "ESC/POS online, paper low"
    assert network["suggestion"] == (
        f"devices set receipt_printer escpos-network host=127.0.0.1 port={sim.port} "
        "supports_paper_status=true"
    )
    on_serial = found[f"{serial} 115200 baud"]
    assert on_serial["description"] == "ESC/POS online, paper low"
    assert on_serial["suggestion"] == (
        f"devices set receipt_printer escpos-serial port={serial} baudrate=115200 "
        "supports_paper_status=true"
    )
    silent = found[f"{quiet} 9600 baud"]
    assert silent["description"].startswith("ESC/POS offline") and silent["suggestion"] == ""
    assert found[f"{serial}@12345"]["description"].startswith("not usable: ")
    assert found["127.0.0.1:abc"]["description"].startswith("not usable: ")  # not port 9100
    assert "IPv6" in found["[::1]:9100"]["description"]
