"""Identifier checks and masking: unified social credit codes and resident ID numbers.

USCC: GB 32100-2015, 18 characters, check character mod 31.
ID number: GB 11643-1999, 18 characters, check digit ISO 7064 MOD 11-2.
Error reasons are short Chinese sentences meant for an on-screen message or an import report.
"""

from __future__ import annotations

import datetime as dt

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z (GB 32100-2015 table 1)
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1, 3, 9, 27, 19, 26, ...

_DIGITS = "0123456789"  # explicit: str.isdigit() also accepts full-width and superscript digits
_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7, 9, 10, 5, 8, ...
_ID_CHECK_MAP = "10X98765432"
_ID_EARLIEST_BIRTH = dt.date(1900, 1, 1)

# Compound surnames kept whole when masking a name of three or more characters.
# fmt: off
COMPOUND_SURNAMES = (
    "欧阳", "太史", "端木", "上官", "司马", "东方", "独孤", "南宫", "万俟", "闻人", "夏侯",
    "诸葛", "尉迟", "公羊", "赫连", "澹台", "皇甫", "宗政", "濮阳", "公冶", "太叔", "申屠",
    "公孙", "慕容", "仲孙", "钟离", "长孙", "宇文", "司徒", "鲜于", "司空", "闾丘", "子车",
    "亓官", "司寇", "巫马", "公西", "颛孙", "壤驷", "公良", "漆雕", "乐正", "宰父", "谷梁",
    "拓跋", "夹谷", "轩辕", "令狐", "段干", "百里", "呼延", "东郭", "南门", "羊舌", "微生",
    "梁丘", "左丘", "西门", "第五", "即墨", "达奚",
)
# fmt: on


def uscc_check_char(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a USCC."""
    if len(first17) != 17 or any(c not in _USCC_VALUE for c in first17):
        raise ValueError("first17 must be 17 characters from the USCC character set")
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc_error(s: object) -> str | None:
    """Why `s` is not a valid unified social credit code, or None when it is."""
    if not isinstance(s, str):
        return "统一社会信用代码应为文本"
    if len(s) != 18:
        return f"统一社会信用代码应为18位（当前为{len(s)}位）"
    for pos, c in enumerate(s, start=1):
        if c not in _USCC_VALUE:
            return f"第{pos}位字符“{c}”无效（只能使用数字和除I、O、S、V、Z外的大写字母）"
    if any(c not in _DIGITS for c in s[2:8]):
        return "第3至8位（登记管理机关行政区划码）应为数字"
    if uscc_check_char(s[:17]) != s[17]:
        return "校验码错误，请核对统一社会信用代码"
    return None


def is_valid_uscc(s: object) -> bool:
    """True when `s` is an 18-character USCC with a correct check character."""
    return uscc_error(s) is None


def id_check_digit(first17: str) -> str:
    """The check digit (position 18) for the first 17 digits of an ID number."""
    if len(first17) != 17 or any(c not in _DIGITS for c in first17):
        raise ValueError("first17 must be 17 ASCII digits")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_MAP[total % 11]


def normalize_id_number(s: str) -> str:
    """The canonical spelling: a lowercase final x becomes X."""
    return s[:-1] + "X" if s.endswith("x") else s


def id_birth_date(s: str) -> dt.date | None:
    """The birth date encoded at positions 7-14, or None when it is not a real date."""
    part = s[6:14]
    if len(part) != 8 or any(c not in _DIGITS for c in part):
        return None
    try:
        return dt.date(int(part[:4]), int(part[4:6]), int(part[6:]))
    except ValueError:
        return None


def id_number_error(s: object, *, today: dt.date | None = None) -> str | None:
    """Why `s` is not a valid 18-digit resident ID number, or None when it is."""
    if not isinstance(s, str):
        return "身份证号码应为文本"
    if len(s) != 18:
        return f"身份证号码应为18位（当前为{len(s)}位）"
    s = normalize_id_number(s)
    if any(c not in _DIGITS for c in s[:17]):
        return "身份证号码前17位应为数字"
    if s[17] not in _DIGITS + "X":
        return "身份证号码第18位应为数字或X"
    birth = id_birth_date(s)
    if birth is None:
        return "身份证号码中的出生日期无效"
    if birth < _ID_EARLIEST_BIRTH:
        return "身份证号码中的出生日期早于1900年"
    if birth > (today or dt.date.today()):
        return "身份证号码中的出生日期晚于今天"
    if id_check_digit(s[:17]) != s[17]:
        return "校验码错误，请核对身份证号码"
    return None


def is_valid_id_number(s: object, *, today: dt.date | None = None) -> bool:
    """True when `s` is a valid 18-digit ID number (a final lowercase x is accepted)."""
    return id_number_error(s, today=today) is None


def mask_id_number(s: str) -> str:
    """Keep the first 3 and last 2 characters: 110*************2X."""
    s = normalize_id_number(s.strip())
    if len(s) <= 5:  # too short to show anything without revealing most of it
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 5) + s[-2:]


def mask_name(s: str) -> str:
    """Keep the surname only: 张三 -> 张*, 欧阳娜娜 -> 欧阳**."""
    s = s.strip()
    keep = 2 if len(s) >= 3 and s[:2] in COMPOUND_SURNAMES else 1
    return s[:keep] + "*" * max(len(s) - keep, 0)
