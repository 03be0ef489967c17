"""The kiosk's configuration: one TOML file, validated whole at start.

Secrets and keys are given by path, never inline. Every problem is reported with its key, all at once,
so a technician fixes the file in one go.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigInvalid
from .i18n import DEFAULT_LANGUAGE, LANGUAGES

DEVICE_KINDS = ("id_card", "qr_camera", "a4_printer", "receipt_printer")
ORIENTATIONS = ("landscape", "portrait")
_SECRET_WORDS = ("pin", "password", "secret", "private_key", "token")


@dataclass(frozen=True)
class DeviceConfig:
    backend: str
    options: Mapping[str, Any]


@dataclass(frozen=True)
class UiConfig:
    language: str = DEFAULT_LANGUAGE
    idle_timeout_s: float = 60.0
    countdown_s: float = 10.0
    elderly_mode: bool = False
    voice_prompts: bool = True  # used only in elderly mode, and only when espeak-ng is installed
    orientation: str = "landscape"  # or "portrait": a 1080x1920 terminal (docs/kiosk.md)

    @property
    def window_size(self) -> tuple[int, int]:
        """The window when it is not full screen (windowed, headless)."""
        return (1080, 1920) if self.orientation == "portrait" else (1920, 1080)


@dataclass(frozen=True)
class OfflineConfig:
    """`[offline]`: the encrypted store-and-forward queue (docs/offline.md)."""

    cache_file: Path | None = None  # None: <state_dir>/offline.db
    key_file: Path | None = None  # None: <state_dir>/offline.key; better on another volume
    reprint_ttl_s: float = 900.0  # a picked-up report's PDF kept for a reprint
    drain_backoff_base_s: float = 2.0
    drain_backoff_cap_s: float = 300.0
    pickup_after_min: int = 60  # the receipt's "come back after", counted from the request


@dataclass(frozen=True)
class HallConfig:
    """`[hall]`: how the terminal reports to its hall (DESIGN §8, docs/hall-operations.md)."""

    heartbeat_interval_s: int = 30
    # a required device in error takes the terminal out of service (CUSS); a login-QR-only
    # terminal leaves out id_card
    required_devices: tuple[str, ...] = ("a4_printer", "id_card")
    service_desk: str = ""  # where a person finds staff, e.g. "一楼综合咨询台（3号窗口）"


@dataclass(frozen=True)
class KioskConfig:
    platform_url: str
    state_dir: Path  # terminal key, enrollment, offline queue
    hall_name: str
    devices: Mapping[str, DeviceConfig]
    ui: UiConfig = field(default_factory=UiConfig)
    offline: OfflineConfig = field(default_factory=OfflineConfig)
    hall: HallConfig = field(default_factory=HallConfig)
    ca_bundle: Path | None = None
    enrollment_token_file: Path | None = None  # read once on first start
    staff_pin_file: Path | None = None  # a PBKDF2 hash, written by kiosk-provision
    source: Path | None = None

    @property
    def key_file(self) -> Path:
        return self.state_dir / "terminal.key"

    @property
    def enrollment_file(self) -> Path:
        return self.state_dir / "enrollment.json"

    @property
    def offline_db(self) -> Path:
        return self.offline.cache_file or self.state_dir / "offline.db"

    @property
    def offline_key(self) -> Path:
        return self.offline.key_file or self.state_dir / "offline.key"


def load_config(path: str | Path) -> KioskConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigInvalid([f"{path}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigInvalid([f"{path}: cannot read ({exc})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigInvalid([f"{path}: not valid TOML ({exc})"]) from None
    return parse_config(raw, base_dir=path.parent, source=path)


def parse_config(
    raw: Mapping[str, Any], *, base_dir: Path, source: Path | None = None
) -> KioskConfig:
    problems: list[str] = []
    c = _Checker(problems, base_dir)
    _refuse_inline_secrets(raw, "", problems)
    known_top = {"platform", "terminal", "devices", "ui", "offline", "hall"}
    for key in raw:
        if key not in known_top:
            problems.append(f"{key}: unknown section (known: {', '.join(sorted(known_top))})")

    platform = c.table(raw, "platform")
    url = c.string(platform, "platform.url", required=True)
    if url:
        problems.extend(_url_problems(url))
    ca_bundle = c.path(platform, "platform.ca_bundle", must_exist=True)
    c.only(platform, "platform", {"url", "ca_bundle"})

    terminal = c.table(raw, "terminal")
    state_dir = c.path(terminal, "terminal.state_dir", required=True)
    hall_name = c.string(terminal, "terminal.hall_name", required=True)
    token_file = c.path(terminal, "terminal.enrollment_token_file")
    pin_file = c.path(terminal, "terminal.staff_pin_file")
    c.only(
        terminal, "terminal", {"state_dir", "hall_name", "enrollment_token_file", "staff_pin_file"}
    )

    devices: dict[str, DeviceConfig] = {}
    device_table = c.table(raw, "devices")
    for kind in device_table:
        if kind not in DEVICE_KINDS:
            problems.append(f"devices.{kind}: unknown device (known: {', '.join(DEVICE_KINDS)})")
    for kind in DEVICE_KINDS:
        section = c.table(device_table, f"devices.{kind}", required=True)
        backend = c.string(section, f"devices.{kind}.backend", required=True)
        if backend:
            options = {k: v for k, v in section.items() if k != "backend"}
            devices[kind] = DeviceConfig(backend=backend, options=options)

    ui_raw = c.table(raw, "ui")
    ui = UiConfig(
        language=c.choice(ui_raw, "ui.language", LANGUAGES, DEFAULT_LANGUAGE),
        idle_timeout_s=c.number(ui_raw, "ui.idle_timeout_s", 60.0, low=20, high=600),
        countdown_s=c.number(ui_raw, "ui.countdown_s", 10.0, low=5, high=30),
        elderly_mode=c.boolean(ui_raw, "ui.elderly_mode", False),
        voice_prompts=c.boolean(ui_raw, "ui.voice_prompts", True),
        orientation=c.choice(ui_raw, "ui.orientation", ORIENTATIONS, "landscape"),
    )
    c.only(
        ui_raw,
        "ui",
        {
            "language",
            "idle_timeout_s",
            "countdown_s",
            "elderly_mode",
            "voice_prompts",
            "orientation",
        },
    )
    if ui.countdown_s >= ui.idle_timeout_s:
        problems.append("ui.countdown_s: must be shorter than ui.idle_timeout_s")

    offline = _offline_config(c, raw)
    hall = _hall_config(c, raw)
    if offline.drain_backoff_base_s > offline.drain_backoff_cap_s:
        problems.append("offline.drain_backoff_base_s: must not exceed offline.drain_backoff_cap_s")

    if problems:
        raise ConfigInvalid(problems)
    assert url is not None and state_dir is not None and hall_name is not None
    return KioskConfig(
        platform_url=url,
        state_dir=state_dir,
        hall_name=hall_name,
        devices=devices,
        ui=ui,
        offline=offline,
        hall=hall,
        ca_bundle=ca_bundle,
        enrollment_token_file=token_file,
        staff_pin_file=pin_file,
        source=source,
    )


def _offline_config(c: _Checker, top: Mapping[str, Any]) -> OfflineConfig:
    raw = c.table(top, "offline")
    config = OfflineConfig(
        cache_file=c.path(raw, "offline.cache_file"),
        key_file=c.path(raw, "offline.key_file"),
        reprint_ttl_s=c.number(raw, "offline.reprint_ttl_s", 900.0, low=0, high=86_400),
        drain_backoff_base_s=c.number(raw, "offline.drain_backoff_base_s", 2.0, low=0.1, high=600),
        drain_backoff_cap_s=c.number(raw, "offline.drain_backoff_cap_s", 300.0, low=1, high=3600),
        pickup_after_min=int(c.number(raw, "offline.pickup_after_min", 60, low=0, high=10_080)),
    )
    c.only(
        raw,
        "offline",
        {
            "cache_file",
            "key_file",
            "reprint_ttl_s",
            "drain_backoff_base_s",
            "drain_backoff_cap_s",
            "pickup_after_min",
        },
    )
    if config.cache_file is not None and config.cache_file == config.key_file:
        c.problems.append("offline.key_file: must not be the cache file itself")
    return config


def _hall_config(c: _Checker, top: Mapping[str, Any]) -> HallConfig:
    raw = c.table(top, "hall")
    required = raw.get("required_devices", list(HallConfig.required_devices))
    if not isinstance(required, list) or not all(k in DEVICE_KINDS for k in required):
        c.problems.append(f"hall.required_devices: a list of {', '.join(DEVICE_KINDS)}")
        required = list(HallConfig.required_devices)
    desk = raw.get("service_desk", "")
    if not isinstance(desk, str) or len(desk) > 60:
        c.problems.append("hall.service_desk: text of at most 60 characters")
        desk = ""
    c.only(raw, "hall", {"heartbeat_interval_s", "required_devices", "service_desk"})
    return HallConfig(
        heartbeat_interval_s=int(c.number(raw, "hall.heartbeat_interval_s", 30, low=10, high=300)),
        required_devices=tuple(dict.fromkeys(required)),
        service_desk=desk.strip(),
    )


def _url_problems(url: str) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return [f"platform.url: {url!r} is not an http(s) URL"]
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        return ["platform.url: plain http is allowed only to this machine (loopback); use https"]
    return []


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse_inline_secrets(table: Mapping[str, Any], prefix: str, problems: list[str]) -> None:
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _refuse_inline_secrets(value, name + ".", problems)
        elif any(w in key.lower() for w in _SECRET_WORDS) and not key.lower().endswith("_file"):
            problems.append(f"{name}: secrets are given by path (a `{key}_file` key), never inline")


class _Checker:
    def __init__(self, problems: list[str], base_dir: Path) -> None:
        self.problems = problems
        self.base_dir = base_dir

    def table(self, raw: Mapping[str, Any], name: str, required: bool = False) -> Mapping[str, Any]:
        key = name.rsplit(".", 1)[-1]
        value = raw.get(key)
        if value is None:
            if required:
                self.problems.append(f"{name}: section missing")
            return {}
        if not isinstance(value, Mapping):
            self.problems.append(f"{name}: must be a table")
            return {}
        return value

    def only(self, table: Mapping[str, Any], name: str, allowed: set[str]) -> None:
        for key in table:
            if key not in allowed and not any(w in key.lower() for w in _SECRET_WORDS):
                self.problems.append(
                    f"{name}.{key}: unknown key (known: {', '.join(sorted(allowed))})"
                )

    def string(self, table: Mapping[str, Any], name: str, required: bool = False) -> str | None:
        value = table.get(name.rsplit(".", 1)[-1])
        if value is None:
            if required:
                self.problems.append(f"{name}: required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"{name}: must be a non-empty string")
            return None
        return value.strip()

    def path(
        self, table: Mapping[str, Any], name: str, required: bool = False, must_exist: bool = False
    ) -> Path | None:
        text = self.string(table, name, required)
        if text is None:
            return None
        path = Path(text)
        path = path if path.is_absolute() else self.base_dir / path
        if must_exist and not path.exists():
            self.problems.append(f"{name}: {path} does not exist")
        return path

    def number(
        self, table: Mapping[str, Any], name: str, default: float, low: float, high: float
    ) -> float:
        value = table.get(name.rsplit(".", 1)[-1], default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.problems.append(f"{name}: must be a number")
            return default
        if not low <= value <= high:
            self.problems.append(f"{name}: {value} is outside {low}–{high}")
            return default
        return float(value)

    def boolean(self, table: Mapping[str, Any], name: str, default: bool) -> bool:
        value = table.get(name.rsplit(".", 1)[-1], default)
        if not isinstance(value, bool):
            self.problems.append(f"{name}: must be true or false")
            return default
        return value

    def choice(
        self, table: Mapping[str, Any], name: str, options: tuple[str, ...], default: str
    ) -> str:
        value = table.get(name.rsplit(".", 1)[-1], default)
        if value not in options:
            self.problems.append(f"{name}: {value!r} is not one of {', '.join(options)}")
            return default
        return str(value)
