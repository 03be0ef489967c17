"""What a receipt says, independent of any printer and its paper: a title, label/value fields, a QR
code and notes.

The words are the caller's (the kiosk's are in `kiosk/receipts.py`); the printer's paper width and
model decide the layout (`layout.LayoutOptions`). `Receipt` refuses anything that looks like a
resident ID number, as a last safety net: paper cannot be recalled.
"""

from __future__ import annotations

from dataclasses import dataclass

from identifiers import contains_id_number

from ..errors import InputRejected

MAX_QR_BYTES = 700  # a module-5 code must still fit across 58 mm paper


@dataclass(frozen=True, slots=True)
class Receipt:
    """One receipt: fields print as 'label：value' lines; `qr_payload` prints as a native QR."""

    title: str
    fields: tuple[tuple[str, str], ...] = ()
    qr_payload: str | None = None
    qr_caption: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
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
