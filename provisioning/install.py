"""`install [--root DIR]`: the kiosk user, its unit, udev rules, tmpfiles, journald limits.

With `--root` every file goes into the staging tree (the user as a sysusers.d entry, resolved by
`systemd-sysusers --root` into the tree's own passwd and group files) and nothing on this machine
changes. Without it the files go to / and systemd, udev and CUPS are told.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from .errors import Exit, ProvisionError
from .units import UNIT, UsbId, journald, service, sysusers, tmpfiles, udev_rules

CAGE = "/usr/bin/cage"
XWAYLAND = "/usr/bin/Xwayland"

ACTIVATE = (  # run in order on a real install
    ["systemd-sysusers"],
    ["systemd-tmpfiles", "--create", "credit-kiosk.conf"],
    ["udevadm", "control", "--reload"],
    ["udevadm", "trigger"],
    ["systemctl", "daemon-reload"],
    ["systemctl", "restart", "systemd-journald"],
    ["systemctl", "enable", UNIT],
    ["systemctl", "set-default", "graphical.target"],
    ["cupsctl", "PreserveJobFiles=No"],  # CUPS would keep each report's PDF for a day
)


def kiosk_binary() -> Path:
    """The `kiosk` command beside this `kiosk-provision` (same virtual environment)."""
    return Path(sys.executable).parent / "kiosk"


def install(
    config_path: Path,
    state_dir: Path,
    *,
    root: Path | None = None,
    id_card: str | None = None,
    camera: str | None = None,
    receipt: str | None = None,
    verify: bool = True,
) -> dict[str, Any]:
    ids = (
        UsbId.parse(id_card, "--id-card-usb") if id_card else None,
        UsbId.parse(camera, "--camera-usb") if camera else None,
        UsbId.parse(receipt, "--receipt-usb") if receipt else None,
    )
    kiosk = kiosk_binary()
    if root is None:
        missing = [p for p in (CAGE, XWAYLAND, str(kiosk)) if not Path(p).exists()]
        if missing:
            raise ProvisionError(
                f"missing on this machine: {', '.join(missing)}",
                "apt-get install cage xwayland (and pip install 'credit-kiosk[kiosk]')",
                Exit.CHECK_FAILED,
            )
    base = root or Path("/")
    files = {
        f"etc/systemd/system/{UNIT}": service(kiosk, config_path.absolute(), state_dir),
        "usr/lib/sysusers.d/credit-kiosk.conf": sysusers(),
        "usr/lib/tmpfiles.d/credit-kiosk.conf": tmpfiles(state_dir, config_path.absolute().parent),
        "etc/udev/rules.d/70-credit-kiosk.rules": udev_rules(*ids),
        "etc/systemd/journald.conf.d/credit-kiosk.conf": journald(),
    }
    written = []
    for relative, text in files.items():
        path = base / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)
        written.append(str(path))
    unit = base / f"etc/systemd/system/{UNIT}"
    steps: list[dict[str, Any]] = []
    if root is not None:
        steps.append(
            _run(
                [
                    "systemd-sysusers",
                    f"--root={root}",
                    str(base / "usr/lib/sysusers.d/credit-kiosk.conf"),
                ]
            )
        )
    else:
        steps += [_run(args) for args in ACTIVATE]
    verified = _verify(unit) if verify else None
    if verified is not None and not verified["ok"]:
        raise ProvisionError(
            f"systemd-analyze verify refused {unit}: {verified['output']}",
            "report this to the developers",
            Exit.CHECK_FAILED,
        )
    return {"root": str(base), "files": written, "steps": steps, "verify": verified}


def _run(args: list[str]) -> dict[str, Any]:
    if shutil.which(args[0]) is None:
        return {"command": " ".join(args), "ok": False, "output": f"{args[0]} not installed"}
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    output = (done.stdout + done.stderr).strip()[-500:]
    return {"command": " ".join(args), "ok": done.returncode == 0, "output": output}


def _verify(unit: Path) -> dict[str, Any]:
    """`systemd-analyze verify` on the written unit (it checks ExecStart's binaries exist)."""
    if shutil.which("systemd-analyze") is None:
        return {"ok": True, "output": "systemd-analyze not installed: not verified"}
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    # the unit's own lines only: verify also reports on the host's units it pulls in
    own = [line for line in (done.stdout + done.stderr).splitlines() if UNIT in line]
    return {"ok": done.returncode == 0 and not own, "output": "\n".join(own) or "ok"}
