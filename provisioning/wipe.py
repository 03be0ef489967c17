"""`wipe`: decommissioning. Refuses while the queue holds undelivered requests (unless told to
discard them), asks the platform to revoke the terminal, destroys keys, queue, caches and logs,
and returns an erasure record.

The queue and the reprint cache are encrypted with the offline key; destroying that key makes any
copy of them that a journaling or flash file system keeps unreadable (crypto-erasure). Files are
also overwritten once before they are unlinked.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from kiosk.api import ApiSettings, ReportApi
from kiosk.config import KioskConfig
from kiosk.errors import ApiError, KioskError, PlatformUnavailable
from kiosk.identity import load_enrollment, load_key
from kiosk.signing import TerminalCredentials

from .errors import Exit, ProvisionError
from .selftest import queue_counts

UNDELIVERED = ("pending", "in_flight", "dead_letter")


def wipe(
    config: KioskConfig, *, discard_queue: bool = False, offline: bool = False
) -> dict[str, Any]:
    targets = _targets(config)
    if not targets:
        raise ProvisionError(
            "nothing to wipe: no key, enrollment, queue or log on this terminal",
            "nothing to do",
            Exit.NOTHING_TO_DO,
        )
    counts = queue_counts(config)
    waiting = sum(int(counts.get(s, 0)) for s in UNDELIVERED) if counts else 0
    if counts and "error" in counts and not discard_queue:
        raise ProvisionError(
            f"the queue cannot be read ({counts['error']}); it may hold undelivered requests",
            "fix the offline key first, or add --discard-queue to destroy them anyway",
            Exit.REFUSED,
        )
    if waiting and not discard_queue:
        raise ProvisionError(
            f"{waiting} queued item(s) not delivered to the platform yet ({_line(counts)})",
            "connect the terminal and let the kiosk deliver them (`kiosk-provision status`), "
            "or add --discard-queue to destroy them",
            Exit.REFUSED,
        )
    revocation = _revoke(config, offline)
    destroyed = [_destroy(path) for path in targets]
    _remove_empty_dirs(config.state_dir)
    return {
        "erasure_record": {
            "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "host": platform.node(),
            "operator": os.environ.get("SUDO_USER") or os.environ.get("USER") or "unknown",
            "terminal": revocation,
            "queue_discarded": waiting if discard_queue else 0,
            "destroyed": destroyed,
            "journal": _vacuum_journal(),
            "method": "overwritten once, then unlinked; the offline key destroyed (crypto-erasure)",
        }
    }


def _targets(config: KioskConfig) -> list[Path]:
    files: list[Path] = []
    named = [config.key_file, config.enrollment_file, config.offline_db, config.offline_key]
    named += [Path(f"{config.offline_db}-wal"), Path(f"{config.offline_db}-shm")]
    named += [p for p in (config.staff_pin_file, config.enrollment_token_file) if p is not None]
    files += [p for p in named if p.is_file()]
    if config.state_dir.is_dir():  # caches, audit log, logs, the last self-test: everything there
        files += [p for p in sorted(config.state_dir.rglob("*")) if p.is_file() and p not in files]
    return files


def _revoke(config: KioskConfig, offline: bool) -> dict[str, Any]:
    try:
        enrollment = load_enrollment(config.enrollment_file)
        key = load_key(config.key_file) if enrollment and config.key_file.exists() else None
    except KioskError as exc:
        return {"revoked": False, "note": f"enrollment unreadable ({exc.detail})"}
    if enrollment is None or key is None:
        return {"revoked": False, "note": "not enrolled"}
    terminal = {"terminal_id": enrollment.terminal_id, "hall_id": enrollment.hall_id}
    settings = ApiSettings(
        config.platform_url, ca_bundle=None if config.ca_bundle is None else str(config.ca_bundle)
    )

    async def call() -> dict[str, Any]:
        api = ReportApi(settings, TerminalCredentials(enrollment.terminal_id, key))
        try:
            return await api.revoke_terminal()
        finally:
            await api.aclose()

    try:
        answer = asyncio.run(call())
    except ApiError as exc:
        if exc.code == "unknown_terminal":  # revoked before (a lost answer, or on the platform)
            return {
                **terminal,
                "revoked": True,
                "note": "the platform already refuses this terminal",
            }
        raise ProvisionError(
            f"the platform refused to revoke terminal {enrollment.terminal_id}: {exc.code}",
            "check the clock (`kiosk-provision self-test --only platform`); nothing was destroyed",
            Exit.PLATFORM_REFUSED,
        ) from None
    except PlatformUnavailable as exc:
        if not offline:
            raise ProvisionError(
                f"the platform could not be reached to revoke terminal {enrollment.terminal_id}: "
                f"{exc.detail}; nothing was destroyed",
                "connect the terminal, or add --offline and run "
                f"`report-service terminals revoke {enrollment.terminal_id}` on the platform",
                Exit.UNREACHABLE,
            ) from None
        return {
            **terminal,
            "revoked": False,
            "note": f"offline: run `report-service terminals revoke {enrollment.terminal_id}`",
        }
    return {**terminal, "revoked": True, "already_revoked": bool(answer.get("already_revoked"))}


def _destroy(path: Path) -> dict[str, Any]:
    size = path.stat().st_size
    try:
        with open(path, "r+b", buffering=0) as f:
            remaining = size
            while remaining > 0:
                chunk = min(remaining, 1 << 20)
                f.write(os.urandom(chunk))
                remaining -= chunk
            os.fsync(f.fileno())
    except OSError:
        pass  # unlinking is what matters; the key's destruction covers what stays on disk
    path.unlink()
    return {"path": str(path), "bytes": size}


def _remove_empty_dirs(root: Path) -> None:
    if not root.is_dir():
        return
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()


def _vacuum_journal() -> str:
    """Under systemd, the kiosk's journal goes too (journald cannot drop one unit's lines)."""
    if not Path("/run/systemd/system").is_dir() or shutil.which("journalctl") is None:
        return "not under systemd here: no journal to clear"
    for args in (["journalctl", "--rotate"], ["journalctl", "--vacuum-time=1s"]):
        try:
            subprocess.run(args, capture_output=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            return "journal: vacuum timed out"
    return "journal rotated and vacuumed"


def _line(counts: dict[str, Any] | None) -> str:
    return ", ".join(f"{k} {v}" for k, v in (counts or {}).items())
