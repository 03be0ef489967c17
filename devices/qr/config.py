"""The qr_camera config keys, each checked with a precise ConfigError (docs/devices/qr_camera.md)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from .payload import DEFAULT_MAX_PAYLOAD_BYTES, MAX_PAYLOAD_LIMIT
from .source import Faults, SourceSpec, parse_source

COMMON_KEYS = frozenset(
    {
        "source",
        "width",
        "height",
        "backoff_initial_s",
        "backoff_max_s",
        "dedupe_s",
        "max_payload_bytes",
        "full_every",
        "lost_after_failures",
    }
)
SIM_KEYS = frozenset(
    {"loop", "realtime", "drop_every", "vanish_after_frames", "vanish_reopen_failures"}
)


@dataclass(frozen=True, slots=True)
class ScannerSettings:
    width: int | None = None
    height: int | None = None
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    dedupe_s: float = 2.0  # a code must be unseen this long before it is reported again
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    full_every: int = 3  # the whole cascade on every Nth frame, zxing-cpp alone on the others
    lost_after_failures: int = 3  # consecutive failed reads before the source counts as lost
    loop: bool = True  # files only: rewind at the end instead of going offline
    realtime: bool = False  # files only: pace reads at the file's frame rate
    faults: Faults = field(default_factory=Faults)


def _int(options: Mapping[str, Any], key: str, default: int | None, lo: int, hi: int) -> int | None:
    value = options.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"qr_camera {key} must be an integer, got {type(value).__name__}")
    if not lo <= value <= hi:
        raise ConfigError(f"qr_camera {key} must be between {lo} and {hi}, got {value}")
    return value


def _float(options: Mapping[str, Any], key: str, default: float, lo: float, hi: float) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(
            f"qr_camera {key} must be a number of seconds, got {type(value).__name__}"
        )
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ConfigError(f"qr_camera {key} must be between {lo} and {hi} seconds, got {value}")
    return float(value)


def _bool(options: Mapping[str, Any], key: str, default: bool) -> bool:
    value = options.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"qr_camera {key} must be true or false, got {type(value).__name__}")
    return value


def parse(options: Mapping[str, Any], *, sim: bool) -> tuple[SourceSpec, ScannerSettings]:
    """(source, settings) from a backend's config dict; ConfigError names the offending key."""
    if not isinstance(options, Mapping):
        raise ConfigError("qr_camera options must be a mapping")
    allowed = COMMON_KEYS | (SIM_KEYS if sim else frozenset())
    unknown = sorted(str(k) for k in options if k not in allowed)
    if unknown:
        extra = " (simulator settings need backend 'sim')" if set(unknown) & SIM_KEYS else ""
        raise ConfigError(
            f"unknown qr_camera option(s) {', '.join(unknown)}{extra}; known: {', '.join(sorted(allowed))}"
        )
    if "source" not in options:
        raise ConfigError(
            "qr_camera needs 'source': a camera index, a video file, or an image sequence"
        )
    spec = parse_source(options["source"])
    if sim:
        if spec.kind == "device":
            raise ConfigError(
                "qr_camera backend 'sim' needs a video file or an image sequence as source"
            )
        if not spec.present():
            raise ConfigError(f"qr_camera sim source {spec.target!r} does not exist")
    backoff_max = _float(options, "backoff_max_s", 30.0, 0.01, 3600.0)
    settings = ScannerSettings(
        width=_int(options, "width", None, 16, 8192),
        height=_int(options, "height", None, 16, 8192),
        backoff_initial_s=_float(
            options, "backoff_initial_s", min(0.5, backoff_max), 0.001, backoff_max
        ),
        backoff_max_s=backoff_max,
        dedupe_s=_float(options, "dedupe_s", 2.0, 0.0, 3600.0),
        max_payload_bytes=_int(
            options, "max_payload_bytes", DEFAULT_MAX_PAYLOAD_BYTES, 1, MAX_PAYLOAD_LIMIT
        )
        or DEFAULT_MAX_PAYLOAD_BYTES,
        full_every=_int(options, "full_every", 3, 1, 1000) or 3,
        lost_after_failures=_int(options, "lost_after_failures", 3, 1, 1000) or 3,
        loop=_bool(options, "loop", True),
        realtime=_bool(options, "realtime", True) if sim else False,
        faults=Faults(
            drop_every=_int(options, "drop_every", 0, 0, 1_000_000) or 0,
            vanish_after_frames=_int(options, "vanish_after_frames", 0, 0, 1_000_000) or 0,
            vanish_reopen_failures=_int(options, "vanish_reopen_failures", 0, 0, 1_000_000) or 0,
        ),
    )
    if settings.faults.drop_every == 1:
        raise ConfigError(
            "qr_camera drop_every must be 0 (off) or at least 2: 1 would drop every frame"
        )
    return spec, settings
