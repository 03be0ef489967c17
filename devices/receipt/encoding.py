"""Text for Chinese receipt printers: GB18030 bytes chosen deliberately, column widths, wrapping.

python-escpos guesses an encoding per string and sends '：' or '¥' alone as '?' (STACK-NOTES), so the
layout never hands it text: every character is checked and encoded here, in the printer's two-byte mode
(FS &). A character that would print wrongly is replaced by a visible '?', never dropped or raised.
"""

from __future__ import annotations

import re
import unicodedata

REPLACEMENT = "?"

# half-width forms that look wrong next to CJK text on a receipt, and the ¥ sign that is a four-byte
# GB18030 character (GBK-only printers print it as garbage) while ￥ is the two-byte A3A4
_FULL_WIDTH = str.maketrans(
    {
        ":": "：",
        ",": "，",
        ";": "；",
        "!": "！",
        "?": "？",
        "(": "（",
        ")": "）",
        "¥": "￥",
    }
)
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def full_width_symbols(text: str) -> str:
    """Full-width punctuation for a Chinese label or sentence; other text keeps only ¥ -> ￥."""
    if has_cjk(text):
        return text.translate(_FULL_WIDTH)
    return text.replace("¥", "￥")


def _printable(ch: str, four_byte_ok: bool) -> bool:
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Co", "Cn", "Zl", "Zp"):  # controls could inject commands
        return False
    return four_byte_ok or len(ch.encode("gb18030")) <= 2


def sanitize(text: str, *, four_byte_ok: bool = True) -> str:
    """`text` with every character the printer cannot show replaced by '?' (tabs become spaces)."""
    text = text.replace("\t", " ").replace("¥", "￥")
    return "".join(ch if _printable(ch, four_byte_ok) else REPLACEMENT for ch in text)


def encode(text: str, *, four_byte_ok: bool = True) -> bytes:
    """GB18030 bytes of one printed line (no line feed); unprintable characters become '?'."""
    return sanitize(text, four_byte_ok=four_byte_ok).encode("gb18030")


def char_columns(ch: str) -> int:
    """Columns one character takes in two-byte mode: ASCII 1, anything multi-byte 2 (24x24 glyph)."""
    return 1 if ord(ch) < 0x80 else 2


def text_columns(text: str) -> int:
    return sum(char_columns(ch) for ch in text)


_NO_LINE_START = frozenset("。，、；：！？）」』”’》")
_TOKEN = re.compile(r"[\x21-\x7e]+| |.", re.DOTALL)  # ASCII words, single spaces, single characters


def wrap(text: str, columns: int) -> list[str]:
    """Lines of at most `columns` columns; ASCII words move whole when they fit on a line of their own."""
    if columns < 2:
        raise ValueError("need at least 2 columns to wrap into")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, width = "", 0
        for token in _TOKEN.findall(paragraph):
            token_width = text_columns(token)
            if width + token_width <= columns:
                line, width = line + token, width + token_width
                continue
            if token == " ":  # a space at a break is dropped
                lines.append(line)
                line, width = "", 0
                continue
            if token_width > columns or (token_width > 1 and width < columns // 2):
                for ch in token:  # too long for any line, or it would leave a ragged gap: split it
                    if width + char_columns(ch) > columns:
                        lines.append(line)
                        line, width = "", 0
                    line, width = line + ch, width + char_columns(ch)
                continue
            if token in _NO_LINE_START and len(line) > 1:  # never start a line with '。' or '）'
                line, token = line[:-1], line[-1] + token
                token_width = text_columns(token)
            lines.append(line)
            line, width = token, token_width
        lines.append(line.rstrip(" "))
    return [line.rstrip(" ") for line in lines]


def wrap_field(label: str, value: str, columns: int) -> list[str]:
    """'label：value' lines; continuation lines hang under the value when the label is short."""
    indent = text_columns(label)
    if indent > columns // 2:
        return wrap(label, columns) + wrap(value, columns)
    value_lines = wrap(value, columns - indent) if value else [""]
    return [label + value_lines[0]] + [" " * indent + line for line in value_lines[1:]]
