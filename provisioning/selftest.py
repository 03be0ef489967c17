"""`kiosk-provision self-test`: each device for real, the platform, the disk and the queue.

One table of checks (`CHECKS`): each has its labels and a function returning a `CheckResult` with
one outcome (pass, warn, fail), one line saying what was found and, for a fault, the step to take
(from `advice.ADVICE`). Devices are built through the kiosk's own registry from the kiosk's own
config, so the self-test exercises exactly what the kiosk will use.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devices import registry
from devices.errors import DeviceError, DriverMissing
from devices.receipt.device import self_test_receipt
from devices.state import SelfTestResult
from kiosk.config import KioskConfig
from offline_cache import FileKeyProvider, OfflineCacheError, OfflineStore

from .advice import ADVICE, fault_line
from .output import Progress
from .platform_probe import probe

LAST_SELF_TEST = "last-self-test.json"  # in the state folder; diagnostics bundles it
TEST_QR = self_test_receipt("sim", 80).qr_payload  # the code on the test receipt
MB = 1 << 20


@dataclass(frozen=True)
class Options:
    print_pages: bool = True  # an A4 test page and a test receipt
    strict: bool = False  # a warning (no card, no test QR) fails too
    wait_s: float = 0.0  # how long to wait for a card on the reader / the test QR in view
    min_free_mb: int = 500
    only: tuple[str, ...] = ()
    clock: Callable[[], float] = time.time


@dataclass(frozen=True)
class CheckResult:
    key: str
    label: str
    outcome: str  # pass | warn | fail
    summary: str
    step: str = ""
    code: str | None = None
    details: tuple[str, ...] = ()
    duration_ms: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.key,
            "label": self.label,
            "outcome": self.outcome,
            "summary": self.summary,
            "step": self.step,
            "code": self.code,
            "details": list(self.details),
            "duration_ms": round(self.duration_ms, 1),
        }


@dataclass
class Report:
    results: list[CheckResult] = field(default_factory=list)
    started_at: float = 0.0

    @property
    def ok(self) -> bool:
        return all(r.outcome != "fail" for r in self.results)

    def as_dict(self) -> dict[str, Any]:
        counts = {o: sum(r.outcome == o for r in self.results) for o in ("pass", "warn", "fail")}
        return {
            "ok": self.ok,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started_at)),
            "counts": counts,
            "checks": [r.as_dict() for r in self.results],
        }


Runner = Callable[[KioskConfig, Options, "Check"], CheckResult]


@dataclass(frozen=True)
class Check:
    key: str
    zh: str
    en: str
    run: Runner
    slow: bool = False  # shows progress

    @property
    def label(self) -> str:
        return f"{self.zh} {self.en}"

    def result(self, outcome: str, summary: str, **more: Any) -> CheckResult:
        return CheckResult(self.key, self.label, outcome, summary, **more)

    def fault(
        self,
        code: str | None,
        detail: str,
        details: tuple[str, ...] = (),
        *,
        warn: bool = False,
        names: dict[str, str] | None = None,
    ) -> CheckResult:
        what, step = fault_line(code, detail, **(names or {}))
        return self.result("warn" if warn else "fail", what, step=step, code=code, details=details)


@contextmanager
def _device(config: KioskConfig, kind: str) -> Iterator[Any]:
    spec = config.devices[kind]
    device = registry.create(kind, spec.backend, spec.options)
    try:
        yield device
    finally:
        with contextlib.suppress(DeviceError):  # closing must not hide what the test found
            device.close()


def _device_fault(check: Check, result: SelfTestResult, fallback: str, **names: str) -> CheckResult:
    code = result.status.error_code or fallback
    return check.fault(code, result.status.detail, result.checks, names=names)


def _id_card(config: KioskConfig, options: Options, check: Check) -> CheckResult:
    with _device(config, "id_card") as reader:
        result = reader.self_test()
        if not result.ok:
            return _device_fault(check, result, "id_card.reader_error")
        # a card must stay in the field for a whole poll window; its data is never read
        deadline = time.monotonic() + options.wait_s
        present = not reader.wait_card_removed(0.7)
        while not present and time.monotonic() < deadline:
            present = not reader.wait_card_removed(0.7)
    if not present:
        return check.fault("id_card.no_card", "SAM ok", result.checks, warn=not options.strict)
    return check.result("pass", "SAM ok, a card is on the reader", details=result.checks)


def _qr_camera(config: KioskConfig, options: Options, check: Check) -> CheckResult:
    with _device(config, "qr_camera") as scanner:
        result = scanner.self_test()
        if not result.ok:
            return _device_fault(check, result, "qr.no_frame")
        seen = scanner.next_code(max(options.wait_s, 2.0))
    if seen is None:
        return check.fault("qr.no_test_code", "frames ok", result.checks, warn=not options.strict)
    what = "the test QR" if seen == TEST_QR else "a QR code (not the test receipt's)"
    return check.result("pass", f"frames ok, {what} decoded", details=result.checks)


def _a4_printer(config: KioskConfig, options: Options, check: Check) -> CheckResult:
    queue = str(config.devices["a4_printer"].options.get("queue", "?"))
    with _device(config, "a4_printer") as printer:
        result = printer.self_test(print_test_page=options.print_pages)
    if not result.ok:
        return _device_fault(check, result, "a4.printer_error", queue=queue)
    printed = "test page printed (CUPS: completed)" if options.print_pages else "ready"
    return check.result("pass", f"queue {queue}: {printed}", details=result.checks)


def _receipt_printer(config: KioskConfig, options: Options, check: Check) -> CheckResult:
    with _device(config, "receipt_printer") as printer:
        result = printer.self_test(print_page=options.print_pages)
    if not result.ok:
        return _device_fault(check, result, "receipt.offline")
    printed = "test receipt printed (with the test QR)" if options.print_pages else "ready"
    return check.result("pass", printed, details=result.checks)


def _platform(config: KioskConfig, options: Options, check: Check) -> CheckResult:
    found = probe(config, clock=options.clock)
    if not found.ok:
        return check.fault(found.code, found.detail)
    if found.warning:
        return check.fault(found.code, found.detail, warn=True)
    return check.result("pass", found.detail)


def _disk(config: KioskConfig, options: Options, check: Check) -> CheckResult:
    where = _existing(config.state_dir)
    usage = shutil.disk_usage(where)
    free_mb, total_mb = usage.free // MB, usage.total // MB
    line = f"{where}: {free_mb} MB free of {total_mb} MB"
    need = max(options.min_free_mb, total_mb // 20)  # and never under 5 %
    if free_mb < need:
        return check.fault("disk.nearly_full", f"{line}; at least {need} MB needed")
    if free_mb < 2 * need:
        return check.fault("disk.low", line, warn=True)
    return check.result("pass", line)


def _queue(config: KioskConfig, options: Options, check: Check) -> CheckResult:
    counts = queue_counts(config)
    if counts is None:
        return check.result("pass", "empty (no queue yet)")
    if "error" in counts:
        return check.fault("queue.unreadable", str(counts["error"]))
    line = ", ".join(f"{k} {v}" for k, v in counts.items())
    if counts.get("dead_letter"):
        return check.fault("queue.dead_letters", line)
    if counts.get("pending") or counts.get("in_flight"):
        return check.fault("queue.pending", line, warn=True)
    return check.result("pass", line)


def queue_counts(config: KioskConfig) -> dict[str, Any] | None:
    """Outbox items per state; None when there is no queue; {"error": code} when it will not open."""
    if not config.offline_db.exists():
        return None
    try:
        store = OfflineStore.open(config.offline_db, FileKeyProvider(config.offline_key))
    except OfflineCacheError as exc:
        return {"error": exc.code}
    try:
        return dict(store.outbox.counts().as_dict())
    finally:
        store.close()


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


CHECKS: tuple[Check, ...] = (
    Check("id_card", "读卡器", "ID card reader", _id_card),
    Check("qr_camera", "扫码摄像头", "QR camera", _qr_camera, slow=True),
    Check("a4_printer", "A4打印机", "A4 printer", _a4_printer, slow=True),
    Check("receipt_printer", "凭条打印机", "receipt printer", _receipt_printer),
    Check("platform", "平台连接", "platform", _platform),
    Check("disk", "磁盘空间", "disk space", _disk),
    Check("queue", "离线队列", "offline queue", _queue),
)
CHECK_KEYS = tuple(c.key for c in CHECKS)


def run_self_test(
    config: KioskConfig, options: Options, progress: Progress, checks: Sequence[Check] = ()
) -> Report:
    """Every check (or `checks`) in turn; a check that raises fails its own row, never the run."""
    report = Report(started_at=options.clock())
    for check in checks or CHECKS:
        if options.only and check.key not in options.only:
            continue
        started = time.perf_counter()
        with progress.step(f"{check.label}"):
            try:
                result = check.run(config, options, check)
            except DriverMissing as exc:
                result = check.fault("device.driver_missing", str(exc))
            except DeviceError as exc:  # the factory refused the options, or a call failed
                code = exc.code if exc.code in ADVICE else "device.config_error"
                result = check.fault(code, str(exc))
            except OSError as exc:  # a key or device file this user cannot open: this row fails
                where = exc.filename or ""
                result = check.fault("system.file_access", f"{where}: {exc.strerror or exc}")
        elapsed = (time.perf_counter() - started) * 1000
        report.results.append(dataclasses.replace(result, duration_ms=elapsed))
    return report


def save_report(config: KioskConfig, report: Report) -> Path | None:
    """Keep the last self-test beside the terminal's state, for `diagnostics`."""
    if not config.state_dir.is_dir():
        return None
    path = config.state_dir / LAST_SELF_TEST
    path.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    return path
