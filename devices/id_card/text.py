"""The 256-byte card text (UCS-2LE, space padded) and the base-info reply that carries it.

Layouts, as byte offsets into the text (sources in docs/devices/id_card.md):
- resident card (no type flag): name 0, sex 30, nation code 32, birth 36, address 52, ID number 122,
  authority 158, valid from 188, valid to 204 (a date or 长期), reserved 220..255;
- 'J' at 248, HK/Macao/Taiwan residence permit: as the resident card with 32..35 reserved, then
  pass number 220, issue count 238;
- 'I' at 248, foreigner permanent residence card (2017): English name 0, sex 120, permit number 122,
  nationality code 152, Chinese name 158, valid from 188, valid to 204, birth 220, card version 236,
  authority code 240;
- 'Y' at 248, foreigner permanent residence card (2023): Chinese name 0, sex 30, renewal count 32,
  birth 36, English name 52 (continued at 220), ID number 122, valid from 188, valid to 204,
  nationality code 242.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from identifiers import LONG_TERM

from ..errors import InputRejected, ProtocolError
from .card import NATIONS, SEX_NAMES, IdCard
from .frame import encode_reply

TEXT_LEN = 256
PHOTO_LEN = 1024
TYPE_FLAG_OFFSET = 248

Layout = Mapping[str, tuple[int, int]]  # field -> (byte offset, byte size)

RESIDENT: Layout = {
    "name": (0, 30), "sex": (30, 2), "nation": (32, 4), "birth": (36, 16), "address": (52, 70),
    "id_number": (122, 36), "authority": (158, 30), "valid_from": (188, 16), "valid_until": (204, 16),
}  # fmt: skip
HMT_PERMIT: Layout = {
    "name": (0, 30), "sex": (30, 2), "birth": (36, 16), "address": (52, 70), "id_number": (122, 36),
    "authority": (158, 30), "valid_from": (188, 16), "valid_until": (204, 16),
    "pass_number": (220, 18), "issue_count": (238, 4),
}  # fmt: skip
FOREIGN_2017: Layout = {
    "english_name": (0, 120), "sex": (120, 2), "id_number": (122, 30), "nation": (152, 6),
    "name": (158, 30), "valid_from": (188, 16), "valid_until": (204, 16), "birth": (220, 16),
    "card_version": (236, 4), "authority": (240, 8),
}  # fmt: skip
FOREIGN_2023: Layout = {
    "name": (0, 30), "sex": (30, 2), "renewal_count": (32, 4), "birth": (36, 16),
    "english_name": (52, 70), "id_number": (122, 36), "valid_from": (188, 16),
    "valid_until": (204, 16), "english_name_more": (220, 22), "nation": (242, 6),
}  # fmt: skip
LAYOUTS: Mapping[str, Layout] = {
    " ": RESIDENT,
    "J": HMT_PERMIT,
    "I": FOREIGN_2017,
    "Y": FOREIGN_2023,
}


def _bad_text(message: str) -> ProtocolError:
    return ProtocolError(message, code="id_card.bad_text")


def _field(text: bytes, offset: int, size: int, name: str) -> str:
    try:
        value = text[offset : offset + size].decode("utf-16-le")
    except UnicodeDecodeError:
        raise _bad_text(f"field {name} is not UCS-2 text") from None
    return value.strip(" \x00")


def type_flag(text: bytes) -> str:
    """' ' for a resident card (no flag), else the letter at offset 248."""
    flag = _field(text, TYPE_FLAG_OFFSET, 2, "type flag")
    return flag or " "


def _date(value: str, name: str) -> dt.date:
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        raise _bad_text(f"field {name} is not a YYYYMMDD date")
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise _bad_text(f"field {name} is not a valid date") from None


def _until(value: str) -> dt.date | None:
    return None if value == LONG_TERM else _date(value, "valid_until")


def decode_text(text: bytes, photo: bytes = b"") -> IdCard:
    """Decode the 256-byte text of any supported card type; ProtocolError/InputRejected if bad."""
    if len(text) != TEXT_LEN:
        raise _bad_text(f"card text is {len(text)} bytes, expected {TEXT_LEN}")
    flag = type_flag(text)
    layout = LAYOUTS.get(flag)
    if layout is None:
        raise InputRejected(
            f"unsupported card type flag {flag!r} at offset {TYPE_FLAG_OFFSET}",
            code="id_card.unsupported_card_type",
        )
    f = {name: _field(text, off, size, name) for name, (off, size) in layout.items()}
    birth = _date(f["birth"], "birth")
    valid_from = _date(f["valid_from"], "valid_from")
    valid_until = _until(f["valid_until"])
    sex = SEX_NAMES.get(f["sex"], f["sex"])
    number = f["id_number"].upper()
    if flag == " ":
        return IdCard(
            "resident", f["name"], sex, NATIONS.get(f["nation"], f["nation"]), birth,
            f["address"], number, f["authority"], valid_from, valid_until, photo=bytes(photo),
        )  # fmt: skip
    if flag == "J":
        count = f["issue_count"]
        return IdCard(
            "hmt_residence_permit", f["name"], sex, "", birth, f["address"], number,
            f["authority"], valid_from, valid_until, photo=bytes(photo),
            pass_number=f["pass_number"],
            issue_count=int(count) if count.isascii() and count.isdigit() else None,
        )  # fmt: skip
    english = f["english_name"] + f.get("english_name_more", "")
    return IdCard(
        "foreign_permanent_residence", f["name"] or english, sex, f["nation"], birth, "", number,
        f.get("authority", ""), valid_from, valid_until, photo=bytes(photo), english_name=english,
    )  # fmt: skip


def _put(buf: bytearray, offset: int, size: int, value: str, name: str) -> None:
    raw = value.encode("utf-16-le")
    if len(raw) > size:
        raise ValueError(f"{name} needs {len(raw)} bytes, the field holds {size}")
    buf[offset : offset + size] = raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)


def _code_for(value: str, table: Mapping[str, str]) -> str:
    for code, name in table.items():
        if name == value:
            return code
    return value


def encode_text(card: IdCard) -> bytes:
    """The 256-byte text for `card` (the simulator's and the test vectors' side of decode_text)."""
    values = {
        "name": card.name,
        "sex": _code_for(card.sex, SEX_NAMES),
        "birth": card.birth_date.strftime("%Y%m%d"),
        "address": card.address,
        "id_number": card.id_number,
        "authority": card.authority,
        "valid_from": card.valid_from.strftime("%Y%m%d"),
        "valid_until": LONG_TERM
        if card.valid_until is None
        else card.valid_until.strftime("%Y%m%d"),
        "nation": card.nation,
    }
    if card.card_type == "resident":
        flag, values["nation"] = " ", _code_for(card.nation, NATIONS)
    elif card.card_type == "hmt_residence_permit":
        flag = "J"
        values["pass_number"] = card.pass_number
        values["issue_count"] = "" if card.issue_count is None else f"{card.issue_count:02d}"
    elif len(card.id_number) == 18:
        flag = "Y"
        values["name"] = "" if card.name == card.english_name else card.name
        values["english_name"] = card.english_name[:35]
        values["english_name_more"] = card.english_name[35:]
    else:
        flag = "I"
        values["name"] = "" if card.name == card.english_name else card.name
        values["english_name"] = card.english_name
    buf = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    for name, (offset, size) in LAYOUTS[flag].items():
        _put(buf, offset, size, values.get(name, ""), name)
    if flag != " ":
        _put(buf, TYPE_FLAG_OFFSET, 2, flag, "type flag")
    return bytes(buf)


def parse_base_info(data: bytes) -> tuple[bytes, bytes]:
    """Split the data of a read-base-info reply: text length, photo length, text, photo."""
    if len(data) < 4:
        raise ProtocolError(
            f"base info of {len(data)} bytes has no length header", code="id_card.bad_base_info"
        )
    text_len = int.from_bytes(data[0:2], "big")
    photo_len = int.from_bytes(data[2:4], "big")
    if text_len != TEXT_LEN:
        raise ProtocolError(
            f"base info text length {text_len}, expected {TEXT_LEN}", code="id_card.bad_base_info"
        )
    if len(data) != 4 + text_len + photo_len:
        raise ProtocolError(
            f"base info of {len(data)} bytes, header says {4 + text_len + photo_len}",
            code="id_card.bad_base_info",
        )
    return bytes(data[4 : 4 + text_len]), bytes(data[4 + text_len :])


def build_base_info(text: bytes, photo: bytes) -> bytes:
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo


def decode_base_info(data: bytes) -> IdCard:
    text, photo = parse_base_info(data)
    return decode_text(text, photo)


def base_info_reply(card: IdCard) -> bytes:
    """The complete read-base-info reply frame for `card`."""
    return encode_reply(0x90, build_base_info(encode_text(card), card.photo))  # SW3 0x90: ok
