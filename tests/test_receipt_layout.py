"""Receipt bytes: pinned ESC/POS streams at 58 and 80 mm, GB18030 text, wrapping, the receipt model.

Expected bytes are written from the ESC/POS command reference and the GB 2312/GB18030 code tables
(e.g. 中 = D6 D0, ： = A3 BA, ￥ = A3 A4), not captured from the implementation.
"""

from __future__ import annotations

import pytest
from escpos.constants import QR_ECLEVEL_M
from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import InputRejected
from devices.receipt import commands as cmd
from devices.receipt.decoder import decode
from devices.receipt.encoding import encode, full_width_symbols, sanitize, text_columns, wrap
from devices.receipt.layout import COLUMNS, LayoutOptions, build_receipt
from devices.receipt.model import Receipt
from identifiers import contains_id_number
from kiosk.receipts import pickup_receipt, report_receipt

FIXED = dict(
    title="凭证",
    fields=(("企业:", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123"), ("金额:", "¥5")),
    qr_payload="https://v.cn/q?1",
    qr_caption="扫码",
    notes=("谢谢",),
)

HEAD = (
    b"\x1b\x40"  # ESC @            initialise
    b"\x1b\x61\x01"  # ESC a 1      centre
    b"\x1d\x21\x11"  # GS ! 0x11    double width, double height
    b"\x1b\x45\x01"  # ESC E 1      bold on
    b"\x1c\x26"  # FS &             two-byte mode, just before the first Chinese line
    b"\xc6\xbe\xd6\xa4\x0a"  # 凭证 LF
    b"\x1d\x21\x00"  # GS ! 0       normal size
    b"\x1b\x45\x00"  # ESC E 0      bold off
    b"\x1b\x61\x00"  # ESC a 0      left
)
LABEL_COMPANY = b"\xc6\xf3\xd2\xb5\xa3\xba"  # 企业：  (the half-width ':' became A3 BA)
AMOUNT_LINE = b"\xbd\xf0\xb6\xee\xa3\xba\xa3\xa4\x35\x0a"  # 金额：￥5 LF  (¥ became ￥ A3 A4)


def qr_block(module: int) -> bytes:
    return (
        b"\x1b\x61\x01"  # ESC a 1: centre the symbol (python-escpos' center=True raises)
        b"\x1d\x28\x6b\x04\x00\x31\x41\x32\x00"  # GS ( k fn 65: model 2
        + b"\x1d\x28\x6b\x03\x00\x31\x43"
        + bytes([module])  # GS ( k fn 67: module size
        + b"\x1d\x28\x6b\x03\x00\x31\x45\x31"  # GS ( k fn 69: error correction M (49)
        b"\x1d\x28\x6b\x13\x00\x31\x50\x30"  # GS ( k fn 80: store, p = 16 data + 3 = 0x13
        b"https://v.cn/q?1"
        b"\x1d\x28\x6b\x03\x00\x31\x51\x30"  # GS ( k fn 81: print the symbol
        b"\xc9\xa8\xc2\xeb\x0a"  # 扫码 LF (caption, still centred)
        b"\x1b\x61\x00"  # ESC a 0: left
    )


TAIL = (
    b"\xd0\xbb\xd0\xbb\x0a"  # 谢谢 LF (note)
    b"\x1c\x2e"  # FS .             leave two-byte mode
    b"\x1b\x64\x04"  # ESC d 4      feed 4 lines past the cutter
    b"\x1d\x56\x00"  # GS V 0       full cut
)


def test_58mm_receipt_bytes_are_exactly_the_spec_sequence() -> None:
    expected = (
        HEAD
        + b"-" * 32
        + b"\x0a"  # rule, 32 columns
        + LABEL_COMPANY
        + b"ABCDEFGHIJKLMNOPQRSTUVWXYZ\x0a"  # 6 + 26 = 32 columns: full
        + b" " * 6
        + b"0123\x0a"  # continuation hangs under the value
        + AMOUNT_LINE
        + b"-" * 32
        + b"\x0a"
        + qr_block(5)  # 5-dot modules on 58 mm
        + TAIL
    )
    assert build_receipt(Receipt(**FIXED), LayoutOptions(paper_mm=58)) == expected  # type: ignore[arg-type]


def test_80mm_receipt_bytes_are_exactly_the_spec_sequence() -> None:
    expected = (
        HEAD
        + b"-" * 48
        + b"\x0a"  # rule, 48 columns
        + LABEL_COMPANY
        + b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123\x0a"  # 36 columns: fits on one line
        + AMOUNT_LINE
        + b"-" * 48
        + b"\x0a"
        + qr_block(6)  # 6-dot modules on 80 mm
        + TAIL
    )
    assert build_receipt(Receipt(**FIXED), LayoutOptions(paper_mm=80)) == expected  # type: ignore[arg-type]


def test_native_qr_bytes_match_python_escpos_qr_native() -> None:
    reference = Dummy()
    reference.qr("https://v.cn/q?1", ec=QR_ECLEVEL_M, size=6, native=True)
    assert cmd.qr_native(b"https://v.cn/q?1", module=6, ec="M") == reference.output


def test_ascii_only_receipt_never_switches_to_two_byte_mode() -> None:
    data = build_receipt(Receipt(title="TEST", fields=(("No:", "42"),)), LayoutOptions(paper_mm=58))
    assert cmd.CHINESE_ON not in data and cmd.CHINESE_OFF not in data
    assert data.endswith(b"\x1b\x64\x04\x1d\x56\x00")


def test_cut_and_qr_follow_the_layout_options() -> None:
    receipt = Receipt(**FIXED)  # type: ignore[arg-type]
    partial = build_receipt(receipt, LayoutOptions(paper_mm=58, cut="partial"))
    assert partial.endswith(b"\x1b\x64\x04\x1d\x56\x01")  # GS V 1: partial cut
    tear_off = build_receipt(receipt, LayoutOptions(paper_mm=58, cut="none"))
    assert tear_off.endswith(b"\x1b\x64\x04") and b"\x1d\x56" not in tear_off
    raster = build_receipt(receipt, LayoutOptions(paper_mm=58, qr_mode="raster"))
    assert b"\x1d\x28\x6b" not in raster  # no GS ( k
    image = decode(raster).receipts[0].images[0]
    assert image.width_bytes == 48  # GS v 0 across the whole 384-dot line, QR centred in it


def test_gb18030_encoding_of_known_characters() -> None:
    assert encode("中文") == bytes.fromhex("d6d0 cec4")
    assert encode("：") == bytes.fromhex("a3ba")
    assert encode("¥") == bytes.fromhex("a3a4")  # never the four-byte 81 30 84 36
    assert encode("𠀀") == bytes.fromhex("95328236")  # four-byte GB18030, printers certified to it
    assert encode("𠀀", four_byte_ok=False) == b"?"  # GBK-only font: visible replacement


def test_control_characters_cannot_inject_commands() -> None:
    evil = Receipt(title="凭证", fields=(("企业:", "A\x1d\x56\x00B\x1b@C\x0aD"),))
    stream = decode(build_receipt(evil))
    assert len(stream.receipts) == 1 and stream.tail is None  # no extra cut, no reset
    assert "企业：A?V?B?@C?D" in stream.receipts[0].texts


def test_unencodable_text_is_replaced_visibly_not_raised() -> None:
    assert sanitize("a\ud800b\ue000c") == "a?b?c"  # lone surrogate, private use area
    data = build_receipt(Receipt(title="X\ud800", notes=("\udfff",)), LayoutOptions(paper_mm=58))
    assert decode(data).receipts[0].texts[0] == "X?"


def test_full_width_symbols_only_in_chinese_text() -> None:
    assert full_width_symbols("报告编号:(甲)") == "报告编号：（甲）"
    assert full_width_symbols("https://a.cn:8443/x?y=1") == "https://a.cn:8443/x?y=1"
    assert full_width_symbols("Price: ¥5") == "Price: ￥5"


def test_wrapping_keeps_words_and_punctuation_rules() -> None:
    assert wrap("中" * 17, 32) == ["中" * 16, "中"]
    assert wrap("Verify at https://example.cn", 20) == ["Verify at", "https://example.cn"]
    assert wrap("可在线核验报告。", 14) == ["可在线核验报", "告。"]  # no line starts with 。


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=120), paper=st.sampled_from([58, 80]))
def test_every_printed_line_fits_the_paper(text: str, paper: int) -> None:
    receipt = Receipt(title="标题", fields=(("名称:", text),), notes=(text,))
    layout = LayoutOptions(paper_mm=paper)  # type: ignore[arg-type]
    for line in decode(build_receipt(receipt, layout)).receipts[0].lines:
        assert text_columns(line.text) * line.width <= COLUMNS[paper]


