"""The national identifiers (identifiers/): GB 11643 ID numbers and their cards, GB 32100 credit
codes, masking. Expected values come from the standards' own examples and from the arithmetic
written out here, not from the implementation."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from identifiers import (
    CARD_KINDS,
    USCC_CHARSET,
    IdProblem,
    UsccProblem,
    card_number_problem,
    contains_id_number,
    id_birth_date,
    id_check_digit,
    id_number_problem,
    mask_id_number,
    mask_name,
    mask_uscc,
    normalize_uscc,
    old_foreign_number_problem,
    uscc_check_char,
    uscc_problem,
)

GB11643_EXAMPLE = "11010519491231002X"  # the example printed in GB 11643-1999
USCC_EXAMPLE = "91350100M000100Y43"  # a code as printed on a business licence
TODAY = dt.date(2026, 11, 22)


def with_check(first17: str) -> str:
    return first17 + id_check_digit(first17)


# --- GB 11643 ID numbers -------------------------------------------------------------------------
def test_the_standards_example_and_the_check_digit_by_hand() -> None:
    assert id_check_digit(GB11643_EXAMPLE[:17]) == "X"
    assert id_number_problem(GB11643_EXAMPLE) is None
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip("11010519900307123", weights, strict=True))
    assert id_check_digit("11010519900307123") == "10X98765432"[total % 11]


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("", IdProblem.LENGTH),
        ("11010519491231002", IdProblem.LENGTH),
        ("1101051949123100X2", IdProblem.NOT_DIGITS),
        ("１1010519491231002X", IdProblem.NOT_DIGITS),  # a full-width digit
        ("11010519491231002Y", IdProblem.CHECK_CHARACTER),
        ("11010519491231002x", IdProblem.CHECK_CHARACTER),  # callers normalise a lower-case x
        (with_check("11010519490229002"), IdProblem.BIRTH_DATE),  # 1949 is not a leap year
        (with_check("11010519491331002"), IdProblem.BIRTH_DATE),
        (with_check("11010517991231002"), IdProblem.BIRTH_TOO_EARLY),
        ("110105194912310021", IdProblem.CHECK_MISMATCH),
    ],
)
def test_id_number_problems(number: str, problem: IdProblem) -> None:
    assert id_number_problem(number, today=TODAY) is problem


def test_a_birth_after_today_is_a_problem_only_when_today_is_given() -> None:
    tomorrow = with_check("11010520261123002")
    assert id_number_problem(tomorrow, today=TODAY) is IdProblem.BIRTH_IN_FUTURE
    assert id_number_problem(tomorrow) is None
    assert id_number_problem(with_check("11010520261122002"), today=TODAY) is None
    assert id_number_problem(with_check("11010519000101002"), today=TODAY) is None


def test_birth_date_and_bad_input() -> None:
    assert id_birth_date(GB11643_EXAMPLE) == dt.date(1949, 12, 31)
    assert id_birth_date("110105194902301234") is None
    assert id_birth_date("1101") is None
    with pytest.raises(ValueError):
        id_check_digit("1101051949123100")
    with pytest.raises(ValueError):
        id_check_digit("1101051949123100X")


@given(
    st.text(alphabet="0123456789", min_size=17, max_size=17),
    st.integers(0, 16),
    st.integers(1, 9),
)
def test_every_single_digit_error_changes_the_check_digit(first17: str, pos: int, d: int) -> None:
    number = with_check(first17)
    wrong = number[:pos] + str((int(number[pos]) + d) % 10) + number[pos + 1 :]
    assert id_check_digit(wrong[:17]) != wrong[17]


def test_card_kinds_and_their_numbers() -> None:
    assert CARD_KINDS == ("resident", "hmt_residence_permit", "foreign_permanent_residence")
    hmt = with_check("81000019940823002")  # the residence permit: GB 11643 with division 810000
    foreign_2023 = with_check("91184019900307001")  # the 2023 foreigner card: first digit 9
    assert card_number_problem("hmt_residence_permit", hmt) is None
    assert card_number_problem("foreign_permanent_residence", foreign_2023) is None
    # the 2017 foreigner card's 15 characters: 3 capital letters and 12 digits, shape only
    assert card_number_problem("foreign_permanent_residence", "TST110079061801") is None
    assert card_number_problem("foreign_permanent_residence", "TS1110079061801") is IdProblem.SHAPE
    assert old_foreign_number_problem("tst110079061801") is IdProblem.SHAPE
    # 15 characters on any other card are an 18-character number's length problem
    assert card_number_problem("resident", "TST110079061801") is IdProblem.LENGTH


def test_id_numbers_are_found_in_free_text_only_when_real() -> None:
    assert contains_id_number("备注 11010519491231002X 结束")
    assert contains_id_number("11010519491231002x")  # lower-case x
    assert contains_id_number("１１０１０５１９４９１２３１００２X")  # full-width digits
    assert contains_id_number("１１０１０５１９４９１２３１００２Ｘ")  # and a full-width X
    assert contains_id_number("第１11010519491231002X号")  # beside a full-width digit
    assert contains_id_number("11010519491231002X２号")
    assert not contains_id_number("110105194912310021")  # wrong check digit
    assert not contains_id_number("A11010519491231002X")  # part of a longer code
    assert not contains_id_number(USCC_EXAMPLE)
    assert not contains_id_number(with_check("11010517991231002"))  # born before 1800
    assert contains_id_number("编号440524188001010014")  # GB 11643-1999's example, born 1880
    # the 2017 foreigner card: 3 letters, 4 digits, the birth date (YYMMDD), 2 digits
    assert contains_id_number("持证人 USA620180010100 已核验")
    assert not contains_id_number("USA620199130100")  # month 13: no birth date where it stands
    assert not contains_id_number("R20261206USA620180010100")  # inside a longer code


# --- GB 32100 credit codes -----------------------------------------------------------------------
def test_the_credit_code_check_character_by_hand() -> None:
    assert uscc_problem(USCC_EXAMPLE) is None
    values = [USCC_CHARSET.index(c) for c in USCC_EXAMPLE[:17]]
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(v * w for v, w in zip(values, weights, strict=True))
    assert uscc_check_char(USCC_EXAMPLE[:17]) == USCC_CHARSET[(31 - total % 31) % 31]
    assert len(USCC_CHARSET) == 31 and not set("IOSVZ") & set(USCC_CHARSET)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("91350100M000100Y4", UsccProblem.LENGTH),
        ("91350100M000100I43", UsccProblem.CHARACTER),
        ("91350100m000100Y43", UsccProblem.CHARACTER),  # callers normalise case
        ("91350100M000100Y44", UsccProblem.CHECK_MISMATCH),
    ],
)
def test_credit_code_problems(code: str, problem: UsccProblem) -> None:
    assert uscc_problem(code) is problem


def test_the_check_character_is_the_only_check_of_a_codes_parts() -> None:
    """DESIGN §4: 18 characters of the code's alphabet, the check character mod 31; any 17 such
    characters with their check character are a code (letters where a division usually is too)."""
    first17 = "913A0100M000100Y4"
    assert uscc_problem(first17 + uscc_check_char(first17)) is None
    assert uscc_problem("913A0100M000100Y43") is UsccProblem.CHECK_MISMATCH


def test_a_credit_code_typed_with_spaces_and_lower_case() -> None:
    assert normalize_uscc(" 9135 0100 m000 100y43\n") == USCC_EXAMPLE
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100I4")


def test_one_changed_character_is_always_caught() -> None:
    rng = random.Random(7)
    for _ in range(500):
        first17 = "91" + "".join(rng.choice("0123456789") for _ in range(6))
        first17 += "".join(rng.choice(USCC_CHARSET) for _ in range(9))
        code = first17 + uscc_check_char(first17)
        pos = rng.randrange(18)
        other = rng.choice(USCC_CHARSET.replace(code[pos], ""))
        assert uscc_problem(code[:pos] + other + code[pos + 1 :]) is not None


# --- masking -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("李四", "李*"),
        ("司马光", "司马*"),
        ("上官婉儿", "上官**"),
        ("司马", "司*"),  # two characters: a surname and a given name, not a compound surname
        ("万俟卨", "万俟*"),
        (" 王 ", "王"),
        ("", ""),
    ],
)
def test_names_keep_the_surname(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_numbers_keep_their_ends_only() -> None:
    assert mask_id_number(GB11643_EXAMPLE) == "110*************2X"
    assert mask_id_number("TST110079061801") == "TST**********01"
    assert mask_id_number("12345") == "*****" and mask_id_number("") == ""
    assert mask_uscc(USCC_EXAMPLE) == "9135************43"
    assert not contains_id_number(mask_uscc("110105194912310020"))
