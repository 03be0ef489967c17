"""Identifier checks and masking: unified social credit codes and resident ID numbers.

USCC: GB 32100-2015, 18 characters, check character mod 31.
ID number: GB 11643-1999, 18 characters, check digit ISO 7064 MOD 11-2.
The rules themselves are the `identifiers` package, shared with the kiosk; this module words their
problems as short Chinese sentences meant for an on-screen message or an import report, and accepts
a lower-case final x where the platform takes input.
"""

from __future__ import annotations

import datetime as dt

from identifiers import (
    COMPOUND_SURNAMES,
    EARLIEST_BIRTH,
    USCC_CHARSET,
    IdProblem,
    UsccProblem,
    id_birth_date,
    id_check_digit,
    id_number_problem,
    mask_name,
    old_foreign_number_problem,
    uscc_check_char,
    uscc_problem,
)
from identifiers import mask_id_number as _mask_id_number

__all__ = [
    "COMPOUND_SURNAMES",
    "USCC_CHARSET",
    "id_birth_date",
    "id_check_digit",
    "id_number_error",
    "is_valid_card_number",
    "is_valid_id_number",
    "is_valid_uscc",
    "mask_id_number",
    "mask_name",
    "normalize_id_number",
    "uscc_check_char",
    "uscc_error",
]

_ID_REASONS = {
    IdProblem.NOT_DIGITS: "身份证号码前17位应为数字",
    IdProblem.CHECK_CHARACTER: "身份证号码第18位应为数字或X",
    IdProblem.BIRTH_DATE: "身份证号码中的出生日期无效",
    IdProblem.BIRTH_TOO_EARLY: f"身份证号码中的出生日期早于{EARLIEST_BIRTH.year}年",
    IdProblem.BIRTH_IN_FUTURE: "身份证号码中的出生日期晚于今天",
    IdProblem.CHECK_MISMATCH: "校验码错误，请核对身份证号码",
}


def uscc_error(s: object) -> str | None:
    """Why `s` is not a valid unified social credit code, or None when it is."""
    if not isinstance(s, str):
        return "统一社会信用代码应为文本"
    problem = uscc_problem(s)
    if problem is UsccProblem.LENGTH:
        return f"统一社会信用代码应为18位（当前为{len(s)}位）"
    if problem is UsccProblem.CHARACTER:
        pos, c = next((p, c) for p, c in enumerate(s, start=1) if c not in USCC_CHARSET)
        return f"第{pos}位字符“{c}”无效（只能使用数字和除I、O、S、V、Z外的大写字母）"
    if problem is UsccProblem.CHECK_MISMATCH:
        return "校验码错误，请核对统一社会信用代码"
    return None


def is_valid_uscc(s: object) -> bool:
    """True when `s` is an 18-character USCC with a correct check character."""
    return uscc_error(s) is None


def normalize_id_number(s: str) -> str:
    """The canonical spelling: a lowercase final x becomes X."""
    return s[:-1] + "X" if s.endswith("x") else s


def id_number_error(s: object, *, today: dt.date | None = None) -> str | None:
    """Why `s` is not a valid 18-digit resident ID number, or None when it is."""
    if not isinstance(s, str):
        return "身份证号码应为文本"
    if len(s) != 18:
        return f"身份证号码应为18位（当前为{len(s)}位）"
    problem = id_number_problem(normalize_id_number(s), today=today or dt.date.today())
    return None if problem is None else _ID_REASONS[problem]


def is_valid_id_number(s: object, *, today: dt.date | None = None) -> bool:
    """True when `s` is a valid 18-digit ID number (a final lowercase x is accepted)."""
    return id_number_error(s, today=today) is None


def is_valid_card_number(s: object, *, today: dt.date | None = None) -> bool:
    """The number on any card a kiosk's reader decodes: an 18-character GB 11643 number (resident
    card, HK/Macao/Taiwan residence permit, the 2023 foreigner permanent residence card), or the
    2017 foreigner permanent residence card's 15 characters, which have their own check (3
    capital letters and 12 digits; no public check-digit rule to test them against)."""
    if isinstance(s, str) and len(s) == 15:
        return old_foreign_number_problem(s) is None
    return is_valid_id_number(s, today=today)


def mask_id_number(s: str) -> str:
    """Keep the first 3 and last 2 characters: 110*************2X."""
    return _mask_id_number(normalize_id_number(s.strip()))
