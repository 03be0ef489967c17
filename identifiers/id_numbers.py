"""Citizen ID numbers (GB 11643-1999) and the cards that carry them.

An 18-character number is 6 digits of the registering division, the birth date (YYYYMMDD), 3 digits
of sequence and a check character by ISO 7064 MOD 11-2 (a digit or X). The HK/Macao/Taiwan residence
permit and the 2023 foreigner permanent residence card use the same format. The 2017 foreigner card's
15-character number (3 letters + 12 digits) is checked for its shape only: its check digit rule is
not in a public standard we could confirm, and refusing a genuine card is worse than accepting one
the chip and the reader's SAM have already authenticated.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from typing import Literal

LONG_TERM = "长期"  # a card's 有效期至 when it does not expire, as printed and as its chip holds it
DIGITS = "0123456789"  # explicit: str.isdigit() also accepts full-width and superscript digits
_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, ...
_CHECK_MAP = "10X98765432"
_OLD_FOREIGN_SHAPE = r"[A-Z]{3}[0-9]{12}"  # 3 letters (the nationality), 12 digits
_OLD_FOREIGN_NUMBER = re.compile(_OLD_FOREIGN_SHAPE)
# GB 11643-1999's own example, 440524188001010014, is born 1880
EARLIEST_BIRTH = dt.date(1800, 1, 1)

CardKind = Literal["resident", "hmt_residence_permit", "foreign_permanent_residence"]
CARD_KINDS: tuple[CardKind, ...] = (
    "resident",
    "hmt_residence_permit",
    "foreign_permanent_residence",
)


class IdProblem(enum.StrEnum):
    """Why a number is not a valid ID number; each caller words it for its own reader."""

    LENGTH = "length"  # not 18 characters
    NOT_DIGITS = "not_digits"  # the first 17 are not all ASCII digits
    CHECK_CHARACTER = "check_character"  # the 18th is neither a digit nor X
    BIRTH_DATE = "birth_date"  # positions 7-14 are not a real date
    BIRTH_TOO_EARLY = "birth_too_early"  # born before EARLIEST_BIRTH
    BIRTH_IN_FUTURE = "birth_in_future"  # born after `today`
    CHECK_MISMATCH = "check_mismatch"  # the check character does not match
    SHAPE = "shape"  # a 2017 foreigner card number is not 3 capital letters and 12 digits


def id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of an 18-character number."""
    if len(first17) != 17 or any(c not in DIGITS for c in first17):
        raise ValueError("first17 must be 17 ASCII digits")
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_MAP[total % 11]


def id_birth_date(number: str) -> dt.date | None:
    """The birth date encoded at positions 7-14, or None when it is not a real date."""
    part = number[6:14]
    if len(part) != 8 or any(c not in DIGITS for c in part):
        return None
    try:
        return dt.date(int(part[:4]), int(part[4:6]), int(part[6:]))
    except ValueError:
        return None


def id_number_problem(number: str, *, today: dt.date | None = None) -> IdProblem | None:
    """Why `number` is not a valid 18-character ID number, or None when it is.

    The check character must be an upper-case X (callers that accept a lower-case one normalise
    first); a birth date after `today` is a problem only when `today` is given.
    """
    if len(number) != 18:
        return IdProblem.LENGTH
    if any(c not in DIGITS for c in number[:17]):
        return IdProblem.NOT_DIGITS
    if number[17] not in DIGITS + "X":
        return IdProblem.CHECK_CHARACTER
    birth = id_birth_date(number)
    if birth is None:
        return IdProblem.BIRTH_DATE
    if birth < EARLIEST_BIRTH:
        return IdProblem.BIRTH_TOO_EARLY
    if today is not None and birth > today:
        return IdProblem.BIRTH_IN_FUTURE
    if id_check_digit(number[:17]) != number[17]:
        return IdProblem.CHECK_MISMATCH
    return None


def old_foreign_number_problem(number: str) -> IdProblem | None:
    """The 2017 foreigner permanent residence card's 15-character number: its shape only."""
    return None if _OLD_FOREIGN_NUMBER.fullmatch(number) else IdProblem.SHAPE


def card_number_problem(
    kind: CardKind, number: str, *, today: dt.date | None = None
) -> IdProblem | None:
    """Why a card's number is malformed for its kind of card, or None."""
    if kind == "foreign_permanent_residence" and len(number) == 15:
        return old_foreign_number_problem(number)
    return id_number_problem(number, today=today)


# Anything shaped like an ID number in free text: digits in any script, a check character (also
# full-width), and not part of a longer run of ASCII letters or digits (a credit code's digits
# must not match; a full-width digit beside an ASCII number does not hide it).
ID_NUMBER_IN_TEXT = r"(?<![0-9A-Za-z])\d{17}[\dXxＸｘ](?![0-9A-Za-z])"
_IN_TEXT = re.compile(ID_NUMBER_IN_TEXT)
# the first-generation card's 15 digits (birth year in two), as old records and people still write it
OLD_ID_NUMBER_IN_TEXT = r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])"
_LATEST_PLAUSIBLE_BIRTH = dt.date(2100, 1, 1)
# the 2017 foreigner card's number in free text: 3 letters, 12 digits (its own search pattern, for
# the scrubbers of logs, telemetry and diagnostics, which match shapes, not check characters)
OLD_FOREIGN_NUMBER_IN_TEXT = rf"(?<![0-9A-Za-z])(?i:{_OLD_FOREIGN_SHAPE})(?![0-9A-Za-z])"
_OLD_FOREIGN_IN_TEXT = re.compile(OLD_FOREIGN_NUMBER_IN_TEXT)


def contains_id_number(text: str) -> bool:
    """True when `text` holds a real ID number (a valid birth date and check character), or a 2017
    foreigner card's number (3 letters, 12 digits holding a birth date).

    The last safety net before paper, which cannot be recalled: full-width digits count, and a
    lower-case x too.
    """
    for match in _IN_TEXT.finditer(text):
        candidate = "".join(
            "X" if c in "XxＸｘ" else str(unicodedata.decimal(c)) for c in match.group(0)
        )
        if id_number_problem(candidate, today=_LATEST_PLAUSIBLE_BIRTH) is None:
            return True
    # the 2017 foreigner card's number carries its holder's birth date (YYMMDD) after 3 letters
    # and 4 digits; a code that merely shares the shape but holds no date is let through
    return any(_plausible_yymmdd(m.group(0)[7:13]) for m in _OLD_FOREIGN_IN_TEXT.finditer(text))


def _plausible_yymmdd(digits: str) -> bool:
    try:
        dt.date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return False
    return True
