"""Unified social credit codes (GB 32100-2015), checked on the kiosk before anything is queued.

Offline the platform cannot say a typed code is wrong, so the kiosk checks what it can: 18
characters from the code's alphabet, digits where the region code stands, and the mod-31 check
character.
"""

from __future__ import annotations

USCC_LENGTH = 18
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z (GB 32100-2015 table 1)
_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, ...
_DIGITS = "0123456789"  # explicit: str.isdigit() also accepts full-width digits


def uscc_check_char(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a code."""
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError("first17 must be 17 characters from the USCC character set")
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_problem(text: str) -> str | None:
    """The message id saying why `text` is not a valid code, or None when it is one."""
    if len(text) != USCC_LENGTH:
        return "uscc.wrong_length"
    if any(c not in _VALUE for c in text) or any(c not in _DIGITS for c in text[2:8]):
        return "uscc.bad_character"
    if uscc_check_char(text[:17]) != text[17]:
        return "uscc.bad_check"
    return None


def normalize_uscc(text: str) -> str:
    """Upper case without spaces: what a person types on the keypad or reads off a licence."""
    return "".join(text.split()).upper()
