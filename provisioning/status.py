"""`status`: one screen with the enrollment, each device's state, the queue and the services."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

from .configfile import ConfigFile
from .diagnostics import read_devices
from .output import pairs, table
from .selftest import queue_counts
from .terminal import describe_enrollment
from .units import UNIT


def service_state() -> str:
    if shutil.which("systemctl") is None:
        return "systemctl not installed"
    try:
        done = subprocess.run(
            ["systemctl", "is-active", UNIT],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "systemctl did not answer"
    return done.stdout.strip() or done.stderr.strip().splitlines()[0] if done.stderr else "unknown"


def status(cf: ConfigFile) -> dict[str, Any]:
    config = cf.check()
    enrollment = describe_enrollment(config)
    devices = read_devices(config)
    queue = queue_counts(config)
    service = service_state()
    ok = bool(enrollment.get("enrolled")) and all(
        d.get("state") in ("online", "busy") for d in devices.values()
    )
    head = pairs(
        [
            ("配置 config", str(cf.path)),
            ("平台 platform", config.platform_url),
            (
                "注册 enrollment",
                f"terminal {enrollment['terminal_id']} (hall {enrollment['hall_id']})"
                if enrollment.get("enrolled")
                else "未注册 not enrolled",
            ),
            ("队列 queue", ", ".join(f"{k} {v}" for k, v in (queue or {"none yet": ""}).items())),
            (f"服务 service {UNIT}", service),
        ]
    )
    rows = [
        (
            kind,
            d.get("backend", ""),
            str(d.get("state", d.get("error_code", ""))),
            str(d.get("paper") or "-"),
            str(d.get("detail", ""))[:60],
        )
        for kind, d in devices.items()
    ]
    text = (
        head
        + "\n"
        + table(("设备 device", "后端 backend", "状态 state", "纸 paper", "详情 detail"), rows)
    )
    return {
        "ok": ok,
        "config": str(cf.path),
        "platform": config.platform_url,
        "enrollment": enrollment,
        "devices": devices,
        "queue": queue,
        "service": service,
        "_text": text,
    }
