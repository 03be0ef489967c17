"""Number checks and the kiosk's acceptance rules for a decoded card.

Resident ID numbers, the HK/Macao/Taiwan residence permit's number and the 2023 foreigner permanent
residence card's number are 18 characters with a GB 11643-1999 check digit (ISO 7064 MOD 11-2). The
old foreigner card's 15-character number (3 letters + 12 digits) is checked for its shape only: its
check digit rule is not in a public standard we could confirm, and refusing a genuine card is worse
than accepting one the chip and the SAM have already authenticated.
"""

from __future__ import annotations

import datetime as dt
import re

from ..errors import InputRejected
from .card import IdCard

_DIGITS = "0123456789"  # explicit: str.isdigit() also accepts full-width and superscript digits
_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, ...
_CHECK_MAP = "10X98765432"
_OLD_FOREIGN_NUMBER = re.compile(r"[A-Z]{3}[0-9]{12}")


def id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of an 18-character number."""
    if len(first17) != 17 or any(c not in _DIGITS for c in first17):
        raise ValueError("first17 must be 17 ASCII digits")
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_MAP[total % 11]


def id_number_error(number: str) -> str | None:
    """Why an 18-character ID number is malformed, or None (no PII in the reason)."""
    if len(number) != 18:
        return f"expected 18 characters, got {len(number)}"
    if any(c not in _DIGITS for c in number[:17]):
        return "the first 17 characters must be digits"
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return "the birth date inside the number is not a date"
    if number[17] not in _DIGITS + "X":
        return "the check character must be a digit or X"
    if id_check_digit(number[:17]) != number[17]:
        return "check digit does not match (GB 11643, ISO 7064 MOD 11-2)"
    return None


def old_foreign_number_error(number: str) -> str | None:
    if not _OLD_FOREIGN_NUMBER.fullmatch(number):
        return "expected 3 capital letters and 12 digits"
    return None


def number_error(card: IdCard) -> str | None:
    """Why the card's number is malformed for its card type, or None."""
    number = card.id_number
    if card.card_type == "foreign_permanent_residence" and len(number) == 15:
        return old_foreign_number_error(number)
    return id_number_error(number)


def check_card(card: IdCard, today: dt.date) -> None:
    """Raise InputRejected when the kiosk must not accept `card`: bad number, or expired."""
    reason = number_error(card)
    if reason is not None:
        raise InputRejected(f"{card.card_type} number: {reason}", code="id_card.bad_id_number")
    if card.valid_until is not None and card.valid_until < today:
        raise InputRejected(
            f"card expired on {card.valid_until.isoformat()}", code="id_card.expired"
        )


def refusal_code(card: IdCard, today: dt.date) -> str | None:
    """The InputRejected code check_card would raise, or None when the card is accepted."""
    try:
        check_card(card, today)
    except InputRejected as exc:
        return exc.code
    return None
