"""What text the platform stores and prints: no control characters, no bidirectional overrides.

A NUL, an escape or a U+202E (RIGHT-TO-LEFT OVERRIDE) in a name or a record's title is invisible
or reorders what is shown around it: on paper and on screens it would not read as stored. One
rule for the import and for text people type at a kiosk (objection reasons)."""

from __future__ import annotations

import unicodedata

# Explicit directional formatting characters (Unicode bidi classes LRE, RLE, PDF, LRO, RLO, LRI,
# RLI, FSI, PDI) and the implicit marks LRM, RLM, ALM.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})  # controls, surrogates, line breaks


def unsafe_char(text: str) -> tuple[int, str] | None:
    """(1-based position, character) of the first character refused in stored text, or None."""
    for pos, ch in enumerate(text, start=1):
        if ch in BIDI_CONTROLS or unicodedata.category(ch) in _REFUSED_CATEGORIES:
            return pos, ch
    return None


def describe(ch: str) -> str:
    """U+202E (RIGHT-TO-LEFT OVERRIDE): the character named, never shown raw."""
    name = unicodedata.name(ch, "") or {"\x00": "NULL"}.get(ch, "control character")
    return f"U+{ord(ch):04X} ({name})"
