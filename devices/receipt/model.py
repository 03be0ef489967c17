"""What a receipt says, independent of any printer: a title, label/value fields, a QR code and notes.

The kiosk prints two kinds (builders below): the report receipt after a report was printed, and the
pickup receipt of offline mode (a ticket as QR and when to come back). Receipts carry no person names
or ID numbers; `Receipt` refuses anything that looks like a resident ID number as a last safety net.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from ..errors import InputRejected

PaperWidth = Literal[58, 80]
PAPER_WIDTHS: tuple[PaperWidth, ...] = (58, 80)
MAX_QR_BYTES = 700  # a module-5 code must still fit across 58 mm paper

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})\d{3}[\dXx](?![0-9A-Za-z])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _is_id_number(candidate: str, birth: str) -> bool:
    """GB 11643: a real birth date and the ISO 7064 MOD 11-2 check character."""
    try:
        born = datetime.strptime(birth, "%Y%m%d").date()
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= date(2100, 1, 1):
        return False
    total = sum(int(d) * w for d, w in zip(candidate[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == candidate[17].upper()


def contains_id_number(text: str) -> bool:
    return any(_is_id_number(m.group(0), m.group(2)) for m in _ID_NUMBER.finditer(text))


@dataclass(frozen=True, slots=True)
class Receipt:
    """One receipt: fields print as 'label：value' lines; `qr_payload` prints as a native QR."""

    title: str
    fields: tuple[tuple[str, str], ...] = ()
    qr_payload: str | None = None
    qr_caption: str = ""
    notes: tuple[str, ...] = ()
    paper_mm: PaperWidth = 80

    def __post_init__(self) -> None:
        if self.paper_mm not in PAPER_WIDTHS:
            raise InputRejected(
                f"paper_mm must be 58 or 80, got {self.paper_mm!r}", code="receipt.bad_paper_width"
            )
        if not self.title.strip():
            raise InputRejected("a receipt needs a title", code="receipt.no_title")
        if self.qr_payload is not None and not (
            0 < len(self.qr_payload.encode("utf-8")) <= MAX_QR_BYTES
        ):
            raise InputRejected(
                f"QR payload must be 1-{MAX_QR_BYTES} bytes of UTF-8", code="receipt.bad_qr"
            )
        texts = [self.title, self.qr_caption, *self.notes, self.qr_payload or ""]
        texts += [part for field in self.fields for part in field]
        if any(contains_id_number(text) for text in texts):
            # a leaked ID number on paper cannot be recalled; the message names no value
            raise InputRejected("receipt text contains an ID number", code="receipt.pii")


def _when(moment: datetime | str) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if isinstance(moment, datetime) else moment


def report_receipt(
    enterprise: str,
    report_no: str,
    verification_code: str,
    issued_at: datetime | str,
    terminal: str,
    hall: str,
    verify_url: str,
    paper_mm: PaperWidth = 80,
    *,
    title: str = "信用报告打印凭证",
) -> Receipt:
    """The receipt printed with a report; `title` is the region's own term for the report."""
    return Receipt(
        title=title,
        fields=(
            ("企业名称:", enterprise),
            ("报告编号:", report_no),
            ("验证码:", verification_code),
            ("出具时间:", _when(issued_at)),
            ("终端:", terminal),
            ("服务大厅:", hall),
        ),
        qr_payload=verify_url,
        qr_caption="扫码核验报告真伪",
        notes=("凭报告编号和验证码可在线核验报告。",),
        paper_mm=paper_mm,
    )


def pickup_receipt(
    ticket: str,
    enterprise: str,
    submitted_at: datetime | str,
    come_back_after: datetime | str,
    terminal: str,
    hall: str,
    paper_mm: PaperWidth = 80,
    *,
    title: str = "报告领取凭证",
) -> Receipt:
    """Offline mode: the request is queued; the ticket QR fetches the report once it is ready."""
    return Receipt(
        title=title,
        fields=(
            ("企业名称:", enterprise),
            ("受理编号:", ticket),
            ("受理时间:", _when(submitted_at)),
            ("取件时间:", f"{_when(come_back_after)} 以后"),
            ("终端:", terminal),
            ("服务大厅:", hall),
        ),
        qr_payload=ticket,
        qr_caption="取件时请在本终端扫描此码",
        notes=("网络恢复后系统将自动生成报告，请在取件时间以后回到本大厅领取。",),
        paper_mm=paper_mm,
    )
