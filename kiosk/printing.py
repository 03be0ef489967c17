"""Print orchestration: the checked PDF on the A4 printer, tracked to completion, then the receipt.

A failure says which phase failed and why in the user's terms (paper out, jam, printer offline), and
raises a staff alert; the journey offers a reprint from that phase.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any, Protocol

from devices.errors import DeviceError
from devices.receipt.model import Receipt, pickup_receipt, report_receipt
from devices.state import DeviceState, DeviceStatus, PaperState

from .api_models import Enterprise
from .journey import FetchedReport, PrintFailure

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
        *,
        terminal_id: str,
        hall_name: str,
        verify_url_prefix: str,
        report_title: str,
        paper_mm: int = 80,
        alert: Callable[[str, str], None] = lambda code, detail: None,
    ) -> None:
        self.a4 = a4
        self.receipt = receipt
        self.terminal_id = terminal_id
        self.hall_name = hall_name
        self.verify_url_prefix = verify_url_prefix
        self.report_title = report_title
        self.paper_mm = paper_mm
        self.alert = alert

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
        ticket = report_receipt(
            enterprise=enterprise.name,
            report_no=report.meta.report_id,
            verification_code=report.meta.verification_code,
            issued_at=report.meta.issued_at,
            terminal=self.terminal_id,
            hall=self.hall_name,
            verify_url=self.verify_url_prefix + report.meta.verification_code,
            paper_mm=80 if self.paper_mm == 80 else 58,
            title=self.report_title + "打印凭证" if self.report_title else "信用报告打印凭证",
        )
        await self._run("receipt", self.receipt, lambda: self.receipt.print_receipt(ticket))

    async def print_pickup(
        self, ticket: str, uscc: str, submitted_at: dt.datetime, pickup_after: dt.datetime
    ) -> None:
        """Offline: the pickup receipt, with the ticket as QR; only the enterprise's code, which is
        all the kiosk knows of it (no person's name or ID number)."""
        try:
            receipt = self._pickup_receipt(ticket, uscc, submitted_at, pickup_after)
        except DeviceError as exc:  # an all-digit code that looks like an ID number: shown masked
            log.warning("pickup receipt: %s; the credit code is printed masked", exc.code)
            masked = uscc[:4] + "*" * (len(uscc) - 6) + uscc[-2:]
            receipt = self._pickup_receipt(ticket, masked, submitted_at, pickup_after)
        await self._run("pickup", self.receipt, lambda: self.receipt.print_receipt(receipt))

    def _pickup_receipt(
        self, ticket: str, uscc: str, submitted_at: dt.datetime, pickup_after: dt.datetime
    ) -> Receipt:
        receipt = pickup_receipt(
            ticket=ticket,
            enterprise=uscc,
            submitted_at=submitted_at,
            come_back_after=pickup_after,
            terminal=self.terminal_id,
            hall=self.hall_name,
            paper_mm=80 if self.paper_mm == 80 else 58,
            title=self.report_title + "领取凭证" if self.report_title else "报告领取凭证",
        )
        # offline the kiosk knows the enterprise by its code only; any kiosk can hand it out
        return dataclasses.replace(
            receipt,
            fields=(("统一社会信用代码:", uscc), *receipt.fields[1:]),
            qr_caption="取件时在任一自助终端扫描此码",
            notes=("网络恢复后系统将自动生成报告，请在取件时间以后到任一自助终端领取。",),
        )

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
                self.alert(f"{phase}.{exc.code}", exc.message)
                raise PrintFailure(str(exc), phase=phase, message_id=problem) from exc
        self.alert(f"{phase}.{status.state.value}", status.detail)
        raise PrintFailure(
            f"{phase} printer not ready: {status.as_dict()}", phase=phase, message_id=problem
        )
