"""The A4 printer against a real private cupsd (devices/a4_printer/private_cups.py) with file-backed queues."""

from __future__ import annotations

import itertools
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cups
import pytest

from devices import registry
from devices.a4_printer.cups_backend import CupsPrinter
from devices.a4_printer.jobs import JobFailed, JobTimeout
from devices.a4_printer.private_cups import BACKEND_FAILED, BACKEND_STOP, CupsServer
from devices.errors import ConfigError, DeviceOffline, DeviceTimeout, InputRejected
from devices.state import DeviceState, PaperState

MARKER = "KIOSK TEST REPORT 7F3A"
_queue_numbers = itertools.count(1)


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cups_server() -> Iterator[CupsServer]:
    """One private cupsd for the module; killed at teardown even when tests fail."""
    server = CupsServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def private_server() -> Iterator[CupsServer]:
    """A cupsd of the test's own, for tests that stop or freeze the daemon."""
    server = CupsServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def queue(cups_server: CupsServer, request: pytest.FixtureRequest) -> str:
    """A fresh file-backed queue per test, so tests never see each other's jobs or states."""
    name = f"Q{next(_queue_numbers)}_{re.sub(r'[^A-Za-z0-9_]', '_', request.node.name)[:40]}"
    cups_server.add_queue(name)
    return name


def make_printer(server: CupsServer, queue: str, **options: Any) -> CupsPrinter:
    options.setdefault("job_timeout_s", 30)
    options.setdefault("poll_interval_s", 0.1)
    printer = registry.create("a4_printer", "cups", server.printer_config(queue, **options))
    assert isinstance(printer, CupsPrinter)
    return printer


@pytest.fixture
def printer(cups_server: CupsServer, queue: str) -> Iterator[CupsPrinter]:
    printer = make_printer(cups_server, queue)
    yield printer
    printer.close()


@pytest.fixture(scope="module")
def report_pdf() -> bytes:
    from io import BytesIO

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.setFont("Helvetica", 14)
    page.drawString(72, 760, MARKER)
    page.showPage()
    page.save()
    return buffer.getvalue()


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True, timeout=30
    ).stdout


# -- printing ------------------------------------------------------------------------------------
def test_report_pdf_prints_to_the_queue_and_is_tracked_to_completed(
    cups_server: CupsServer, queue: str, report_pdf: bytes, tmp_path: Path
) -> None:
    printer = make_printer(cups_server, queue, tmp_dir=str(tmp_path))
    result = printer.print_pdf(report_pdf, "credit-report")
    out = cups_server.output_path(queue)
    assert out.read_bytes().startswith(b"%PDF")
    assert MARKER in pdf_text(out)
    assert result.job_id > 0 and result.queue == queue and result.sheets == 1
    assert list(tmp_path.iterdir()) == []  # the private temp copy is gone
    # the spooled copy (personal data) was purged from cupsd once the job completed
    assert result.purged
    assert not (cups_server.spool_dir / f"d{result.job_id:05d}-001").exists()
    with pytest.raises(cups.IPPError):
        cups_server.job_attributes(result.job_id)


