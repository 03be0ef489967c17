"""`diagnostics --out FILE`: a tar.gz a technician can mail to the developers. Config (secret-ish
values redacted), versions, device states, enrollment facts, queue counts, the last self-test and
recent logs. Logs are redacted line by line, and the whole bundle is scanned again before it is
written: if anything personal is still found, nothing is written."""

from __future__ import annotations

import contextlib
import io
import json
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from collections import Counter
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from devices import registry
from devices.errors import DeviceError
from kiosk.config import KioskConfig

from . import redact
from .configfile import ConfigFile, write_atomic
from .errors import Exit, ProvisionError
from .selftest import LAST_SELF_TEST, queue_counts
from .terminal import describe_enrollment

LOG_LINES = 5000  # the newest lines of each log
JOURNAL_UNITS = ("credit-kiosk.service",)
LIBRARIES = ("credit-kiosk", "kivy", "httpx", "cryptography", "pycups", "python-escpos", "pyserial",
             "opencv-python-headless", "zxing-cpp", "pyzbar", "tomlkit")  # fmt: skip


class BundleNotClean(ProvisionError):
    def __init__(self, member: str, found: Counter[str]) -> None:
        kinds = ", ".join(f"{k} ×{n}" for k, n in sorted(found.items()))
        super().__init__(
            f"the bundle's {member} still contains personal data or key material ({kinds}); "
            "nothing was written",
            "report this to the developers; send the other files by hand",
            Exit.CHECK_FAILED,
        )


def collect(
    cf: ConfigFile, config: KioskConfig, *, device_states: Mapping[str, Any] | None = None
) -> tuple[dict[str, str], Counter[str]]:
    """The bundle's members (name -> text) and what was redacted in them. `device_states`: as the
    running kiosk sees them (it holds the devices; opening them again here would disturb it)."""
    redacted: Counter[str] = Counter()
    members: dict[str, str] = {}
    # names can sit in a config too (a simulator's cards): Chinese text other than the hall's goes
    config_text, found = redact.redact(_config_text(cf), cjk=True, keep=(config.hall_name,))
    members["config.toml"] = config_text
    redacted += found
    members["versions.json"] = _json(versions())
    members["devices.json"] = _json(
        device_states if device_states is not None else read_devices(config)
    )
    members["enrollment.json"] = _json(describe_enrollment(config))
    members["queue.json"] = _json(queue_counts(config) or {"queue": "none yet"})
    last = config.state_dir / LAST_SELF_TEST
    if last.is_file():
        members["self-test.json"] = last.read_text(encoding="utf-8", errors="replace")
    for name, text in logs(config).items():
        clean, found = redact.redact(text, cjk=True)
        members[f"logs/{name}"] = clean
        redacted += found
    return members, redacted


def write_bundle(
    out: Path, members: Mapping[str, str], redacted: Counter[str], hall_name: str
) -> dict[str, Any]:
    """Scan every member, then write the tar.gz (0600). Refuses, writing nothing, on a find."""
    for name, text in members.items():
        cjk = name.startswith("logs/") or name == "config.toml"
        found = redact.findings(text, cjk=cjk, allowed=(hall_name,))
        if found:
            raise BundleNotClean(name, found)
    manifest = {
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "members": sorted(members),
        "redacted": dict(redacted),
        "scan": "no names, ID numbers, credit codes, phone numbers or key material found",
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in {**members, "manifest.json": _json(manifest)}.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"diagnostics/{name}")
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            tar.addfile(info, io.BytesIO(data))
    write_atomic(out, buffer.getvalue(), mode=0o600)
    return {"out": str(out), "bytes": len(buffer.getvalue()), **manifest}


def _config_text(cf: ConfigFile) -> str:
    # the config holds paths, not secrets (the kiosk refuses inline ones); redact anyway
    lines = []
    for line in cf.text().splitlines():
        key = line.split("=", 1)[0].strip().lower()
        secret = any(
            w in key for w in ("pin", "password", "secret", "token", "key")
        ) and not key.endswith("_file")
        lines.append(f'{line.split("=", 1)[0]}= "[redacted]"' if "=" in line and secret else line)
    return "\n".join(lines) + "\n"


def versions() -> dict[str, Any]:
    found: dict[str, Any] = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    os_release = Path("/etc/os-release")
    if os_release.exists():
        for line in os_release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                found["os"] = line.split("=", 1)[1].strip('"')
    return found


def read_devices(config: KioskConfig) -> dict[str, Any]:
    """Each device's status() (nothing printed, no card read)."""
    states: dict[str, Any] = {}
    for kind, spec in config.devices.items():
        try:
            device = registry.create(kind, spec.backend, spec.options)
        except DeviceError as exc:
            states[kind] = {"backend": spec.backend, "error_code": exc.code, "detail": str(exc)}
            continue
        try:
            states[kind] = {"backend": spec.backend, **device.status().as_dict()}
        finally:
            with contextlib.suppress(DeviceError):
                device.close()
    return states


def logs(config: KioskConfig) -> dict[str, str]:
    """The newest lines of the kiosk's logs: its journal, and the log files in its state folder."""
    found: dict[str, str] = {}
    if shutil.which("journalctl"):
        for unit in JOURNAL_UNITS:
            try:
                done = subprocess.run(
                    ["journalctl", "-u", unit, "-n", str(LOG_LINES), "--no-pager", "-o", "short-iso"],
                    capture_output=True, text=True, timeout=30, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                continue
            if done.returncode == 0 and done.stdout.strip() and "No entries" not in done.stdout:
                found[f"journal-{unit}.log"] = done.stdout
    state = config.state_dir
    candidates = [state / "audit.jsonl", *sorted(state.glob("logs/*"))] if state.is_dir() else []
    for path in candidates:
        if path.is_file():
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_LINES:]
            found[path.name] = "\n".join(lines) + "\n"
    return found


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"
