"""The A4 printer's config options, each checked with a precise ConfigError."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError

# CUPS queue names: printable, no spaces, "/", "#" or "\" (lpadmin's own rule), at most 127 bytes
_QUEUE_NAME = re.compile(r"^[!-~]{1,127}$")
_QUEUE_FORBIDDEN = set("/#\\")


@dataclass(frozen=True, slots=True)
class CupsConfig:
    queue: str
    server: str | None = (
        None  # a cupsd socket path or host ("host:port" works too); None = libcups default
    )
    port: int | None = None
    job_timeout_s: float = 120.0  # submit -> completed, before the job counts as stalled
    poll_interval_s: float = 0.5  # upper bound of the job poll interval (it starts at 50 ms)
    call_timeout_s: float = 10.0  # one request to cupsd
    reconnect_grace_s: float = 10.0  # how long wait() rides out a cupsd restart
    cancel_on_timeout: bool = True
    purge_finished_jobs: bool = True  # drop the spooled PDF (personal data) once the job is over
    tmp_dir: Path | None = None  # where submitted bytes are spooled for a moment (0600)
    max_pdf_bytes: int = 64 * 1024 * 1024
    job_options: Mapping[str, str] = field(default_factory=dict)  # CUPS job options, e.g. sides

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> CupsConfig:
        if not isinstance(options, Mapping):
            raise ConfigError(f"a4_printer options must be a table, got {type(options).__name__}")
        known = set(cls.__slots__)
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"a4_printer: unknown option(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(sorted(known))}",
                code="a4.config",
            )
        if "queue" not in options:
            raise ConfigError(
                "a4_printer: option 'queue' (the CUPS queue name) is required", code="a4.config"
            )
        return cls(
            queue=_queue(options["queue"]),
            server=_server(options.get("server")),
            port=_port(options.get("port")),
            job_timeout_s=_seconds(options, "job_timeout_s", 120.0),
            poll_interval_s=_seconds(options, "poll_interval_s", 0.5),
            call_timeout_s=_seconds(options, "call_timeout_s", 10.0),
            reconnect_grace_s=_seconds(options, "reconnect_grace_s", 10.0, allow_zero=True),
            cancel_on_timeout=_flag(options, "cancel_on_timeout", True),
            purge_finished_jobs=_flag(options, "purge_finished_jobs", True),
            tmp_dir=_tmp_dir(options.get("tmp_dir")),
            max_pdf_bytes=_positive_int(options, "max_pdf_bytes", 64 * 1024 * 1024),
            job_options=_job_options(options.get("job_options")),
        )


def _fail(message: str) -> ConfigError:
    return ConfigError(f"a4_printer: {message}", code="a4.config")


def _queue(value: Any) -> str:
    if not isinstance(value, str) or not _QUEUE_NAME.match(value) or _QUEUE_FORBIDDEN & set(value):
        raise _fail(
            f"option 'queue' must be a CUPS queue name (1-127 printable ASCII characters without "
            f"spaces, '/', '#' or '\\'), got {value!r}"
        )
    return value


def _server(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
        raise _fail(
            f"option 'server' must be a cupsd socket path or host name without spaces, got {value!r}"
        )
    return value


def _port(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise _fail(f"option 'port' must be an integer 1-65535, got {value!r}")
    return value


def _seconds(
    options: Mapping[str, Any], key: str, default: float, allow_zero: bool = False
) -> float:
    value = options.get(key, default)
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and (value > 0 or (allow_zero and value == 0)) and value <= 86400:
        return float(value)
    bound = ">= 0" if allow_zero else "> 0"
    raise _fail(f"option {key!r} must be a number of seconds {bound} and <= 86400, got {value!r}")


def _flag(options: Mapping[str, Any], key: str, default: bool) -> bool:
    value = options.get(key, default)
    if not isinstance(value, bool):
        raise _fail(f"option {key!r} must be true or false, got {value!r}")
    return value


def _positive_int(options: Mapping[str, Any], key: str, default: int) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _fail(f"option {key!r} must be a positive integer, got {value!r}")
    return value


def _tmp_dir(value: Any) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str | Path) or not str(value):
        raise _fail(f"option 'tmp_dir' must be a directory path, got {value!r}")
    path = Path(value)
    if not path.is_dir():
        raise _fail(f"option 'tmp_dir': {str(path)!r} is not an existing directory")
    return path


def _job_options(value: Any) -> Mapping[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise _fail(f"option 'job_options' must be a table of string values, got {value!r}")
    return dict(value)
