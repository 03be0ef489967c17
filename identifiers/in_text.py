"""Personal numbers inside free text, by kind: what the scrubbers of terminal telemetry and of a
diagnostics bundle look for. Shapes, not check characters (a mistyped ID number is still one); ID
and mobile numbers also in full-width digits, credit codes and the 2017 foreigner card's numbers
in ASCII. None matches inside a longer word of ASCII letters and digits: telemetry carries ids
(a command's, in hex) that must reach the platform as they were sent."""

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
