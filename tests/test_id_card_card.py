"""Card text decoding for the three card types, the acceptance checks and PII masking."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import DeviceError, InputRejected, ProtocolError
from devices.id_card.card import IdCard
from devices.id_card.checks import check_card
from devices.id_card.text import build_base_info, decode_base_info, decode_text, encode_text
from identifiers import mask_id_number, mask_name

from .test_id_card_samples import (
    BAD_CHECK_DIGIT,
    EXPIRED,
    FOREIGN_2017,
    FOREIGN_2023,
    HMT_PERMIT,
    RESIDENT,
    TODAY,
)


def text_at(fields: dict[int, str]) -> bytes:
    """A 256-byte card text written field by field at the given byte offsets (spaces elsewhere)."""
    buf = bytearray(" ".encode("utf-16-le") * 128)
    for offset, value in fields.items():
        raw = value.encode("utf-16-le")
        buf[offset : offset + len(raw)] = raw
    assert len(buf) == 256
    return bytes(buf)


def test_resident_card_fields_at_the_published_offsets() -> None:
    text = text_at({
        0: "测试甲", 30: "2", 32: "03", 36: "19900307", 52: "测试省测试市测试路1号",
        122: "110101199003071233", 158: "测试市公安局", 188: "20200101", 204: "长期",
    })  # fmt: skip
    card = decode_text(text, b"\x01" * 1024)
    assert card.card_type == "resident"
    assert (card.name, card.sex, card.nation) == ("测试甲", "女", "回")
    assert card.birth_date == dt.date(1990, 3, 7)
    assert card.address == "测试省测试市测试路1号"
    assert card.id_number == "110101199003071233"
    assert card.authority == "测试市公安局"
    assert (card.valid_from, card.valid_until) == (dt.date(2020, 1, 1), None)  # 长期
    assert card.photo == b"\x01" * 1024


def test_hmt_permit_fields_at_the_published_offsets() -> None:
    text = text_at({
        0: "测试乙", 30: "1", 36: "19940823", 52: "测试市样例街2号", 122: "810000199408230021",
        158: "测试市公安局", 188: "20210501", 204: "20260501", 220: "H90000001", 238: "03", 248: "J",
    })  # fmt: skip
    card = decode_text(text)
    assert card.card_type == "hmt_residence_permit"
    assert (card.name, card.sex, card.nation) == ("测试乙", "男", "")
    assert card.id_number == "810000199408230021"
    assert (card.pass_number, card.issue_count) == ("H90000001", 3)
    assert card.valid_until == dt.date(2026, 5, 1)


def test_foreigner_card_2017_fields_at_the_published_offsets() -> None:
    text = text_at({
        0: "SAMPLE, TESTER ALPHA", 120: "2", 122: "TST110079061801", 152: "TST", 158: "测试丙",
        188: "20190101", 204: "20290101", 220: "19790618", 236: "01", 240: "1500", 248: "I",
    })  # fmt: skip
    card = decode_text(text)
    assert card.card_type == "foreign_permanent_residence"
    assert (card.name, card.english_name) == ("测试丙", "SAMPLE, TESTER ALPHA")
    assert (card.sex, card.nation, card.authority) == ("女", "TST", "1500")
    assert card.id_number == "TST110079061801"
    assert card.birth_date == dt.date(1979, 6, 18)
    assert card.address == ""


def test_foreigner_card_2023_joins_the_two_english_name_fields() -> None:
    text = text_at({
        0: "测试丁", 30: "1", 36: "19900307", 52: "A" * 35, 122: "911840199003070014",
        188: "20240101", 204: "长期", 220: "BCD", 242: "TST", 248: "Y",
    })  # fmt: skip
    card = decode_text(text)
    assert card.card_type == "foreign_permanent_residence"
    assert card.english_name == "A" * 35 + "BCD"
    assert (card.name, card.nation, card.valid_until) == ("测试丁", "TST", None)


def test_foreigner_without_chinese_name_is_named_by_the_english_name() -> None:
    card = decode_text(
        encode_text(dataclasses.replace(FOREIGN_2017, name=FOREIGN_2017.english_name))
    )
    assert card.name == "SAMPLE, TESTER ALPHA"


@pytest.mark.parametrize("card", [RESIDENT, HMT_PERMIT, FOREIGN_2017, FOREIGN_2023])
def test_encode_decode_round_trip(card: IdCard) -> None:
    text = encode_text(card)
    assert len(text) == 256
    assert decode_base_info(build_base_info(text, card.photo)) == card


def test_unknown_nation_code_is_kept_as_decoded() -> None:
    text = bytearray(encode_text(RESIDENT))
    text[32:36] = "77".encode("utf-16-le")
    assert decode_text(bytes(text)).nation == "77"


def test_unsupported_card_type_is_refused() -> None:
    text = bytearray(encode_text(RESIDENT))
    text[248:250] = "Z".encode("utf-16-le")
    with pytest.raises(InputRejected) as caught:
        decode_text(bytes(text))
    assert caught.value.code == "id_card.unsupported_card_type"


@pytest.mark.parametrize(
    ("offset", "value"), [(36, "19901399"), (188, "2020-1-1"), (204, "永久有效")]
)
def test_bad_dates_are_protocol_errors_naming_no_value(offset: int, value: str) -> None:
    text = bytearray(encode_text(RESIDENT))
    raw = value.encode("utf-16-le")
    text[offset : offset + len(raw)] = raw
    with pytest.raises(ProtocolError) as caught:
        decode_text(bytes(text))
    assert caught.value.code == "id_card.bad_text"
    assert value not in str(caught.value)


def test_base_info_length_mismatch_is_a_protocol_error() -> None:
    data = build_base_info(encode_text(RESIDENT), RESIDENT.photo)
    for bad in (data[:-1], data + b"\x00", data[:3], b"\x00\xff" + data[2:]):
        with pytest.raises(ProtocolError):
            decode_base_info(bad)


@settings(max_examples=300)
@given(st.binary(min_size=256, max_size=256))
def test_random_text_raises_only_the_error_family(text: bytes) -> None:
    with contextlib.suppress(DeviceError):
        decode_text(text)


@settings(max_examples=200)
@given(
    st.sampled_from(["resident", "J", "I", "Y"]),
    st.binary(min_size=1, max_size=40),
    st.integers(0, 255),
)
def test_garbled_fields_raise_only_the_error_family(flag: str, junk: bytes, at: int) -> None:
    base = {"resident": RESIDENT, "J": HMT_PERMIT, "I": FOREIGN_2017, "Y": FOREIGN_2023}[flag]
    text = bytearray(encode_text(base))
    text[at : at + len(junk)] = junk
    with contextlib.suppress(DeviceError):
        decode_text(bytes(text[:256].ljust(256, b" ")))


# --- acceptance ---


def test_valid_cards_are_accepted() -> None:
    for card in (RESIDENT, HMT_PERMIT, FOREIGN_2017, FOREIGN_2023):
        check_card(card, TODAY)


def test_expired_card_is_refused_but_valid_on_its_last_day() -> None:
    with pytest.raises(InputRejected) as caught:
        check_card(EXPIRED, TODAY)
    assert caught.value.code == "id_card.expired"
    check_card(EXPIRED, EXPIRED.valid_until)  # type: ignore[arg-type]
    check_card(FOREIGN_2023, dt.date(2099, 1, 1))  # 长期 never expires


@pytest.mark.parametrize(
    "card",
    [
        BAD_CHECK_DIGIT,
        dataclasses.replace(HMT_PERMIT, id_number="810000199408230022"),
        dataclasses.replace(FOREIGN_2023, id_number="911840199003070015"),
        dataclasses.replace(RESIDENT, id_number="11010119900307123"),
        dataclasses.replace(RESIDENT, id_number="110101199013071233"),  # month 13
        dataclasses.replace(FOREIGN_2017, id_number="TS1110079061801"),
    ],
)
def test_bad_numbers_are_refused(card: IdCard) -> None:
    with pytest.raises(InputRejected) as caught:
        check_card(card, dt.date(2020, 6, 1))
    assert caught.value.code == "id_card.bad_id_number"
    assert card.id_number not in str(caught.value)


def test_lowercase_x_from_a_reader_is_normalised() -> None:
    card = dataclasses.replace(RESIDENT, id_number="11010519491231002x")
    decoded = decode_text(encode_text(card))
    assert decoded.id_number == "11010519491231002X"
    check_card(decoded, TODAY)


# --- privacy ---


@pytest.mark.parametrize("card", [RESIDENT, HMT_PERMIT, FOREIGN_2017, FOREIGN_2023])
def test_repr_and_str_hide_pii(card: IdCard) -> None:
    for shown in (repr(card), str(card), f"{card}", repr([card])):
        for secret in (
            card.name,
            card.id_number,
            card.address,
            card.english_name,
            card.pass_number,
        ):
            assert not secret or secret not in shown
        assert card.birth_date.isoformat() not in shown
        assert "1024 bytes" in shown


def test_masking_rules() -> None:
    assert mask_name("欧阳测试") == "欧阳**"
    assert mask_name("测试甲") == "测**"
    assert mask_name("张三") == "张*"
    assert mask_id_number("110101199003071233") == "110*************33"
    assert mask_id_number("TST110079061801") == "TST**********01"
    masked = RESIDENT.as_dict()
    assert masked == RESIDENT.masked()
    assert masked["name"] == "欧阳**"
    assert masked["id_number"] == "110*************33"
    revealed = RESIDENT.as_dict(reveal=True)
    assert (revealed["name"], revealed["id_number"]) == (RESIDENT.name, RESIDENT.id_number)
    assert set(revealed) == {
        "card_type", "name", "sex", "nation", "birth_date", "address", "id_number", "authority",
        "valid_from", "valid_until",
    }  # fmt: skip
    permit = HMT_PERMIT.as_dict()
    assert permit["pass_number"] == "H90****01"
    assert permit["issue_count"] == 2