@settings(max_examples=150, deadline=None)
@given(value=st.text(max_size=80), paper=st.sampled_from([58, 80]))
def test_field_text_survives_encoding_and_wrapping(value: str, paper: int) -> None:
    if contains_id_number(value):
        return
    receipt = Receipt(title="T", fields=(("名称:", value),))
    layout = LayoutOptions(paper_mm=paper)  # type: ignore[arg-type]
    printed = "".join(decode(build_receipt(receipt, layout)).receipts[0].texts)
    expected = sanitize(value).replace("\n", "")
    assert "".join(expected.split()) in "".join(printed.split())


def test_report_receipt_prints_every_required_item() -> None:
    receipt = report_receipt(
        "甘肃省示范科技发展有限公司",
        "GS-2025-000123",
        "7KQ4-M2XD",
        "2025-03-01 09:30",
        "KIOSK-07",
        "兰州市政务服务中心",
        "https://verify.example.cn/r/GS-2025-000123",
        title="专项信用报告凭证",
    )
    printed = decode(build_receipt(receipt, LayoutOptions(paper_mm=58))).receipts[0]
    text = "\n".join(printed.texts)
    assert printed.lines[0].text == "专项信用报告凭证" and printed.lines[0].bold
    assert printed.lines[0].align == "center" and printed.lines[0].width == 2
    for item in ("报告编号：GS-2025-000123", "核验码：7KQ4-M2XD", "出具时间：2025-03-01 09:30"):
        assert item in text
    assert "验证码" not in text  # the screen and the PDF say 核验码: the receipt says the same
    # the verify address in words, for a checker without a phone (wrapped at 58 mm)
    assert "凭核验码可在以下网址核验报告：" in text
    assert "https://verify.example.cn/r/GS-2025-000123" in text.replace("\n", "")
    assert "终端：KIOSK-07" in text and "服务大厅：兰州市政务服务中心" in text
    assert "企业名称：甘肃省示范科技发展有限" in text and "公司" in text  # wrapped at 58 mm
    assert printed.qr_payloads == ["https://verify.example.cn/r/GS-2025-000123"]
    assert printed.qr_codes[0].align == "center" and printed.cut == "full"