def test_a_file_path_can_be_submitted_and_waited_for(
    cups_server: CupsServer, printer: CupsPrinter, queue: str, report_pdf: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(report_pdf)
    job_id = printer.submit(path, "credit-report")
    result = printer.wait(job_id, timeout=30)
    assert result.job_id == job_id
    assert cups_server.output_path(queue).read_bytes().startswith(b"%PDF")
    assert path.exists()  # the caller's own file is left alone


def test_a_pjl_pdf_printer_gets_the_job_name_and_a4(
    cups_server: CupsServer, report_pdf: bytes
) -> None:
    out = cups_server.add_queue("PjlPrinter", driver="pdf-pjl")
    make_printer(cups_server, "PjlPrinter").print_pdf(report_pdf, "credit-report")
    data = out.read_bytes()
    assert data.startswith(b"\x1b%-12345X@PJL")
    assert b'JOB NAME = "credit-report"' in data  # why the job name must carry no personal data
    assert b"@PJL SET PAPER=A4" in data and b"%PDF" in data


def test_unusable_documents_are_refused_before_reaching_cups(
    cups_server: CupsServer, printer: CupsPrinter, queue: str, tmp_path: Path, report_pdf: bytes
) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a pdf")
    cases: list[tuple[bytes | Path, str, str]] = [
        (tmp_path / "missing.pdf", "credit-report", "a4.pdf_missing"),
        (tmp_path, "credit-report", "a4.pdf_missing"),
        (text_file, "credit-report", "a4.not_pdf"),
        (b"", "credit-report", "a4.not_pdf"),
        (report_pdf, "report 11010519491231002X", "a4.job_name_rejected"),
    ]
    for document, name, code in cases:
        with pytest.raises(InputRejected) as info:
            printer.submit(document, name)
        assert info.value.code == code
    listed = cups_server.run("lpstat", "-W", "all", "-o", queue).stdout
    assert listed.strip() == "" and not cups_server.output_path(queue).exists()


# -- a stalled job, cancelling -------------------------------------------------------------------
def test_paused_printer_is_offline_and_its_job_times_out_and_is_cancelled(
    cups_server: CupsServer, queue: str, report_pdf: bytes
) -> None:
    printer = make_printer(cups_server, queue, purge_finished_jobs=False)
    cups_server.pause(queue, "loading paper")
    status = printer.status()
    assert status.state is DeviceState.OFFLINE and status.error_code == "a4.paused"
    assert "paused" in status.detail and "loading paper" in status.detail
    assert not status.usable
    job_id = printer.submit(report_pdf, "credit-report")
    started = time.monotonic()
    with pytest.raises(JobTimeout) as info:
        printer.wait(job_id, timeout=0.5)
    assert time.monotonic() - started < 10
    error = info.value
    assert isinstance(error, DeviceTimeout) and error.code == "a4.job_timeout"
    assert error.cancelled and error.job_id == job_id and error.job_state == "pending"
    assert "paused" in error.detail and "cancelled" in error.detail
    # the stalled job will never print for a user who has already left
    assert cups_server.job_attributes(job_id)["job-state"] == 7  # canceled
    cups_server.resume(queue)
    assert printer.status().state is DeviceState.ONLINE


def test_timeout_without_cancelling_says_the_job_may_still_print(
    cups_server: CupsServer, queue: str, report_pdf: bytes
) -> None:
    printer = make_printer(cups_server, queue, cancel_on_timeout=False)
    cups_server.pause(queue)
    with pytest.raises(JobTimeout) as info:
        printer.print_pdf(report_pdf, "credit-report", timeout=0.3)
    assert not info.value.cancelled and "may still print" in info.value.detail
    cups_server.resume(queue)
    assert printer.wait(info.value.job_id, timeout=30).job_id == info.value.job_id


def test_printing_a_report_again_waits_on_its_job_already_in_the_queue(
    cups_server: CupsServer, queue: str, report_pdf: bytes
) -> None:
    """A submit whose answer was lost left the job in the queue: the reprint must not add one."""
    printer = make_printer(cups_server, queue)
    cups_server.pause(queue)
    lost = printer.submit(report_pdf, "report-R-20261122-LOST")  # the kiosk never heard back
    cups_server.resume(queue)
    result = printer.print_pdf(report_pdf, "report-R-20261122-LOST")
    assert result.job_id == lost
    assert printer.find_job("report-R-20261122-LOST") is None  # done, and purged
    # a cancelled job of that name is no print: the next attempt submits a new one
    cups_server.pause(queue)
    cancelled = printer.submit(report_pdf, "report-R-20261122-AGAIN")
    assert printer.cancel(cancelled)
    cups_server.resume(queue)
    assert printer.print_pdf(report_pdf, "report-R-20261122-AGAIN").job_id != cancelled


def test_cancel_a_queued_job(cups_server: CupsServer, queue: str, report_pdf: bytes) -> None:
    printer = make_printer(cups_server, queue)
    cups_server.pause(queue)
    job_id = printer.submit(report_pdf, "credit-report")
    assert printer.cancel(job_id) is True
    assert printer.cancel(job_id) is False  # already over
    with pytest.raises(JobFailed) as info:
        printer.wait(job_id, timeout=5)
    assert info.value.code == "a4.job_canceled" and info.value.cancelled
    with pytest.raises(InputRejected) as unknown:
        printer.cancel(987654)
    assert unknown.value.code == "a4.unknown_job"
    cups_server.resume(queue)
    assert not cups_server.output_path(queue).exists()


# -- the queue refusing, missing, failing --------------------------------------------------------
def test_rejecting_queue_refuses_the_job(
    cups_server: CupsServer, printer: CupsPrinter, queue: str, report_pdf: bytes
) -> None:
    cups_server.reject(queue, "out of service")
    status = printer.status()
    assert status.state is DeviceState.OFFLINE and status.error_code == "a4.not_accepting"
    with pytest.raises(DeviceOffline) as info:
        printer.submit(report_pdf, "credit-report")
    assert info.value.code == "a4.not_accepting" and "out of service" in info.value.detail
    assert not cups_server.output_path(queue).exists()
    assert not printer.self_test().ok


def test_unknown_queue_is_reported(cups_server: CupsServer, report_pdf: bytes) -> None:
    printer = make_printer(cups_server, "NoSuchQueue")
    status = printer.status()
    assert status.state is DeviceState.OFFLINE and status.error_code == "a4.unknown_queue"
    with pytest.raises(ConfigError) as info:
        printer.submit(report_pdf, "credit-report")
    assert info.value.code == "a4.unknown_queue" and "NoSuchQueue" in info.value.detail
    result = printer.self_test()
    assert not result.ok and any("a4.unknown_queue" in line for line in result.checks)


@pytest.mark.parametrize(
    ("reasons", "state", "paper", "cover_open", "code"),
    [
        (["media-empty-error"], DeviceState.HARDWARE_ERROR, PaperState.OUT, False, "a4.paper_out"),
        (["media-jam-error"], DeviceState.HARDWARE_ERROR, PaperState.JAMMED, False, "a4.paper_jam"),
        (
            ["cover-open-report"],
            DeviceState.HARDWARE_ERROR,
            PaperState.UNKNOWN,
            True,
            "a4.cover_open",
        ),
        (
            ["toner-low-warning", "media-low-report"],
            DeviceState.ONLINE,
            PaperState.LOW,
            False,
            None,
        ),
        (["offline-report"], DeviceState.OFFLINE, PaperState.UNKNOWN, False, "a4.offline"),
    ],
)
def test_reasons_set_in_cupsd_show_in_status(
    cups_server: CupsServer,
    printer: CupsPrinter,
    queue: str,
    reasons: list[str],
    state: DeviceState,
    paper: PaperState,
    cover_open: bool,
    code: str | None,
) -> None:
    cups_server.set_reasons(queue, *reasons)
    status = printer.status()
    assert (status.state, status.paper, status.cover_open, status.error_code) == (
        state,
        paper,
        cover_open,
        code,
    )
    assert all(reason in status.detail for reason in reasons)
    assert printer.self_test().ok is (code is None)
    cups_server.set_reasons(queue)  # cleared by the printer
    assert printer.status().state is DeviceState.ONLINE


def test_paper_jam_reported_by_the_backend_fails_the_job_at_once(
    cups_server: CupsServer, report_pdf: bytes
) -> None:
    cups_server.add_queue("JamPrinter", backend="kiosksim")
    cups_server.set_fault(
        "JamPrinter", "media-jam-error", exit_code=BACKEND_STOP, message="jam in tray 1"
    )
    printer = make_printer(cups_server, "JamPrinter", job_timeout_s=60)
    started = time.monotonic()
    with pytest.raises(JobFailed) as info:
        printer.print_pdf(report_pdf, "credit-report")
    assert time.monotonic() - started < 30  # not the 60 s job timeout
    assert info.value.code == "a4.paper_jam" and info.value.cancelled
    assert "media-jam-error" in info.value.detail and "jam in tray 1" in info.value.detail
    status = printer.status()
    assert status.paper is PaperState.JAMMED and "stopped" in status.detail


def test_job_aborted_by_the_backend_is_an_error(cups_server: CupsServer, report_pdf: bytes) -> None:
    cups_server.add_queue("AbortPrinter", backend="kiosksim", error_policy="abort-job")
    cups_server.set_fault("AbortPrinter", exit_code=BACKEND_FAILED, message="printer said no")
    printer = make_printer(cups_server, "AbortPrinter")
    with pytest.raises(JobFailed) as info:
        printer.print_pdf(report_pdf, "credit-report")
    assert info.value.code == "a4.job_aborted" and info.value.job_state == "aborted"


def test_job_stopped_by_cupsd_is_an_error_and_cancelled(
    cups_server: CupsServer, report_pdf: bytes
) -> None:
    cups_server.add_queue("BrokenOutput", Path("/nonexistent-dir/out.pdf"))
    printer = make_printer(cups_server, "BrokenOutput", purge_finished_jobs=False)
    with pytest.raises(JobFailed) as info:
        printer.print_pdf(report_pdf, "credit-report")
    assert info.value.code == "a4.job_stopped" and info.value.cancelled
    assert cups_server.job_attributes(info.value.job_id)["job-state"] == 7


# -- self-test -----------------------------------------------------------------------------------
def test_self_test_prints_only_when_asked(
    cups_server: CupsServer, printer: CupsPrinter, queue: str
) -> None:
    result = printer.self_test()
    assert result.ok and result.device == "a4_printer" and result.backend == "cups"
    assert any("reachable" in line for line in result.checks)
    assert not cups_server.output_path(queue).exists()
    result = printer.self_test(print_test_page=True)
    assert result.ok and any("test page" in line for line in result.checks)
    assert "self-test" in pdf_text(cups_server.output_path(queue))


# -- the daemon stopped or hung ------------------------------------------------------------------
def test_stopped_daemon_is_offline_and_refuses_quickly(
    private_server: CupsServer, report_pdf: bytes
) -> None:
    private_server.add_queue("KioskA4")
    printer = make_printer(private_server, "KioskA4")
    private_server.stop_daemon()
    started = time.monotonic()
    status = printer.status()
    assert status.state is DeviceState.OFFLINE and status.error_code == "a4.cups_unreachable"
    with pytest.raises(DeviceOffline) as info:
        printer.submit(report_pdf, "credit-report")
    assert info.value.code == "a4.cups_unreachable"
    assert not printer.self_test().ok
    assert time.monotonic() - started < 5  # no hang
    private_server.start()  # cupsd back: the queue and the printer object work again
    assert printer.print_pdf(report_pdf, "credit-report").job_id > 0


def test_hung_daemon_does_not_hang_the_kiosk(private_server: CupsServer, report_pdf: bytes) -> None:
    private_server.add_queue("KioskA4")
    printer = make_printer(private_server, "KioskA4", call_timeout_s=0.5)
    private_server.freeze()
    try:
        started = time.monotonic()
        status = printer.status()
        assert status.state is DeviceState.OFFLINE and status.error_code == "a4.cups_unresponsive"
        with pytest.raises(DeviceTimeout) as info:
            printer.submit(report_pdf, "credit-report")
        assert info.value.code == "a4.cups_unresponsive" and "may or may not" in info.value.detail
        assert time.monotonic() - started < 10
        # blocked requests are not piled up without end: past a few, it refuses at once
        details = [printer.status().detail for _ in range(4)]
        assert "earlier requests" in details[-1]
    finally:
        private_server.thaw()


def test_wait_rides_out_a_cupsd_restart(private_server: CupsServer, report_pdf: bytes) -> None:
    private_server.add_queue("KioskA4")
    printer = make_printer(private_server, "KioskA4", reconnect_grace_s=20)
    private_server.pause("KioskA4")
    job_id = printer.submit(report_pdf, "credit-report")
    private_server.stop_daemon()

    def come_back() -> None:
        private_server.start()
        private_server.resume("KioskA4")

    timer = threading.Timer(0.5, come_back)
    timer.start()
    try:
        result = printer.wait(job_id, timeout=30)
    finally:
        timer.join()
    assert result.job_id == job_id
    assert private_server.output_path("KioskA4").read_bytes().startswith(b"%PDF")


def test_closed_printer_refuses_work(printer: CupsPrinter, report_pdf: bytes) -> None:
    printer.close()
    assert printer.status().error_code == "a4.closed"
    with pytest.raises(DeviceOffline):
        printer.submit(report_pdf, "credit-report")


def test_two_printers_on_two_cupsd_in_one_process(
    cups_server: CupsServer, private_server: CupsServer, queue: str, report_pdf: bytes
) -> None:
    # libcups keeps the server per thread; each request sets it on its own worker thread
    private_server.add_queue(queue)
    first, second = make_printer(cups_server, queue), make_printer(private_server, queue)
    for _ in range(2):
        first.print_pdf(report_pdf, "credit-report")
        second.print_pdf(report_pdf, "credit-report")
    assert cups_server.output_path(queue).read_bytes().startswith(b"%PDF")
    assert private_server.output_path(queue).read_bytes().startswith(b"%PDF")
    private_server.pause(queue)
    assert first.status().state is DeviceState.ONLINE
    assert second.status().state is DeviceState.OFFLINE
