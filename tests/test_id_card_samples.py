"""Synthetic ID cards shared by the ID card reader tests, and checks that the samples are sound.

Names are obviously synthetic; every number carries a correct check digit (computed, then pinned).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from devices.id_card.card import IdCard
from devices.id_card.cards_file import fake_photo
from identifiers import id_check_digit, id_number_problem

TODAY = dt.date(2026, 6, 1)

RESIDENT = IdCard(
    card_type="resident",
    name="欧阳测试",
    sex="男",
    nation="汉",
    birth_date=dt.date(1990, 3, 7),
    address="测试省测试市测试区样例路1号",
    id_number="110101199003071233",
    authority="测试市公安局测试分局",
    valid_from=dt.date(2020, 1, 1),
    valid_until=dt.date(2040, 1, 1),
    photo=fake_photo(0),
)
HMT_PERMIT = IdCard(
    card_type="hmt_residence_permit",
    name="测试乙",
    sex="女",
    nation="",
    birth_date=dt.date(1994, 8, 23),
    address="测试省测试市样例街2号",
    id_number="810000199408230021",
    authority="测试市公安局",
    valid_from=dt.date(2021, 5, 1),
    valid_until=dt.date(2031, 5, 1),
    photo=fake_photo(1),
    pass_number="H90000001",
    issue_count=2,
)
FOREIGN_2017 = IdCard(
    card_type="foreign_permanent_residence",
    name="测试丙",
    sex="男",
    nation="TST",
    birth_date=dt.date(1979, 6, 18),
    address="",
    id_number="TST110079061801",
    authority="1500",
    valid_from=dt.date(2019, 1, 1),
    valid_until=dt.date(2029, 1, 1),
    photo=fake_photo(2),
    english_name="SAMPLE, TESTER ALPHA",
)
FOREIGN_2023 = IdCard(
    card_type="foreign_permanent_residence",
    name="测试丁",
    sex="女",
    nation="TST",
    birth_date=dt.date(1990, 3, 7),
    address="",
    id_number="911840199003070014",
    authority="",
    valid_from=dt.date(2024, 1, 1),
    valid_until=None,
    photo=fake_photo(3),
    english_name="SAMPLE, TESTER BRAVO WITH A LONG NAME",  # over 35 characters: both fields
)
EXPIRED = dataclasses.replace(
    RESIDENT,
    name="测试过期",
    id_number="440305198506152017",
    valid_from=dt.date(2006, 1, 1),
    valid_until=dt.date(2026, 5, 31),  # the day before TODAY
)
BAD_CHECK_DIGIT = dataclasses.replace(RESIDENT, name="测试错号", id_number="110101199003071234")
ALL_VALID = (RESIDENT, HMT_PERMIT, FOREIGN_2017, FOREIGN_2023)
SECRETS = ("欧阳测试", "110101199003071233", "测试乙", "810000199408230021", "测试过期",
           "440305198506152017", "测试错号", "110101199003071234")  # fmt: skip


def card_json(card: IdCard) -> dict[str, object]:
    """The simulator cards-file line for `card`."""
    out = card.as_dict(reveal=True)
    out.update(english_name=card.english_name, pass_number=card.pass_number)
    if card.issue_count is not None:
        out["issue_count"] = card.issue_count
    return out


def write_cards_file(path: Path, cards: tuple[IdCard, ...]) -> Path:
    lines = [json.dumps(card_json(card), ensure_ascii=False) for card in cards]
    path.write_text("# synthetic cards\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_sample_numbers_have_valid_check_digits() -> None:
    for card in (RESIDENT, HMT_PERMIT, FOREIGN_2023, EXPIRED):
        assert id_number_problem(card.id_number) is None, card.card_type
    assert id_number_problem(BAD_CHECK_DIGIT.id_number) is not None
    # the example printed in GB 11643-1999 itself
    assert id_check_digit("11010519491231002") == "X"


@given(
    st.text(alphabet="0123456789", min_size=17, max_size=17),
    st.integers(0, 16),
    st.integers(1, 9),
)
def test_check_digit_catches_every_single_digit_error(first17: str, pos: int, delta: int) -> None:
    number = first17 + id_check_digit(first17)
    wrong = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    assert id_check_digit(wrong[:17]) != wrong[17]
