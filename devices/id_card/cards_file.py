"""The simulator's cards file: JSON Lines, one card per line, in the fields of IdCard.

Dates are ISO (`"1990-01-31"`); `valid_until` is null or "长期" for a long-term card; `sex` and
`nation` may be names (男, 汉) or the codes stored on the card (1, 01). Example line:
{"card_type": "resident", "name": "测试甲", "sex": "男", "nation": "汉", "birth_date": "1990-01-01",
 "address": "测试省测试市测试路1号", "id_number": "...", "authority": "测试市公安局",
 "valid_from": "2020-01-01", "valid_until": "2040-01-01"}
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from identifiers import LONG_TERM

from ..errors import ConfigError
from .card import CARD_TYPES, IdCard
from .text import PHOTO_LEN, encode_text


def fake_photo(seed: int = 0) -> bytes:
    """1024 bytes standing in for the chip's wavelet photo (not an image)."""
    return bytes((i * 131 + seed * 7 + 17) & 0xFF for i in range(PHOTO_LEN))


def _date(value: object, key: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"{where}: {key} must be a date YYYY-MM-DD") from None


def card_from_dict(obj: Mapping[str, Any], where: str = "card", seed: int = 0) -> IdCard:
    """An IdCard from the cards-file fields (dates ISO; valid_until null or "长期" = long-term)."""
    card_type = obj.get("card_type", "resident")
    if card_type not in CARD_TYPES:
        raise ConfigError(f"{where}: card_type must be one of {', '.join(CARD_TYPES)}")
    texts = {}
    for key in ("name", "sex", "nation", "address", "id_number", "authority", "english_name",
                "pass_number"):  # fmt: skip
        value = obj.get(key, "")
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} must be text")
        texts[key] = value
    until = obj.get("valid_until")
    count = obj.get("issue_count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
        raise ConfigError(f"{where}: issue_count must be an integer")
    card = IdCard(
        card_type=card_type,
        name=texts["name"] or texts["english_name"],
        sex=texts["sex"],
        nation=texts["nation"],
        birth_date=_date(obj.get("birth_date"), "birth_date", where),
        address=texts["address"],
        id_number=texts["id_number"],
        authority=texts["authority"],
        valid_from=_date(obj.get("valid_from"), "valid_from", where),
        valid_until=None if until in (None, LONG_TERM) else _date(until, "valid_until", where),
        photo=fake_photo(seed),
        english_name=texts["english_name"],
        pass_number=texts["pass_number"],
        issue_count=count,
    )
    try:
        encode_text(card)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return card


def load_cards(path: str | Path) -> list[IdCard]:
    """Cards from a JSON Lines file, one card per line (blank lines and # comments skipped)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"id_card sim: cannot read cards_file {path}: {exc.strerror}") from None
    cards: list[IdCard] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path} line {number}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise ConfigError(f"{where}: expected a JSON object")
        cards.append(card_from_dict(obj, where, seed=len(cards)))
    return cards
