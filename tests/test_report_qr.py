"""The report's own QR encoder against the qrcode package, module for module."""

from __future__ import annotations

import random
import string

import pytest
import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import MODE_8BIT_BYTE, QRData

from report_service.qr import MASK, qr_mask, qr_matrix

ALPHABET = string.ascii_letters + string.digits + "/:.-?=&中核验"


def _reference(text: str) -> list[list[int]]:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=MASK)
    qr.add_data(QRData(text.encode("utf-8"), mode=MODE_8BIT_BYTE))
    qr.make(fit=True)
    return [[1 if m else 0 for m in row] for row in qr.get_matrix()]


def _texts() -> list[str]:
    rng = random.Random(7)
    lengths = [*range(1, 120), 150, 230, 400, 700, 1200, 2000]
    return [
        "http://127.0.0.1:8080/v1/verify/K7Q29XPM4RTA",
        "https://credit.example.gov.cn/v1/verify/K7Q2-9XPM-4RTA",
    ] + ["".join(rng.choice(ALPHABET) for _ in range(n)) for n in lengths]


@pytest.mark.parametrize("text", _texts())
def test_matrix_matches_qrcode(text: str) -> None:
    assert qr_matrix(text) == _reference(text)


@pytest.mark.parametrize("text", _texts()[:40])
def test_mask_rows_hold_exactly_the_dark_modules(text: str) -> None:
    size, mask = qr_mask(text)
    width = (size + 7) // 8
    assert len(mask) == size * width
    rows = [mask[r * width : (r + 1) * width] for r in range(size)]
    bits = [[int(b) for b in "".join(f"{byte:08b}" for byte in row)] for row in rows]
    assert [row[:size] for row in bits] == _reference(text)
    assert not any(any(row[size:]) for row in bits)  # the padding paints nothing


def test_too_long_is_refused() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        qr_matrix("x" * 3000)
