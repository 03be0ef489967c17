"""Unified social credit codes (GB 32100-2015): 18 characters, the check character mod 31.

Positions 1-2 are the registering authority and entity type, 3-8 the administrative division,
9-17 the organisation code, 18 the check character, all from a 31-character alphabet without I, O,
S, V and Z. A code is valid when its alphabet and its check character are (DESIGN §4): the parts'
own tables (which divisions exist) change over time and are the registry's to check, not a kiosk's.
"""

from __future__ import annotations

import enum

USCC_LENGTH = 18
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z (GB 32100-2015 table 1)
# a credit code's shape inside other text, in either case (a scrub also catches one typed lower)
USCC_IN_TEXT = (
    r"(?<![0-9A-Za-z])(?i:[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10})(?![0-9A-Za-z])"
)
_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...


class UsccProblem(enum.StrEnum):
    """Why a text is not a valid credit code; each caller words it for its own reader."""

    LENGTH = "length"  # not 18 characters
    CHARACTER = "character"  # a character outside the code's alphabet
    CHECK_MISMATCH = "check_mismatch"  # the check character does not match


def uscc_check_char(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a code."""
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError("first17 must be 17 characters from the USCC character set")
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> UsccProblem | None:
    """Why `code` is not a valid credit code, or None when it is one."""
    if len(code) != USCC_LENGTH:
        return UsccProblem.LENGTH
    if any(c not in _VALUE for c in code):
        return UsccProblem.CHARACTER
    if uscc_check_char(code[:17]) != code[17]:
        return UsccProblem.CHECK_MISMATCH
    return None


def normalize_uscc(text: str) -> str:
    """Upper case without spaces: what a person types on a keypad or reads off a licence."""
    return "".join(text.split()).upper()
