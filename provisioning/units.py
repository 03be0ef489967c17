"""The files `install` writes: the kiosk user, its systemd unit (a cage session on tty1 running the
app, with a watchdog the app feeds), udev rules, tmpfiles and journald limits. Text templates, one
function each, so a test can read exactly what a terminal gets."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ProvisionError

UNIT = "credit-kiosk.service"
USER = "kiosk"
WATCHDOG_S = 30  # the app feeds every 15 s from its UI thread
USB_ID = re.compile(r"^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$")


@dataclass(frozen=True)
class UsbId:
    vendor: str
    product: str

    @classmethod
    def parse(cls, text: str, what: str) -> UsbId:
        match = USB_ID.match(text.strip())
        if match is None:
            raise ProvisionError(
                f"{what}: {text!r} is not a USB id",
                "VID:PID in hex, e.g. 1a86:7523 (`devices scan` shows it)",
            )
        return cls(match.group(1).lower(), match.group(2).lower())

    def match(self) -> str:
        return f'ATTRS{{idVendor}}=="{self.vendor}", ATTRS{{idProduct}}=="{self.product}"'


def service(kiosk_bin: Path, config: Path, state_dir: Path, cage: str = "/usr/bin/cage") -> str:
    return f"""\
# Written by `kiosk-provision install`. The kiosk on tty1 under the cage compositor: no desktop,
# no other application; when the app exits, cage exits, and systemd starts both again.
[Unit]
Description=Credit-report kiosk (cage session on tty1)
After=systemd-user-sessions.service plymouth-quit-wait.service network-online.target cups.service
Wants=network-online.target cups.service
Conflicts=getty@tty1.service
# a kiosk keeps trying, however often it has failed
StartLimitIntervalSec=0

[Service]
# READY=1 once the attract screen is drawn; WATCHDOG=1 from the UI thread: a hung UI is killed
Type=notify
NotifyAccess=all
WatchdogSec={WATCHDOG_S}
TimeoutStartSec=180
Restart=always
RestartSec=3
User={USER}
PAMName=login
TTYPath=/dev/tty1
TTYReset=yes
TTYVHangup=yes
TTYVTDisallocate=yes
StandardInput=tty-fail
StandardOutput=journal
StandardError=journal
UtmpIdentifier=tty1
UtmpMode=user
# Kivy's bundled SDL2 speaks X11 (cage's Xwayland), not Wayland
Environment=SDL_VIDEODRIVER=x11
Environment=KIVY_HOME={state_dir}/kivy
Environment=ESCPOS_CAPABILITIES_PICKLE_DIR={state_dir}/escpos
ExecStart={cage} -d -- {kiosk_bin} run --config {config}

[Install]
WantedBy=graphical.target
"""


def sysusers() -> str:
    return f"""\
# Written by `kiosk-provision install`: the user the kiosk runs as (no login shell, no password).
u {USER} - "Credit-report kiosk" /var/lib/credit-kiosk /usr/sbin/nologin
m {USER} dialout
m {USER} video
m {USER} lp
m {USER} input
m {USER} render
"""


def tmpfiles(state_dir: Path, config_dir: Path) -> str:
    return f"""\
# Written by `kiosk-provision install`: the kiosk's folders, owned by it at every boot.
d {state_dir} 0700 {USER} {USER} -
Z {state_dir} - {USER} {USER} -
d {config_dir} 0750 root {USER} -
"""


def udev_rules(id_card: UsbId | None, camera: UsbId | None, receipt: UsbId | None) -> str:
    card = (
        f'SUBSYSTEM=="tty", {id_card.match()}, SYMLINK+="kiosk-idcard"'
        if id_card
        else 'SUBSYSTEM=="tty", KERNEL=="ttyUSB0", SYMLINK+="kiosk-idcard"'
    )
    cam = (
        f'SUBSYSTEM=="video4linux", ATTR{{index}}=="0", {camera.match()}, SYMLINK+="kiosk-camera"'
        if camera
        else 'SUBSYSTEM=="video4linux", KERNEL=="video0", SYMLINK+="kiosk-camera"'
    )
    lines = [
        "# Written by `kiosk-provision install`: stable names and the kiosk user's access.",
        "# Pin a device with `kiosk-provision install --id-card-usb VID:PID` (see `devices scan`).",
        "# ID card reader (GA/T 467 on a USB-serial bridge)",
        f'{card}, GROUP="{USER}", MODE="0660"',
        "# QR camera",
        f'{cam}, GROUP="{USER}", MODE="0660"',
        "# serial adapters: the kiosk reads and writes them (card reader, serial receipt printer)",
        f'SUBSYSTEM=="tty", KERNEL=="ttyUSB[0-9]*|ttyACM[0-9]*", GROUP="{USER}", MODE="0660"',
        "# USB printers (A4 through CUPS, group lp; ESC/POS receipt printers)",
        # a printer says its class per interface (the device's own class is 00): udev's usb_id
        # lists them as :CCSSPP: in ID_USB_INTERFACES
        'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ENV{ID_USB_INTERFACES}=="*:0701??:*", '
        'GROUP="lp", MODE="0660"',
    ]
    if receipt:
        lines += [
            "# the receipt printer, raw USB for the escpos-usb backend",
            f'SUBSYSTEM=="usb", ENV{{DEVTYPE}}=="usb_device", {receipt.match().replace("ATTRS", "ATTR")}, '
            f'GROUP="{USER}", MODE="0660"',
            f'SUBSYSTEM=="tty", {receipt.match()}, SYMLINK+="kiosk-receipt", GROUP="{USER}", MODE="0660"',
        ]
    return "\n".join(lines) + "\n"


def journald() -> str:
    return """\
# Written by `kiosk-provision install`: the journal never fills the kiosk's disk.
[Journal]
SystemMaxUse=200M
SystemKeepFree=1G
SystemMaxFileSize=20M
MaxRetentionSec=30day
"""
