"""The kiosk's acceptance rules for a decoded card: a well-formed number for its kind of card, and
not expired. The number rules themselves are `identifiers.id_numbers` (GB 11643)."""

from __future__ import annotations

import datetime as dt

from identifiers import EARLIEST_BIRTH, IdProblem, card_number_problem

from ..errors import InputRejected
from .card import IdCard

# for the technician's log: no part of the number itself
_REASONS = {
    IdProblem.LENGTH: "expected 18 characters",
    IdProblem.NOT_DIGITS: "the first 17 characters must be digits",
    IdProblem.CHECK_CHARACTER: "the check character must be a digit or X",
    IdProblem.BIRTH_DATE: "the birth date inside the number is not a date",
    IdProblem.BIRTH_TOO_EARLY: f"the birth date inside the number is before {EARLIEST_BIRTH.year}",
    IdProblem.BIRTH_IN_FUTURE: "the birth date inside the number is after today",
    IdProblem.CHECK_MISMATCH: "check digit does not match (GB 11643, ISO 7064 MOD 11-2)",
    IdProblem.SHAPE: "expected 3 capital letters and 12 digits",
}


def _reason(problem: IdProblem | None, number: str) -> str | None:
    if problem is None:
        return None
    if problem is IdProblem.LENGTH:
        return f"expected 18 characters, got {len(number)}"
    return _REASONS[problem]


def number_error(card: IdCard, today: dt.date | None = None) -> str | None:
    """Why the card's number is malformed for its card type, or None."""
    problem = card_number_problem(card.card_type, card.id_number, today=today)
    return _reason(problem, card.id_number)


def check_card(card: IdCard, today: dt.date) -> None:
    """Raise InputRejected when the kiosk must not accept `card`: bad number, or expired."""
    reason = number_error(card, today)
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
