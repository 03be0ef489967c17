"""The composition of the kiosk's side of hall operations (DESIGN §8): counters and the event outbox on
the audit log, the command handlers, and the heartbeat. `compose.build_kiosk` calls these."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from offline_cache import OfflineCacheError, OfflineStore
from offline_cache.items import ItemState

from .api import ReportApi
from .audit import AuditLog
from .commands import CommandHandlers, CommandRunner
from .config import KioskConfig
from .hall_link import HallLink, HallSettings
from .offline import REPORT_REQUEST
from .telemetry import Counters, EventShipper
from .terminal_state import TerminalState

log = logging.getLogger(__name__)


@dataclass
class Restart:
    """How a `restart_app` command ends the app: the UI adds what stops it (screens/cli.py)."""

    hooks: list[Callable[[], None]] = field(default_factory=list)

    def __call__(self) -> None:
        for hook in self.hooks:
            hook()


def telemetry(
    audit: AuditLog, store: OfflineStore | None, api: ReportApi, config: KioskConfig
) -> tuple[Counters, EventShipper | None]:
    counters = Counters()
    audit.listen(counters)
    if store is None:
        return counters, None
    shipper = EventShipper(
        store, api, base=config.offline.drain_backoff_base_s, cap=config.offline.drain_backoff_cap_s
    )
    audit.listen(shipper)
    return counters, shipper


def queue_figures(store: OfflineStore | None) -> Callable[[], dict[str, Any]]:
    """The heartbeat's `queue`: report requests waiting, refused for good, the oldest's age."""

    def figures() -> dict[str, Any]:
        if store is None:
            return {"pending": 0, "dead_letters": 0, "oldest_age_s": None}
        try:
            counts = store.outbox.counts(kind=REPORT_REQUEST)
            oldest = store.outbox.items(ItemState.PENDING, kind=REPORT_REQUEST, limit=1)
        except OfflineCacheError as exc:
            log.error("queue figures unavailable: %s", exc.code)
            return {"pending": 0, "dead_letters": 0, "oldest_age_s": None}
        age = int(store.now() - oldest[0].created_at) if oldest else None
        return {
            "pending": counts.pending + counts.in_flight,
            "dead_letters": counts.dead_letter,
            "oldest_age_s": age,
        }

    return figures


def hall_link(
    config: KioskConfig,
    api: ReportApi,
    terminal: TerminalState,
    store: OfflineStore | None,
    counters: Counters,
    devices: Mapping[str, Any],
    device_status: Callable[[], dict[str, Any]],
    restart: Restart,
) -> HallLink:
    settings = HallSettings(
        float(config.hall.heartbeat_interval_s), tuple(config.hall.required_devices)
    )
    link: HallLink | None = None

    def ask_restart() -> None:
        assert link is not None
        link.request_restart()

    def apply(fresh: KioskConfig) -> str:
        terminal.apply_settings(
            desk=fresh.hall.service_desk, language=fresh.ui.language,
            elderly=fresh.ui.elderly_mode, idle_timeout_s=fresh.ui.idle_timeout_s,
            countdown_s=fresh.ui.countdown_s,
        )  # fmt: skip
        settings.interval_s = float(fresh.hall.heartbeat_interval_s)
        settings.required_devices = tuple(fresh.hall.required_devices)
        later = [
            name for name, changed in (
                ("devices", fresh.devices != config.devices),
                ("platform", fresh.platform_url != config.platform_url),
                ("offline", fresh.offline != config.offline),
            ) if changed
        ]  # fmt: skip
        return f"reloaded; {', '.join(later)} take effect after a restart" if later else "reloaded"

    handlers = CommandHandlers(
        terminal, devices["a4_printer"], api, config, apply, device_status, ask_restart
    )
    link = HallLink(
        api, terminal, CommandRunner(handlers.table(), store), counters,
        device_status=device_status, queue=queue_figures(store), settings=settings,
        restart=restart, clock=time.monotonic,
    )  # fmt: skip
    return link
