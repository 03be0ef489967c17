"""What the kiosk gets from an ID card: the IdCard record, with masking that keeps PII out of sight."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from identifiers import CARD_KINDS as CARD_TYPES
from identifiers import LONG_TERM, mask_id_number, mask_name
from identifiers import CardKind as CardType

__all__ = ["CARD_TYPES", "NATIONS", "SEX_NAMES", "CardType", "IdCard"]

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
# fmt: on


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
        until = LONG_TERM if self.valid_until is None else self.valid_until.isoformat()
        return (
            f"IdCard(card_type={self.card_type!r}, name=<hidden>, id_number=<hidden>, "
            f"address=<hidden>, valid_until={until}, photo=<{len(self.photo)} bytes>)"
        )

    __str__ = __repr__

    def as_dict(self, reveal: bool = False) -> dict[str, object]:
        """JSON-ready fields (dates ISO, 长期 -> None, no photo); name and numbers masked unless reveal."""
        hide_name = (lambda s: s) if reveal else mask_name
        hide_number = (lambda s: s) if reveal else mask_id_number
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