def test_pickup_receipt_carries_ticket_qr_and_come_back_time() -> None:
    receipt = pickup_receipt(
        "T-20250301-0042", "某某有限公司", "2025-03-01 09:30", "2025-03-01 14:00", "K7", "大厅"
    )
    printed = decode(build_receipt(receipt, LayoutOptions(paper_mm=80))).receipts[0]
    assert printed.qr_payloads == ["T-20250301-0042"]
    assert "取件时间：2025-03-01 14:00 以后" in printed.texts
    assert printed.texts[0] == "报告领取凭证"


def test_receipt_refuses_id_numbers_but_not_credit_codes() -> None:
    with pytest.raises(InputRejected) as caught:
        Receipt(title="T", fields=(("备注:", "11010519491231002X"),))  # valid GB 11643 example
    assert caught.value.code == "receipt.pii" and "1101" not in str(caught.value)
    Receipt(title="T", fields=(("统一社会信用代码:", "91620100MA71ABCD3X"),))  # accepted
    Receipt(title="T", fields=(("编号:", "110105194912310021"),))  # wrong check digit: not an ID


def test_receipt_validates_paper_title_and_qr() -> None:
    with pytest.raises(InputRejected) as caught:
        LayoutOptions(paper_mm=76)  # type: ignore[arg-type]
    assert caught.value.code == "receipt.bad_paper_width"
    with pytest.raises(InputRejected):
        Receipt(title="  ")
    with pytest.raises(InputRejected):
        Receipt(title="T", qr_payload="x" * 701)


