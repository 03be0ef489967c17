"""Print orchestration: the checked PDF on the A4 printer, tracked to completion, then the receipt.

A failure says which phase failed and why in the user's terms (paper out, jam, printer offline), and
raises a staff alert; the journey offers a reprint from that phase.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, Protocol

from devices.errors import DeviceError
from devices.receipt.model import Receipt
from devices.state import DeviceState, DeviceStatus, PaperState

from .api_models import Enterprise, Objection
from .ports import FetchedReport, PrintFailure
from .receipts import ReceiptWording

log = logging.getLogger(__name__)

A4_TIMEOUT_S = 180.0


class A4Printer(Protocol):
    def status(self) -> DeviceStatus: ...
    def print_pdf(self, pdf: bytes, job_name: str, timeout: float | None = None) -> Any: ...


class ReceiptPrinter(Protocol):
    def status(self) -> DeviceStatus: ...
    def print_receipt(self, receipt: Receipt) -> None: ...


def job_name(report_id: str) -> str:
    """`report-R-20261122-7K3M9Q2P4X`: the printer refuses 11+ digits in a row (they look like an ID
    or phone number), and a report id's date followed by random digits could make such a run."""
    return "report-" + "-".join(filter(None, (report_id[:1], report_id[1:9], report_id[9:])))


def _problem(status: DeviceStatus, phase: str) -> str | None:
    """The message for a printer that cannot print now, or None when it can."""
    if status.paper is PaperState.OUT:
        return "error.paper_out" if phase == "a4" else "error.receipt_paper_out"
    if status.paper is PaperState.JAMMED:
        return "error.paper_jam"
    if status.cover_open or status.state in (DeviceState.OFFLINE, DeviceState.HARDWARE_ERROR):
        return "error.printer_offline"
    return None


class PrintOrchestrator:
    def __init__(
        self,
        a4: A4Printer,
        receipt: ReceiptPrinter,
        wording: ReceiptWording,
        *,
        alert: Callable[[str, str], None] = lambda code, detail: None,
    ) -> None:
        self.a4 = a4
        self.receipt = receipt
        self.wording = wording
        self.alert = alert  # for staff: what stopped the printer

    async def print_report(
        self,
        report: FetchedReport,
        enterprise: Enterprise,
        start_at: str,
        on_phase: Callable[[str], None],
    ) -> None:
        if start_at == "a4":
            on_phase("a4")
            await self._run(
                "a4",
                self.a4,
                lambda: self.a4.print_pdf(
                    report.pdf, job_name(report.meta.report_id), A4_TIMEOUT_S
                ),
            )
        on_phase("receipt")
        ticket = self.wording.for_report(report.meta, enterprise)
        await self._run("receipt", self.receipt, lambda: self.receipt.print_receipt(ticket))

    async def print_pickup(
        self, ticket: str, uscc: str, submitted_at: dt.datetime, pickup_after: dt.datetime
    ) -> None:
        """Offline: the pickup receipt, with the ticket as QR."""
        receipt = self.wording.for_pickup(ticket, uscc, submitted_at, pickup_after)
        await self._run("pickup", self.receipt, lambda: self.receipt.print_receipt(receipt))

    async def print_objection(self, objection: Objection, report_id: str, record: str) -> None:
        """The objection slip: its number, when the answer is due, how to follow up."""
        receipt = self.wording.for_objection(objection, report_id, record)
        await self._run("objection_slip", self.receipt, lambda: self.receipt.print_receipt(receipt))

    async def _run(
        self, phase: str, device: A4Printer | ReceiptPrinter, job: Callable[[], object]
    ) -> None:
        status = await asyncio.to_thread(device.status)
        problem = _problem(status, phase)
        if problem is None:
            try:
                await asyncio.to_thread(job)
                return
            except DeviceError as exc:
                log.warning("%s printing failed: %s", phase, exc)
                status = await asyncio.to_thread(device.status)
                problem = _problem(status, phase) or "error.print_failed"
                self.alert(f"{phase}.{exc.code}", exc.detail)
                raise PrintFailure(str(exc), phase=phase, message_id=problem) from exc
        self.alert(f"{phase}.{status.state.value}", status.detail)
        raise PrintFailure(
            f"{phase} printer not ready: {status.as_dict()}", phase=phase, message_id=problem
        )
