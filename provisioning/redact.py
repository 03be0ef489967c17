"""What must never leave the terminal in a diagnostics bundle: names, ID numbers, credit codes,
phone numbers and key material. Shapes, not check digits: a mistyped ID number is still one.

`redact` replaces each find with a marker and counts it; `findings` is the last scan over the
finished bundle, which refuses to write it if anything is still there.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from identifiers import NUMBERS_IN_TEXT

# each (name, pattern); order matters: key blocks before the base64 runs inside them, and keys
# before numbers (a number's shape cut out of a key would leave the rest of it too short to find)
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("key", re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.S)),
    ("pin_hash", re.compile(r"pbkdf2_sha256\$[^\s\"']+")),
    ("key", re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])")),
    ("key", re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{48,}(?![0-9a-fA-F])")),
    *((name, re.compile(pattern)) for name, pattern in NUMBERS_IN_TEXT),
)  # fmt: skip
# names: any Chinese text in a log line (the kiosk logs in English, codes and lengths only)
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f·]+")


def _is_secret(name: str, found: str) -> bool:
    if name != "key" or found.startswith("-----"):
        return True
    if all(c in "0123456789abcdefABCDEF" for c in found):
        return True  # a raw key in hex (a digest is redacted too: it costs nothing)
    # base64 key material mixes cases and digits; a long path has slashes, a word has no digits
    return (
        any(c.isupper() for c in found)
        and any(c.islower() for c in found)
        and any(c.isdigit() for c in found)
        and found.count("/") <= 2
    )


def redact(text: str, *, cjk: bool = False, keep: Iterable[str] = ()) -> tuple[str, Counter[str]]:
    """`text` with every find replaced by `[redacted:KIND]`, and how many of each kind; the
    `keep` values (a hall's public name) are left as they are."""
    kept = [v for v in keep if v]
    for i, value in enumerate(kept):
        text = text.replace(value, f"\x00{i}\x00")
    counts: Counter[str] = Counter()
    for name, pattern in PATTERNS:

        def mark(match: re.Match[str], name: str = name) -> str:
            if not _is_secret(name, match.group(0)):
                return match.group(0)
            counts[name] += 1
            return f"[redacted:{name}]"

        text = pattern.sub(mark, text)
    if cjk:
        text, n = CJK.subn("[redacted:name]", text)
        counts["name"] += n
    for i, value in enumerate(kept):
        text = text.replace(f"\x00{i}\x00", value)
    return text, +counts


def findings(text: str, *, cjk: bool = False, allowed: Iterable[str] = ()) -> Counter[str]:
    """What a scan still finds in `text` (nothing, for a clean bundle)."""
    for value in allowed:
        text = text.replace(value, "")
    counts: Counter[str] = Counter()
    for name, pattern in PATTERNS:
        counts[name] += sum(_is_secret(name, m.group(0)) for m in pattern.finditer(text))
    if cjk:
        counts["name"] += len(CJK.findall(text))
    return +counts
