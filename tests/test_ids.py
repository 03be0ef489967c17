"""USCC and ID-number validators, generators and masking."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from report_service.ids import (
    USCC_CHARSET,
    id_check_digit,
    id_number_error,
    is_valid_id_number,
    is_valid_uscc,
    mask_id_number,
    mask_name,
    uscc_check_char,
    uscc_error,
)
from report_service.synth import make_id_number, make_uscc

# Public codes in the real format.
KNOWN_USCC = (
    "91110000802100433B",  # 中国石油天然气股份有限公司
    "91110000100010433L",  # China Petroleum & Chemical Corporation (Sinopec)
    "91440300708461136T",  # 腾讯科技（深圳）有限公司
)
KNOWN_ID = "11010519491231002X"  # the GB 11643-1999 standard's example

uscc_first17 = st.builds(
    lambda head, division, body: head + division + body,
    st.text(alphabet=USCC_CHARSET, min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=USCC_CHARSET, min_size=9, max_size=9),
)


def _today() -> dt.date:
    return dt.date(2026, 11, 1)


# --- USCC ---


@pytest.mark.parametrize("code", KNOWN_USCC)
def test_known_uscc_valid(code: str) -> None:
    assert is_valid_uscc(code)
    assert uscc_error(code) is None
    assert uscc_check_char(code[:17]) == code[17]


def test_uscc_weights_are_powers_of_three() -> None:
    # the check is sum(value * 3^i mod 31); a single 1 at position i contributes 3^i mod 31
    for i, w in enumerate([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]):
        first17 = "0" * i + "1" + "0" * (16 - i)
        assert uscc_check_char(first17) == USCC_CHARSET[(31 - w) % 31]


@pytest.mark.parametrize("code", KNOWN_USCC)
def test_every_single_character_substitution_is_caught(code: str) -> None:
    for pos in range(18):
        for c in USCC_CHARSET:
            if c != code[pos]:
                mutated = code[:pos] + c + code[pos + 1 :]
                assert not is_valid_uscc(mutated), mutated


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "18位"),
        ("91110000802100433", "18位"),
        ("91110000802100433BB", "18位"),
        ("91110000802100433b", "第18位"),  # lowercase is not in the character set
        ("9111000080210043IB", "第17位"),  # I is excluded
        ("91A10000802100433B", "校验码"),  # letters where a division usually is: the check
        ("91110000802100433C", "校验码"),
        ("９1110000802100433B", "第1位"),  # full-width digit
    ],
)
def test_uscc_error_reasons(value: str, fragment: str) -> None:
    reason = uscc_error(value)
    assert reason is not None and fragment in reason
    assert not is_valid_uscc(value)


def test_uscc_non_string() -> None:
    assert uscc_error(None) is not None
    assert not is_valid_uscc(91110000802100433)


def test_uscc_check_char_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("9111000080210043")
    with pytest.raises(ValueError):
        uscc_check_char("9111000080210043I")


@given(uscc_first17)
def test_computed_check_char_makes_valid_code(first17: str) -> None:
    code = first17 + uscc_check_char(first17)
    assert is_valid_uscc(code)


@given(uscc_first17, st.integers(0, 17), st.sampled_from(USCC_CHARSET))
def test_random_substitution_invalidates(first17: str, pos: int, c: str) -> None:
    code = first17 + uscc_check_char(first17)
    mutated = code[:pos] + c + code[pos + 1 :]
    assert is_valid_uscc(mutated) == (mutated == code)


@given(
    st.integers(0, 2**32),
    st.sampled_from(["91", "92", "93", "51", "52"]),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
)
def test_make_uscc_is_valid(seed: int, prefix: str, division: str) -> None:
    code = make_uscc(random.Random(seed), prefix, division)
    assert is_valid_uscc(code)
    assert code.startswith(prefix + division)


def _org_check(body: str) -> str:
    # GB 11714: weights 3,7,9,10,5,8,4,2; 10 -> X, 11 -> 0
    c = (
        11
        - sum(int(ch, 36) * w for ch, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    )
    return {10: "X", 11: "0"}.get(c, str(c))


def test_make_uscc_org_code_check() -> None:
    # positions 9-17 are an organisation code with its own check character, as in real codes
    assert _org_check(KNOWN_USCC[0][8:16]) == KNOWN_USCC[0][16]
    rng = random.Random(3)
    for _ in range(200):
        org = make_uscc(rng, "91", "620100")[8:17]
        assert org[8] == _org_check(org[:8])


def test_make_uscc_rejects_bad_division() -> None:
    with pytest.raises(ValueError):
        make_uscc(random.Random(1), "91", "62010")
    with pytest.raises(ValueError):
        make_uscc(random.Random(1), "91", "６20100")


# --- ID numbers ---


def test_known_id_valid() -> None:
    assert is_valid_id_number(KNOWN_ID)
    assert id_number_error(KNOWN_ID) is None
    assert id_check_digit(KNOWN_ID[:17]) == "X"


def test_lowercase_x_accepted() -> None:
    assert is_valid_id_number(KNOWN_ID.lower())


def test_every_single_digit_substitution_is_caught() -> None:
    for pos in range(18):
        for c in "0123456789X":
            if c != KNOWN_ID[pos] and not (pos < 17 and c == "X"):
                mutated = KNOWN_ID[:pos] + c + KNOWN_ID[pos + 1 :]
                assert not is_valid_id_number(mutated), mutated


def _with_check(first17: str) -> str:
    return first17 + id_check_digit(first17)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "18位"),
        ("11010519491231002", "18位"),
        ("1101051949123100X2", "前17位"),
        ("11010519491231002Y", "第18位"),
        ("１1010519491231002X", "前17位"),  # full-width digit
        (_with_check("11010519490229002"), "出生日期无效"),  # 1949 is not a leap year
        (_with_check("11010519491331002"), "出生日期无效"),
        (_with_check("11010517991231002"), "早于1800年"),
        (_with_check("11010520261102002"), "晚于今天"),
        ("110105194912310021", "校验码"),
    ],
)
def test_id_number_error_reasons(value: str, fragment: str) -> None:
    reason = id_number_error(value, today=_today())
    assert reason is not None and fragment in reason
    assert not is_valid_id_number(value, today=_today())


def test_id_birth_today_and_1800_are_allowed() -> None:
    assert is_valid_id_number(_with_check("11010518000101002"), today=_today())
    assert is_valid_id_number("440524188001010014", today=_today())  # GB 11643-1999's example
    assert is_valid_id_number(_with_check("11010520261101002"), today=_today())
    assert is_valid_id_number(_with_check("11010520000229002"), today=_today())  # leap day


def test_id_check_digit_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        id_check_digit("1101051949123100")
    with pytest.raises(ValueError):
        id_check_digit("1101051949123100X")


def test_id_number_non_string() -> None:
    assert id_number_error(11010519491231002) is not None


@given(
    st.integers(0, 2**32),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.dates(dt.date(1900, 1, 1), dt.date(2026, 11, 1)),
    st.sampled_from([1, 2]),
)
def test_make_id_number_is_valid(seed: int, division: str, birth: dt.date, sex: int) -> None:
    number = make_id_number(random.Random(seed), division, birth, sex)
    assert is_valid_id_number(number, today=_today())
    assert number.startswith(division + birth.strftime("%Y%m%d"))
    assert int(number[16]) % 2 == (1 if sex == 1 else 0)  # odd 17th digit: male


@given(
    st.text(alphabet="0123456789", min_size=17, max_size=17),
    st.integers(0, 17),
    st.sampled_from("0123456789X"),
)
def test_random_id_substitution_invalidates(first17: str, pos: int, c: str) -> None:
    number = _with_check(first17)
    if pos < 17 and c == "X":
        c = "0"
    mutated = number[:pos] + c + number[pos + 1 :]
    # a mutation never yields another number with a correct check digit
    if mutated != number:
        assert id_check_digit(mutated[:17]) != mutated[17]


# --- masking ---


def test_mask_id_number() -> None:
    assert mask_id_number(KNOWN_ID) == "110*************2X"
    assert mask_id_number(KNOWN_ID.lower()) == "110*************2X"
    assert len(mask_id_number(KNOWN_ID)) == 18
    assert mask_id_number("12345") == "*****"
    assert mask_id_number("") == ""


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧阳**"),
        ("欧阳修", "欧阳*"),
        ("欧明", "欧*"),  # 欧 alone is a surname too
        ("王", "王"),
        ("", ""),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked
