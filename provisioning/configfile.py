"""The kiosk's own TOML config, edited in place: the technician's comments and layout are kept
(tomlkit), and nothing is written that the kiosk would not load.

"Would load" is decided by the kiosk's own rules, never a copy of them: `kiosk.config.parse_config`
for the file, and `devices.registry` for each device's backend name.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import Table
from tomlkit.toml_document import TOMLDocument

from devices import registry
from devices.errors import DeviceError
from kiosk.config import DEVICE_KINDS, KioskConfig, parse_config
from kiosk.errors import ConfigInvalid

from .errors import Exit, ProvisionError

DEFAULT_CONFIG = Path("/etc/credit-kiosk/kiosk.toml")
DEFAULT_STATE_DIR = "/var/lib/credit-kiosk"

# A new terminal's config. The devices are at the stable names that `kiosk-provision install`'s udev
# rules give them, so a terminal wired as the runbook says needs no `devices set` at all.
TEMPLATE = """\
# The kiosk's config, written by `kiosk-provision`; `kiosk run --config` reads it.
# Change it with `kiosk-provision devices set ...` (comments you add here are kept).
# Relative paths are relative to this file's folder. Keys and secrets are files, never values.

[platform]
url = "https://credit.example.gov.cn"

[terminal]
state_dir = "/var/lib/credit-kiosk"   # terminal key, enrollment, queue, audit log (0700)
hall_name = "政务服务中心"
staff_pin_file = "staff.pin"          # written by `kiosk-provision staff-pin set`

[ui]
language = "zh_CN"

[devices.id_card]
backend = "serial"
port = "/dev/kiosk-idcard"            # udev name from `kiosk-provision install`

[devices.qr_camera]
backend = "camera"
source = "/dev/kiosk-camera"

[devices.a4_printer]
backend = "cups"
queue = "KioskA4"                     # `kiosk-provision printer add-a4 --uri ...`

[devices.receipt_printer]
backend = "escpos-serial"
port = "/dev/kiosk-receipt"
paper_mm = 80
"""


@dataclass
class ConfigFile:
    """A config document and where it lives; `save()` validates before it writes."""

    path: Path
    doc: TOMLDocument

    @classmethod
    def load(cls, path: Path) -> ConfigFile:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ProvisionError(
                f"{path}: no config here",
                "enroll first (`kiosk-provision enroll --platform URL --token-file F [--hall-name N]`"
                " makes the config), or give --config",
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ProvisionError(f"{path}: cannot read ({exc})", "check the path") from None
        try:
            return cls(path, tomlkit.parse(text))
        except tomlkit.exceptions.ParseError as exc:
            raise ProvisionError(
                f"{path}: not valid TOML ({exc})", "fix the line named, or move the file away"
            ) from None

    @classmethod
    def new(cls, path: Path) -> ConfigFile:
        return cls(path, tomlkit.parse(TEMPLATE))

    def table(self, dotted: str) -> Table:
        """The table at `a.b`, made (as a real [a.b] table) when missing."""
        node: Any = self.doc
        for part in dotted.split("."):
            if part not in node:
                node[part] = tomlkit.table(is_super_table=part == "devices")
            node = node[part]
            if not isinstance(node, Table | TOMLDocument):
                raise ProvisionError(f"{self.path}: {dotted} is not a table", "fix the config")
        assert isinstance(node, Table)
        return node

    def set(self, dotted: str, value: Any) -> None:
        section, _, key = dotted.rpartition(".")
        self.table(section)[key] = value

    def replace_device(self, kind: str, options: Mapping[str, Any]) -> None:
        """`[devices.KIND]` becomes exactly `options` (backend first); its comments stay."""
        table = self.table(f"devices.{kind}")
        for key in [k for k in table if k not in options]:
            del table[key]
        for key, value in options.items():
            table[key] = value

    def text(self) -> str:
        return tomlkit.dumps(self.doc)

    def check(self) -> KioskConfig:
        """The config as the kiosk would load it; ProvisionError listing every problem if not."""
        return validate_text(self.text(), self.path)

    def save(self) -> KioskConfig:
        """Validate, then write atomically (same mode as before, 0640 for a new file)."""
        config = self.check()
        write_atomic(self.path, self.text().encode("utf-8"), mode=0o640)
        return config


def validate_text(text: str, path: Path) -> KioskConfig:
    problems: list[str] = []
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProvisionError(f"{path}: not valid TOML ({exc})", "fix the config") from None
    try:
        config = parse_config(raw, base_dir=path.parent, source=path)
    except ConfigInvalid as exc:
        problems.extend(exc.problems)
        config = None
    devices = raw.get("devices", {})
    for kind in DEVICE_KINDS:
        backend = devices.get(kind, {}).get("backend") if isinstance(devices, Mapping) else None
        if isinstance(backend, str):
            try:
                if backend not in registry.backend_names(kind):
                    problems.append(
                        f"devices.{kind}.backend: unknown backend {backend!r} "
                        f"(choose one of: {', '.join(registry.backend_names(kind))})"
                    )
            except DeviceError as exc:
                problems.append(f"devices.{kind}: {exc}")
    if problems or config is None:
        raise ConfigRefused(path, problems)
    return config


class ConfigRefused(ProvisionError):
    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(
            f"{path}: the kiosk would not load this config, nothing was written: "
            + "; ".join(problems),
            "correct the values named (see docs/kiosk.example.toml)",
            Exit.USAGE,
        )
        self.problems = problems


def write_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write-then-rename in the same folder: a crash never leaves half a file. An existing file
    keeps its mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        mode = path.stat().st_mode & 0o777
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_kiosk_config(path: Path) -> KioskConfig:
    """The config as the kiosk loads it, for commands that only read."""
    return ConfigFile.load(path).check()