def test_the_kiosks_pickup_receipt_names_the_enterprise_by_its_code_and_masks_one_like_an_id() -> (
    None
):
    import datetime as dt

    from kiosk.receipts import ReceiptWording

    wording = ReceiptWording("K7", "大厅", "https://v.cn/r/", report_title="甘肃省专用信用报告")
    at = dt.datetime(2025, 3, 1, 9, 30)
    later = dt.datetime(2025, 3, 1, 10, 30)
    receipt = wording.for_pickup("QT-7K3M-9Q2P-4X8A-BCDE", "91620100MA71ABCD3X", at, later)
    assert receipt.title == "甘肃省专用信用报告领取凭证"
    assert receipt.fields[0] == ("统一社会信用代码:", "91620100MA71ABCD3X")
    assert receipt.qr_payload == "QT-7K3M-9Q2P-4X8A-BCDE"
    # an all-digit code can read as an ID number (valid date and check digit): printed masked
    looks_like_id = "11010519491231002X"
    masked = wording.for_pickup("QT-7K3M-9Q2P-4X8A-BCDE", looks_like_id, at, later)
    assert masked.fields[0] == ("统一社会信用代码:", "1101************2X")


def test_the_objection_slip_says_its_number_due_date_and_how_to_follow_up() -> None:
    import datetime as dt

    from kiosk.api_models import Objection
    from kiosk.receipts import ReceiptWording

    wording = ReceiptWording("K7", "兰州新区政务服务中心", "https://v.cn/r/")
    objection = Objection("GS-OBJ-20261122-0007", dt.date(2026, 11, 27))
    slip = wording.for_objection(objection, "R20261122ABCDEFGHJK", "兰市监处罚〔2025〕101号 处罚")
    printed = decode(build_receipt(slip, LayoutOptions(paper_mm=80))).receipts[0]
    text = "\n".join(printed.texts)
    assert printed.texts[0] == "信用报告异议回执"
    assert "异议编号：GS-OBJ-20261122-0007" in text
    assert "答复期限：2026-11-27 前" in text
    assert "报告编号：R20261122ABCDEFGHJK" in text
    assert "异议记录：兰市监处罚〔2025〕101号 处罚" in text
    flat = text.replace("\n", "")
    # how to follow up: where, what to bring, whom to call
    assert "请携带本回执到兰州新区政务服务中心信用窗口" in flat and "12345" in flat
    # it says how the answer comes, and shows no phone number
    assert "联系电话" in flat and "1391234" not in flat
    assert "以国务院办公厅公布为准" not in flat  # a due date within the published notices
    # a due date counted past the published holiday notices says so on the slip
    later = Objection("GS-OBJ-20261230-0001", dt.date(2027, 1, 8), provisional=True)
    slip = wording.for_objection(later, "R20261230ABCDEFGHJK", "兰市监处罚〔2025〕101号 处罚")
    printed = decode(build_receipt(slip, LayoutOptions(paper_mm=80))).receipts[0]
    assert "以国务院办公厅公布为准" in "".join(printed.texts).replace("\n", "")
