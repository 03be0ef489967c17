"""The composition root: config → devices, identity, API client, services, journey, runner.

Nothing here runs at import; `build_kiosk` does the wiring and `Kiosk.close` undoes it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from devices import registry
from devices.errors import DeviceError
from offline_cache import FileKeyProvider, OfflineCacheError, OfflineStore

from . import hall_parts
from .alerts import StaffAlerts
from .api import ApiSettings, ReportApi
from .api_models import Enrollment
from .audit import AuditLog
from .config import KioskConfig
from .drain import OutboxDrainer
from .enrollment import enroll_terminal, read_token
from .errors import KioskError
from .hall_link import HallLink
from .hall_parts import Restart
from .identity import IdentityError, load_enrollment, load_key
from .journey import Journey
from .offline import REPORT_REQUEST
from .offline_desk import OfflineDesk
from .printing import PrintOrchestrator
from .receipts import ReceiptWording
from .runner import JourneyRunner
from .services import KioskServices
from .signing import TerminalCredentials, load_platform_key
from .staff import StaffLock
from .telemetry import EventShipper

log = logging.getLogger(__name__)

# an accepted request is never given up because the platform stayed away: at the drain's 300 s cap
# this is about a month of retries (the store's default, 100, would end after about 8 hours)
QUEUE_MAX_ATTEMPTS = 10_000


@dataclass
class Kiosk:
    config: KioskConfig
    enrollment: Enrollment
    devices: Mapping[str, Any]
    api: ReportApi
    services: KioskServices
    journey: Journey
    runner: JourneyRunner
    store: OfflineStore | None = None  # None: the store refused to open; out of service
    drainer: OutboxDrainer | None = None
    store_problem: str = ""  # the refusal's code, for the staff screen
    hall: HallLink | None = None  # the heartbeat, commands and help calls (DESIGN §8)
    shipper: EventShipper | None = None  # audit events to the platform, through the outbox
    restart: Restart = field(default_factory=Restart)
    closed: bool = field(default=False)

    def device_status(self) -> dict[str, Any]:
        return device_status(self.devices)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.runner.loop.is_running():  # the client's connections live on the runner's loop
            future = asyncio.run_coroutine_threadsafe(self.api.aclose(), self.runner.loop)
            try:
                future.result(timeout=5)
            except Exception as exc:  # closing must go on whatever happened to the loop
                log.warning("closing the API client: %s", type(exc).__name__)
        self.runner.stop()
        if self.store is not None:
            try:
                self.store.close()  # checkpoints the WAL into the file
            except OfflineCacheError as exc:
                log.warning("closing the offline store: %s", exc.code)
        for device in self.devices.values():
            try:
                device.close()
            except DeviceError as exc:
                log.warning("closing a device: %s", exc.code)


def device_status(devices: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for kind, device in devices.items():
        try:
            result[kind] = device.status().as_dict()
        except DeviceError as exc:  # a status call must never take the staff screen down
            result[kind] = {"state": exc.state.value, "error_code": exc.code}
    return result


NOT_ENROLLED = (
    "terminal not enrolled: on the platform, run `report-service terminals add-token --db DB "
    "--hall HALL --region REGION`; on this terminal, write the token it prints to a file and run "
    "`kiosk-provision enroll --config {config} --platform URL --token-file FILE` "
    "(or write it to {token_file}, terminal.enrollment_token_file, and start the kiosk again)"
)


def ensure_enrolled(
    config: KioskConfig, settings: ApiSettings
) -> tuple[Enrollment, TerminalCredentials]:
    """Load the enrollment, or enroll now with the one-time token file (first start), through the
    same `enroll_terminal` as `kiosk-provision enroll`."""
    enrollment = load_enrollment(config.enrollment_file)
    if enrollment is not None:
        if not config.key_file.exists():
            raise IdentityError(
                f"{config.key_file}: the terminal key is missing but {config.enrollment_file} "
                "exists; the platform will not accept another key: enroll the terminal again"
            )
        return enrollment, TerminalCredentials(enrollment.terminal_id, load_key(config.key_file))
    token_file = config.enrollment_token_file
    if token_file is None or not token_file.exists():
        where = token_file or "a file named by terminal.enrollment_token_file"
        raise IdentityError(
            NOT_ENROLLED.format(token_file=where, config=config.source or "the config")
        )
    return enroll_terminal(config, settings, read_token(token_file))


def build_devices(config: KioskConfig) -> dict[str, Any]:
    built: dict[str, Any] = {}
    try:
        for kind, device in config.devices.items():
            built[kind] = registry.create(kind, device.backend, device.options)
    except DeviceError:
        for device in built.values():
            device.close()
        raise
    return built


def open_offline_store(config: KioskConfig) -> OfflineStore:
    """The encrypted queue; its key is created on the very first start only (a missing key later
    is refused: a new key would make the queued requests unreadable)."""
    key_file = config.offline_key
    first_start = not config.offline_db.exists() or config.offline_db.stat().st_size == 0
    return OfflineStore.open(
        config.offline_db,
        FileKeyProvider(key_file, create=first_start),
        max_attempts=QUEUE_MAX_ATTEMPTS,
    )


def build_drainer(config: KioskConfig, store: OfflineStore, api: ReportApi) -> OutboxDrainer:
    """The task that delivers the queued requests, paced by the config's backoff."""
    return OutboxDrainer(
        store,
        api,
        base=config.offline.drain_backoff_base_s,
        cap=config.offline.drain_backoff_cap_s,
    )


