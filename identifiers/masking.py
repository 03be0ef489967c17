"""What screens, receipts and logs may show of a person or an enterprise (the platform's rules).

A name keeps its surname (a compound surname whole), a number its first and last few characters.
"""

from __future__ import annotations

# Compound surnames kept whole when masking a name of three or more characters.
# fmt: off
COMPOUND_SURNAMES = frozenset((
    "欧阳", "太史", "端木", "上官", "司马", "东方", "独孤", "南宫", "万俟", "闻人", "夏侯",
    "诸葛", "尉迟", "公羊", "赫连", "澹台", "皇甫", "宗政", "濮阳", "公冶", "太叔", "申屠",
    "公孙", "慕容", "仲孙", "钟离", "长孙", "宇文", "司徒", "鲜于", "司空", "闾丘", "子车",
    "亓官", "司寇", "巫马", "公西", "颛孙", "壤驷", "公良", "漆雕", "乐正", "宰父", "谷梁",
    "拓跋", "夹谷", "轩辕", "令狐", "段干", "百里", "呼延", "东郭", "南门", "羊舌", "微生",
    "梁丘", "左丘", "西门", "第五", "即墨", "达奚",
))
# fmt: on


def mask_name(name: str) -> str:
    """Keep the surname only: 张三 -> 张*, 欧阳娜娜 -> 欧阳**."""
    name = name.strip()
    keep = 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1
    return name[:keep] + "*" * max(len(name) - keep, 0)


def _mask_middle(text: str, head: int, tail: int) -> str:
    text = text.strip()
    if len(text) <= head + tail:  # too short to show anything without revealing most of it
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[-tail:]


def mask_id_number(number: str) -> str:
    """Keep the first 3 and last 2 characters: 110*************2X (also for pass numbers)."""
    return _mask_middle(number, 3, 2)


def mask_uscc(code: str) -> str:
    """Keep the first 4 and last 2 characters: 9162************3X."""
    return _mask_middle(code, 4, 2)
