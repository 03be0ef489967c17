"""Mainland telephone numbers as people write them: a mobile number (1, then 3–9, then 9 digits;
+86, 86 or 0086 before it allowed) or a landline with its area code (0 and 2–3 digits, then 7–8).

Spaces, brackets and hyphens are how people group the digits, not part of the number. Digits are
ASCII only: a contact number is dialled by staff, and str.isdigit() would take full-width ones.
"""

from __future__ import annotations

import re

_MOBILE = r"1[3-9][0-9]{9}"
_PHONE = re.compile(rf"(?:\+?86|0086)?{_MOBILE}|0[0-9]{{2,3}}[0-9]{{7,8}}")
_GROUPING = re.compile(r"[ \u3000()（）-]")  # spaces (also full-width), brackets, hyphens
# a mobile number inside free text, in ASCII or full-width digits (for the scrubbers: shapes only)
MOBILE_NUMBER_IN_TEXT = r"(?<!\d)[1１][3-9３-９]\d{9}(?!\d)"


def is_phone_number(text: str) -> bool:
    """True for a mobile or landline number, however its digits are grouped."""
    return _PHONE.fullmatch(_GROUPING.sub("", text)) is not None