def queue_counts(store: OfflineStore | None, problem: str) -> Callable[[], dict[str, Any]]:
    """The staff screen's view of the queue: counts per state, or why the store is unusable."""
    if store is None:
        return lambda: {"error": problem}
    outbox = store.outbox  # report requests: the events waiting beside them are not the queue
    return lambda: outbox.counts(kind=REPORT_REQUEST).as_dict()


def build_kiosk(config: KioskConfig) -> Kiosk:
    """Everything is built before it is handed on: each part gets its collaborators in its
    constructor, in this order."""
    settings = ApiSettings(
        config.platform_url, ca_bundle=None if config.ca_bundle is None else str(config.ca_bundle)
    )
    enrollment, credentials = ensure_enrolled(config, settings)
    devices = build_devices(config)
    api = ReportApi(settings, credentials)
    platform_key = load_platform_key(enrollment.platform_public_key)
    audit = AuditLog(config.state_dir / "audit.jsonl", enrollment.terminal_id)
    alerts = StaffAlerts(audit)
    wording = ReceiptWording(
        terminal_id=enrollment.terminal_id,
        hall_name=config.hall_name,
        verify_url_prefix=str(enrollment.config.get("verify_url_prefix", "")),
        report_title=str(enrollment.config.get("report_title", "")),
    )
    printing = PrintOrchestrator(
        devices["a4_printer"], devices["receipt_printer"], wording, alert=alerts.add
    )
    store: OfflineStore | None = None
    store_problem = ""
    try:
        store = open_offline_store(config)
    except OfflineCacheError as exc:
        # the files stay as they are, for recovery; nobody is served rather than requests lost
        store_problem = exc.code
        log.error("offline store refused to open (%s): %s", exc.code, exc.detail)
    drainer: OutboxDrainer | None = None
    desk: OfflineDesk | None = None
    if store is not None:
        drainer = build_drainer(config, store, api)
        desk = OfflineDesk(
            store,
            api,
            platform_key,
            printing,
            pickup_after_min=config.offline.pickup_after_min,
            reprint_ttl_s=config.offline.reprint_ttl_s,
            wake=drainer.wake,
            alert=alerts.add,
        )
    counters, shipper = hall_parts.telemetry(audit, store, api, config)
    services = KioskServices(
        api,
        platform_key,
        printing,
        audit,
        StaffLock(config.staff_pin_file),
        lambda: device_status(devices),
        alerts=alerts,
        queue_counts=queue_counts(store, store_problem),
        queue_call=None if shipper is None else shipper.queue_call,
    )
    journey = Journey(
        services,
        offline=desk,
        idle_timeout_s=config.ui.idle_timeout_s,
        countdown_s=config.ui.countdown_s,
        clock=time.monotonic,
        language=config.ui.language,
        elderly=config.ui.elderly_mode,
        service_desk=config.hall.service_desk,
        hall_name=config.hall_name,
        report_title=wording.report_title,
    )
    restart = hall_parts.Restart()
    hall = hall_parts.hall_link(
        config, api, journey.terminal, store, counters, devices,
        lambda: device_status(devices), restart,
    )  # fmt: skip
    audit.listen(hall.heard)
    if shipper is not None:
        shipper.call_delivered = hall.wake
    runner = JourneyRunner(journey, devices["id_card"], devices["qr_camera"])
    runner.add_task(hall.run)
    if drainer is not None:
        runner.add_task(drainer.run)
    else:
        journey.out_of_service("error.out_of_service", until_restart=True)
    if shipper is not None:
        runner.add_task(shipper.run)
    return Kiosk(
        config, enrollment, devices, api, services, journey, runner, store, drainer,
        store_problem, hall, shipper, restart,
    )  # fmt: skip


__all__ = [
    "Kiosk",
    "KioskError",
    "build_devices",
    "build_drainer",
    "build_kiosk",
    "ensure_enrolled",
]
