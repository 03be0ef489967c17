"""What the kiosk's receipts say: the words are the product's (DESIGN §1, §5); `devices/receipt` lays
them out on whatever paper the printer has.

Receipts carry no person's name or ID number; `devices.receipt.model.Receipt` refuses anything that
looks like an ID number as a last safety net.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from devices.receipt.model import Receipt
from identifiers import contains_id_number, mask_uscc

from .api_models import Enterprise, Objection, ReportMeta

log = logging.getLogger(__name__)

CST = dt.timezone(dt.timedelta(hours=8))  # the hall's time on paper


def _when(moment: dt.datetime | str) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if isinstance(moment, dt.datetime) else moment


def report_receipt(
    enterprise: str,
    report_no: str,
    verification_code: str,
    issued_at: dt.datetime | str,
    terminal: str,
    hall: str,
    verify_url: str,
    *,
    title: str = "信用报告打印凭证",
) -> Receipt:
    """The receipt printed with a report; `title` is the region's own term for the report."""
    return Receipt(
        title=title,
        fields=(
            ("企业名称:", enterprise),
            ("报告编号:", report_no),
            ("核验码:", verification_code),  # the word the screen and the PDF use
            ("出具时间:", _when(issued_at)),
            ("终端:", terminal),
            ("服务大厅:", hall),
        ),
        qr_payload=verify_url,
        qr_caption="扫码核验报告真伪",
        # the address in words too: a checker without a phone types it into a browser
        notes=("凭核验码可在以下网址核验报告：", verify_url),
    )


def pickup_receipt(
    ticket: str,
    uscc: str,
    submitted_at: dt.datetime | str,
    come_back_after: dt.datetime | str,
    terminal: str,
    hall: str,
    *,
    title: str = "报告领取凭证",
) -> Receipt:
    """Offline: the request is queued; the ticket QR fetches the report at any kiosk once it is
    ready. Offline the kiosk knows the enterprise by its credit code only."""
    return Receipt(
        title=title,
        fields=(
            ("统一社会信用代码:", uscc),
            ("受理编号:", ticket),
            ("受理时间:", _when(submitted_at)),
            ("取件时间:", f"{_when(come_back_after)} 以后"),
            ("终端:", terminal),
            ("服务大厅:", hall),
        ),
        qr_payload=ticket,
        qr_caption="取件时在任一自助终端扫描此码",
        notes=("网络恢复后系统将自动生成报告，请在取件时间以后到任一自助终端领取。",),
    )


PROVISIONAL_DUE = "答复期限按法定节假日推算，当年节假日安排以国务院办公厅公布为准。"


def objection_slip(
    objection_id: str,
    due_by: dt.date,
    report_no: str,
    record: str,
    filed_at: dt.datetime | str,
    terminal: str,
    hall: str,
    provisional: bool = False,
) -> Receipt:
    """What the person takes home after an objection: its number, when the answer is due, and
    how to follow it up. No name and no contact number on it."""
    counted = (PROVISIONAL_DUE,) if provisional else ()
    return Receipt(
        title="信用报告异议回执",
        fields=(
            ("异议编号:", objection_id),
            ("答复期限:", f"{due_by.isoformat()} 前"),
            ("报告编号:", report_no),
            ("异议记录:", record),
            ("提交时间:", _when(filed_at)),
            ("服务大厅:", hall),
            ("终端:", terminal),
        ),
        notes=(
            *counted,
            "信用平台将在答复期限前通过您留下的联系电话答复。",
            f"查询进度或逾期未获答复：请携带本回执到{hall}信用窗口，"
            "或拨打12345政务服务便民热线，报异议编号查询。",
        ),
    )


@dataclass(frozen=True)
class ReceiptWording:
    """This terminal's lines on every receipt, and the region's term for the report (from the
    enrollment's config; empty before it names one)."""

    terminal_id: str
    hall_name: str
    verify_url_prefix: str
    report_title: str = ""

    def for_report(self, meta: ReportMeta, enterprise: Enterprise) -> Receipt:
        return report_receipt(
            enterprise=enterprise.name,
            report_no=meta.report_id,
            verification_code=meta.verification_code,
            issued_at=meta.issued_at,
            terminal=self.terminal_id,
            hall=self.hall_name,
            verify_url=self.verify_url_prefix + meta.verification_code,
            title=self.report_title + "打印凭证" if self.report_title else "信用报告打印凭证",
        )

    def for_objection(self, objection: Objection, report_id: str, record: str) -> Receipt:
        return objection_slip(
            objection_id=objection.objection_id,
            due_by=objection.due_by,
            report_no=report_id,
            record=record,
            filed_at=dt.datetime.now(CST),
            terminal=self.terminal_id,
            hall=self.hall_name,
            provisional=objection.provisional,
        )

    def for_pickup(
        self, ticket: str, uscc: str, submitted_at: dt.datetime, pickup_after: dt.datetime
    ) -> Receipt:
        """No person's name or ID number; a credit code that reads as an ID number (all digits,
        a birth date and a matching check digit) is printed masked."""
        if contains_id_number(uscc):
            log.warning("pickup receipt: the credit code reads as an ID number; printed masked")
            uscc = mask_uscc(uscc)
        return pickup_receipt(
            ticket=ticket,
            uscc=uscc,
            submitted_at=submitted_at,
            come_back_after=pickup_after,
            terminal=self.terminal_id,
            hall=self.hall_name,
            title=self.report_title + "领取凭证" if self.report_title else "报告领取凭证",
        )
