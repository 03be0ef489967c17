"""Mainland telephone numbers as people write them: a mobile number (1, then 3–9, then 9 digits;
+86, 86 or 0086 before it allowed) or a landline with its area code (0 and 2–3 digits, then 7–8).
Spaces, brackets and hyphens are how people group the digits, not part of the number; digits may
be full-width, as an input method types them.
"""

from __future__ import annotations

import re

_MOBILE_HEAD = "[1１][3-9３-９]"
_PHONE = re.compile(rf"(?:\+?86|0086)?{_MOBILE_HEAD}\d{{9}}|0\d{{2,3}}\d{{7,8}}")
_GROUPING = re.compile(r"[\s()（）-]")
# a mobile number inside free text, +86 before it or not, grouped 3-4-4 or not; never inside a
# longer word of ASCII letters and digits (a command id's hex digits hold such runs)
MOBILE_NUMBER_IN_TEXT = (
    rf"(?<![0-9A-Za-z])(?:(?:\+|00)?86[ -]?)?{_MOBILE_HEAD}\d(?:[ -]?\d{{4}}){{2}}(?![0-9A-Za-z])"
)


def is_phone_number(text: str) -> bool:
    """True for a mobile or landline number, however its digits are grouped."""
    return _PHONE.fullmatch(_GROUPING.sub("", text)) is not None
