"""What the kiosk gets from an ID card: the IdCard record, with masking that keeps PII out of sight."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

CardType = Literal["resident", "hmt_residence_permit", "foreign_permanent_residence"]
CARD_TYPES: tuple[CardType, ...] = (
    "resident",
    "hmt_residence_permit",
    "foreign_permanent_residence",
)

# GB/T 2261.1 sex codes as stored on the card
SEX_NAMES = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}

# GB 3304-1991 nationality (民族) codes as stored on resident cards; names as printed on the card
# fmt: off
NATIONS = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝",
    "08": "壮", "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白",
    "15": "土家", "16": "哈尼", "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳", "21": "佤",
    "22": "畲", "23": "高山", "24": "拉祜", "25": "水", "26": "东乡", "27": "纳西", "28": "景颇",
    "29": "柯尔克孜", "30": "土", "31": "达斡尔", "32": "仫佬", "33": "羌", "34": "布朗",
    "35": "撒拉", "36": "毛南", "37": "仡佬", "38": "锡伯", "39": "阿昌", "40": "普米",
    "41": "塔吉克", "42": "怒", "43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克", "46": "德昂",
    "47": "保安", "48": "裕固", "49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春",
    "53": "赫哲", "54": "门巴", "55": "珞巴", "56": "基诺", "97": "其他", "98": "外国血统中国籍人士",
}
# Compound surnames kept whole when masking (the same list as report_service/ids.py, which devices/
# must not import).
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
    """Keep the surname only: 张三 -> 张*, 欧阳娜娜 -> 欧阳** (the platform's rule)."""
    name = name.strip()
    keep = 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1
    return name[:keep] + "*" * max(len(name) - keep, 0)


def mask_number(number: str) -> str:
    """Keep the first 3 and last 2 characters: 110*************2X (the platform's rule)."""
    number = number.strip()
    if len(number) <= 5:  # too short to show anything without revealing most of it
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 5) + number[-2:]


@dataclass(frozen=True, slots=True, repr=False)
class IdCard:
    """One card as read from the chip.

    `nation` is the 民族 name on resident cards, the nationality code (ISO 3166-1 alpha-3) on
    foreigner cards and empty on residence permits. `valid_until` is None for 长期. `photo` is the
    chip's raw wavelet image, kept in memory only. repr/str never show name, numbers, address,
    birth date or photo.
    """

    card_type: CardType
    name: str
    sex: str
    nation: str
    birth_date: dt.date
    address: str
    id_number: str
    authority: str
    valid_from: dt.date
    valid_until: dt.date | None
    photo: bytes = b""
    english_name: str = ""  # foreigner cards
    pass_number: str = ""  # residence permit: the HK/Macao/Taiwan travel pass number
    issue_count: int | None = None  # residence permit: 签发次数

    def __repr__(self) -> str:
        until = "长期" if self.valid_until is None else self.valid_until.isoformat()
        return (
            f"IdCard(card_type={self.card_type!r}, name=<hidden>, id_number=<hidden>, "
            f"address=<hidden>, valid_until={until}, photo=<{len(self.photo)} bytes>)"
        )

    __str__ = __repr__

    def as_dict(self, reveal: bool = False) -> dict[str, object]:
        """JSON-ready fields (dates ISO, 长期 -> None, no photo); name and numbers masked unless reveal."""
        hide_name = (lambda s: s) if reveal else mask_name
        hide_number = (lambda s: s) if reveal else mask_number
        out: dict[str, object] = {
            "card_type": self.card_type,
            "name": hide_name(self.name),
            "sex": self.sex,
            "nation": self.nation,
            "birth_date": self.birth_date.isoformat(),
            "address": self.address,
            "id_number": hide_number(self.id_number),
            "authority": self.authority,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": None if self.valid_until is None else self.valid_until.isoformat(),
        }
        if self.english_name:
            out["english_name"] = hide_name(self.english_name)
        if self.pass_number:
            out["pass_number"] = hide_number(self.pass_number)
        if self.issue_count is not None:
            out["issue_count"] = self.issue_count
        return out

    def masked(self) -> dict[str, object]:
        return self.as_dict(reveal=False)
