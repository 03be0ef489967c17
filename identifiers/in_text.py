"""Personal numbers inside free text, by kind: what the scrubbers of terminal telemetry and of a
diagnostics bundle look for. Shapes, not check characters (a mistyped ID number is still one), and
digits in any script."""

from __future__ import annotations

from .credit_codes import USCC_IN_TEXT
from .id_numbers import ID_NUMBER_IN_TEXT, OLD_FOREIGN_NUMBER_IN_TEXT, OLD_ID_NUMBER_IN_TEXT
from .phones import MOBILE_NUMBER_IN_TEXT

# (kind, pattern); an all-digit credit code is found as an ID number: either way it goes
NUMBERS_IN_TEXT: tuple[tuple[str, str], ...] = (
    ("id_number", ID_NUMBER_IN_TEXT),
    ("id_number", OLD_ID_NUMBER_IN_TEXT),
    ("id_number", OLD_FOREIGN_NUMBER_IN_TEXT),
    ("credit_code", USCC_IN_TEXT),
    ("phone", MOBILE_NUMBER_IN_TEXT),
)
ANY_NUMBER_IN_TEXT = "|".join(f"(?:{pattern})" for _, pattern in NUMBERS_IN_TEXT)
