"""The A4 printer as a CUPS queue, through pycups.

Every request to cupsd is bounded (see cups_calls). A job is tracked by its id to `completed`;
a job that is not done in `job_timeout_s` counts as stalled and is cancelled, so a report never
comes out later for a user who has left.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError, DeviceError, DeviceOffline, DeviceTimeout, InputRejected
from ..state import DeviceState, DeviceStatus, PaperState, SelfTestResult
from .config import CupsConfig
from .cups_calls import CupsClient, is_not_found
from .documents import check_job_name, spooled_pdf
from .jobs import JobFailed, JobResult, JobSnapshot, JobState, JobTimeout, describe_failure
from .state_map import PRINTER_STOPPED, status_from_attributes
from .testpage import self_test_page

log = logging.getLogger("devices.a4_printer")

PRINTER_ATTRIBUTES = [
    "printer-state",
    "printer-state-reasons",
    "printer-state-message",
    "printer-is-accepting-jobs",
    "device-uri",
    "printer-make-and-model",
]
JOB_ATTRIBUTES = [
    "job-state",
    "job-state-reasons",
    "job-printer-state-message",
    "job-media-sheets-completed",
]
FIRST_POLL_S = 0.05  # a file-backed job completes in ~20 ms; real printers take seconds
UPLOAD_BYTES_PER_S = 5_000_000  # extra submit time allowed per byte, on top of call_timeout_s
_CONNECTION_LOST = ("a4.cups_unreachable", "a4.cups_unresponsive")

Document = bytes | bytearray | Path | str


class CupsPrinter:
    """One CUPS queue. Thread-safe: each request runs on its own connection."""

    device = "a4_printer"
    backend = "cups"

    def __init__(self, config: CupsConfig) -> None:
        self.config = config
        self._client = CupsClient(config.server, config.port, config.call_timeout_s)
        self._submitted: dict[int, float] = {}  # job id -> monotonic submit time
        self._closed = False

    @classmethod
    def from_config(cls, options: Mapping[str, Any]) -> CupsPrinter:
        return cls(CupsConfig.from_options(options))

    def __repr__(self) -> str:
        return f"CupsPrinter(queue={self.config.queue!r}, server={self._client.describe()!r})"

    # -- status ----------------------------------------------------------------------------------
    def status(self) -> DeviceStatus:
        """Never raises: an unreachable cupsd or a missing queue is an OFFLINE status."""
        if self._closed:
            return DeviceStatus(DeviceState.OFFLINE, "closed", error_code="a4.closed")
        try:
            attrs = self._client.call(f"status of {self.config.queue}", self._printer_attributes)
        except DeviceError as exc:
            return _unreachable_status(exc)
        return status_from_attributes(attrs)

    # -- jobs ------------------------------------------------------------------------------------
    def submit(self, pdf: Document, job_name: str) -> int:
        """Queue a PDF (bytes or a file path); returns the CUPS job id.

        Raises InputRejected (a4.pdf_missing, a4.not_pdf, a4.job_name_rejected...) before talking
        to cupsd, then DeviceOffline a4.not_accepting / a4.cups_unreachable, ConfigError
        a4.unknown_queue, DeviceTimeout a4.cups_unresponsive.
        """
        self._check_open()
        name = check_job_name(job_name)
        queue = self.config.queue
        with spooled_pdf(pdf, self.config.tmp_dir, self.config.max_pdf_bytes) as path:
            size = path.stat().st_size

            def send(conn: Any) -> int:
                attrs = self._printer_attributes(conn)
                if attrs.get("printer-is-accepting-jobs") is False:
                    why = str(attrs.get("printer-state-message") or "").strip() or "cupsreject"
                    raise DeviceOffline(
                        f"queue {queue!r} is not accepting jobs ({why})", code="a4.not_accepting"
                    )
                return int(conn.printFile(queue, str(path), name, dict(self.config.job_options)))

            timeout = self.config.call_timeout_s + size / UPLOAD_BYTES_PER_S
            try:
                job_id = self._client.call(f"submit to {queue}", send, timeout=timeout)
            except DeviceTimeout as exc:
                raise DeviceTimeout(
                    f"{exc.detail}; the job may or may not have been queued - check the queue "
                    "before printing again",
                    code=exc.code,
                ) from exc
        self._submitted[job_id] = time.monotonic()
        log.info("job %d submitted to %s as %r (%d bytes)", job_id, queue, name, size)
        return job_id

    def wait(self, job_id: int, timeout: float | None = None) -> JobResult:
        """Poll the job until CUPS reports it completed.

        Raises JobTimeout (a DeviceTimeout, code a4.job_timeout) when it is not done in time,
        cancelling it unless `cancel_on_timeout` is off - `exc.cancelled` says which; JobFailed
        (a HardwareError) when it ends aborted/canceled/stopped (a4.job_aborted, a4.job_canceled,
        a4.job_stopped) or the queue stops on a printer error (a4.paper_out, a4.paper_jam,
        a4.cover_open...), with the printer's reasons in the message and `exc.printer_status`.
        """
        self._check_open()
        limit = self.config.job_timeout_s if timeout is None else float(timeout)
        if not limit > 0:
            raise InputRejected(f"timeout must be > 0 s, got {timeout!r}", code="a4.bad_timeout")
        deadline = time.monotonic() + limit
        delay = FIRST_POLL_S
        lost_since: float | None = None
        while True:
            try:
                snapshot, attrs = self._client.call(
                    f"status of job {job_id}", lambda conn: self._poll(conn, job_id)
                )
                lost_since = None
            except DeviceError as exc:
                if exc.code not in _CONNECTION_LOST:
                    raise
                now = time.monotonic()
                lost_since = now if lost_since is None else lost_since
                # ride out a cupsd restart: its jobs survive it
                if now - lost_since >= self.config.reconnect_grace_s or now >= deadline:
                    raise type(exc)(
                        f"lost cupsd while waiting for job {job_id}; its outcome is unknown: "
                        f"{exc.detail}",
                        code=exc.code,
                    ) from exc
                time.sleep(min(delay, max(deadline - now, 0.0)))
                delay = min(delay * 2, self.config.poll_interval_s)
                continue
            result = self._judge(snapshot, attrs, deadline, limit)
            if result is not None:
                return result
            time.sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
            delay = min(delay * 2, self.config.poll_interval_s)

    def print_pdf(self, pdf: Document, job_name: str, timeout: float | None = None) -> JobResult:
        """submit + wait. A job of the same name already in the queue, unfinished or completed
        (a submit whose answer was lost, a wait that timed out without cancelling), is waited on
        instead: a report is never printed twice by accident (DESIGN §5)."""
        earlier = self.find_job(job_name)
        if earlier is not None:
            log.info(
                "job %d on %s is already %r: waiting on it", earlier, self.config.queue, job_name
            )
        return self.wait(self.submit(pdf, job_name) if earlier is None else earlier, timeout)

    def find_job(self, job_name: str) -> int | None:
        """The newest job of this name on this queue that was not cancelled or aborted."""
        self._check_open()
        queue = self.config.queue

        def look(conn: Any) -> int | None:
            # pycups keys the answer by job-id, so it must be asked for; cupsd shows a job's
            # name to its owner only (JobPrivateValues), hence my_jobs
            jobs = conn.getJobs(
                which_jobs="all",
                my_jobs=True,
                requested_attributes=["job-id", "job-name", "job-printer-uri", "job-state"],
            )
            mine = [
                job_id
                for job_id, attrs in jobs.items()
                if attrs.get("job-name") == job_name
                and str(attrs.get("job-printer-uri", "")).endswith("/" + queue)
                and attrs.get("job-state") not in (JobState.CANCELED, JobState.ABORTED)
            ]
            return max(mine, default=None)

        return self._client.call(f"jobs named {job_name!r} on {queue}", look)

    def cancel(self, job_id: int) -> bool:
        """Cancel a job; False when it had already finished. Unknown id: InputRejected a4.unknown_job."""
        self._check_open()

        def do(conn: Any) -> bool:
            snapshot = JobSnapshot.from_attributes(job_id, self._job_attributes(conn, job_id))
            if snapshot.state is not None and snapshot.state.finished:
                return False
            conn.cancelJob(job_id, purge_job=False)
            return True

        cancelled = self._client.call(f"cancel job {job_id}", do)
        log.info("job %d on %s: cancel requested (%s)", job_id, self.config.queue, cancelled)
        return cancelled

    # -- self-test -------------------------------------------------------------------------------
    def self_test(self, print_test_page: bool = False) -> SelfTestResult:
        """Checks cupsd, the queue and the printer state; prints a page only when asked."""
        started = time.perf_counter()
        checks: list[str] = []
        queue = self.config.queue
        try:
            self._check_open()
            attrs = self._client.call(f"self-test of {queue}", self._printer_attributes)
            checks.append(f"cupsd at {self._client.describe()}: reachable")
            scheme = urlsplit(str(attrs.get("device-uri") or "")).scheme or "?"  # no credentials
            model = attrs.get("printer-make-and-model") or "unknown model"
            checks.append(f"queue {queue!r}: present, device {scheme}:, {model}")
            accepting = attrs.get("printer-is-accepting-jobs") is not False
            checks.append(f"queue accepting jobs: {'yes' if accepting else 'NO'}")
            status = status_from_attributes(attrs)
            checks.append(f"printer {status.state.value}: {status.detail}")
            ok = accepting and status.usable
            if print_test_page and ok:
                page = self_test_page((f"queue {queue}", f"cupsd {self._client.describe()}"))
                result = self.print_pdf(page, "kiosk-self-test")
                checks.append(
                    f"test page: job {result.job_id} completed in {result.elapsed_s:.1f} s"
                )
            elif print_test_page:
                checks.append("test page: skipped, the printer is not usable")
        except DeviceError as exc:
            checks.append(f"FAILED: {exc}")
            status = _unreachable_status(exc) if exc.state is DeviceState.OFFLINE else self.status()
            ok = False
        return SelfTestResult(
            device=self.device,
            backend=self.backend,
            ok=ok,
            status=status,
            checks=tuple(checks),
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def close(self) -> None:
        """Nothing stays open between calls; after close every call is refused."""
        self._closed = True
        self._submitted.clear()

    # -- internals (the `conn` methods run on a cups_calls worker thread) ------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise DeviceOffline("the A4 printer object is closed", code="a4.closed")

    def _printer_attributes(self, conn: Any) -> dict[str, Any]:
        try:
            attrs = conn.getPrinterAttributes(
                self.config.queue, requested_attributes=PRINTER_ATTRIBUTES
            )
        except Exception as exc:
            if is_not_found(exc):
                raise ConfigError(
                    f"cupsd at {self._client.describe()} has no queue {self.config.queue!r}",
                    code="a4.unknown_queue",
                ) from exc
            raise
        return dict(attrs)

    def _job_attributes(self, conn: Any, job_id: int) -> dict[str, Any]:
        try:
            return dict(conn.getJobAttributes(job_id, requested_attributes=JOB_ATTRIBUTES))
        except Exception as exc:
            if is_not_found(exc):
                raise InputRejected(
                    f"cupsd has no job {job_id} (never submitted, or already purged)",
                    code="a4.unknown_job",
                ) from exc
            raise

    def _poll(self, conn: Any, job_id: int) -> tuple[JobSnapshot, dict[str, Any]]:
        snapshot = JobSnapshot.from_attributes(job_id, self._job_attributes(conn, job_id))
        return snapshot, self._printer_attributes(conn)

    def _judge(
        self, snapshot: JobSnapshot, attrs: dict[str, Any], deadline: float, limit: float
    ) -> JobResult | None:
        """None: keep waiting. Otherwise the result, or the error raised."""
        job_id, state, queue = snapshot.job_id, snapshot.state, self.config.queue
        printer = status_from_attributes(attrs)
        if state is JobState.COMPLETED:
            purged = self._purge(job_id)
            submitted = self._submitted.pop(job_id, None)
            elapsed = 0.0 if submitted is None else time.monotonic() - submitted
            log.info("job %d on %s completed in %.2f s", job_id, queue, elapsed)
            return JobResult(job_id, queue, snapshot.sheets, elapsed, purged)
        if state in (JobState.CANCELED, JobState.ABORTED):
            self._purge(job_id)
            self._submitted.pop(job_id, None)
            raise self._failed(snapshot, printer, f"a4.job_{state.label}", None)
        if state is JobState.STOPPED:
            raise self._failed(snapshot, printer, "a4.job_stopped", self._cancel_quietly(job_id))
        queue_stopped = attrs.get("printer-state") == PRINTER_STOPPED
        if queue_stopped and printer.state is DeviceState.HARDWARE_ERROR:
            # the queue stopped on a printer error: nothing moves until a technician acts
            code = printer.error_code or "a4.printer_error"
            raise self._failed(snapshot, printer, code, self._cancel_quietly(job_id))
        if time.monotonic() < deadline:
            return None
        cancelled = self._cancel_quietly(job_id) if self.config.cancel_on_timeout else False
        message = f"job did not complete within {limit:g} s; " + describe_failure(
            snapshot, queue, printer, cancelled
        )
        log.warning("%s", message)
        raise JobTimeout(
            message,
            job_id=job_id,
            job_state=snapshot.label,
            cancelled=cancelled,
            printer_status=printer,
        )

    def _failed(
        self, snapshot: JobSnapshot, printer: DeviceStatus, code: str, cancelled: bool | None
    ) -> JobFailed:
        message = describe_failure(snapshot, self.config.queue, printer, cancelled)
        log.warning("%s: %s", code, message)
        return JobFailed(
            message,
            code=code,
            job_id=snapshot.job_id,
            job_state=snapshot.label,
            cancelled=True if cancelled is None else cancelled,  # canceled/aborted: already over
            printer_status=printer,
        )

    def _cancel_quietly(self, job_id: int) -> bool:
        """Cancel (and purge, if configured) for an error path; True when the job is over."""
        purge = self.config.purge_finished_jobs

        def do(conn: Any) -> bool:
            conn.cancelJob(job_id, purge_job=purge)
            return True

        try:
            self._client.call(f"cancel job {job_id}", do)
        except DeviceError as exc:
            log.warning("job %d on %s: cancel failed: %s", job_id, self.config.queue, exc)
            return False
        self._submitted.pop(job_id, None)
        return True

    def _purge(self, job_id: int) -> bool:
        """Remove a finished job's spooled document (personal data) from cupsd."""
        if not self.config.purge_finished_jobs:
            return False

        def do(conn: Any) -> bool:
            conn.cancelJob(job_id, purge_job=True)
            return True

        try:
            return self._client.call(f"purge job {job_id}", do)
        except DeviceError as exc:
            log.warning("job %d on %s: purge failed: %s", job_id, self.config.queue, exc)
            return False


def _unreachable_status(exc: DeviceError) -> DeviceStatus:
    return DeviceStatus(
        DeviceState.OFFLINE,
        exc.detail,
        paper=PaperState.UNKNOWN,
        cover_open=None,
        error_code=exc.code,
    )
