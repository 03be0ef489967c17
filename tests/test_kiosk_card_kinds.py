"""Every card kind on real parts (issue 17): the card simulator speaks GA/T 467 to the real reader
driver, the real platform checks the number. The 2017 foreigner card (15 characters) and the 2023
one (18) sign in; a card the reader read but cannot accept is never told to be placed again: the
person stays where a login QR works, with the words that say so."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.demo_rig import Rig, build_rig
from kiosk.i18n import Translator
from kiosk.steps import Step
from report_service.ids import id_check_digit

from .casebook import company_and_person, uscc
from .conftest import import_jsonl
from .platform_client import ServiceProcess, cli

COMPANY = uscc("gansu", 9601)
FOREIGN_2017 = "CAN620180010100"
FOREIGN_2023 = "962124" + "19800101" + "961"  # 9, Gansu, Canada (124), birth date, sequence
FOREIGN_2023 += id_check_digit(FOREIGN_2023)
BAD_CHECK = "62010219800101961" + ("0" if id_check_digit("62010219800101961") != "0" else "1")


def card(number: str, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "card_type": "foreign_permanent_residence", "name": name, "english_name": "TEST PERSON",
        "sex": "女", "nation": "CAN", "birth_date": "1980-01-01", "address": "",
        "id_number": number, "authority": "6200", "valid_from": "2020-01-01",
        "valid_until": "2030-01-01", **extra,
    }  # fmt: skip


CARDS = [
    card(FOREIGN_2017, "玛丽"),
    card(FOREIGN_2023, "安娜"),
    {**card(BAD_CHECK, "错号"), "card_type": "resident", "nation": "汉",
     "address": "甘肃省兰州市测试路2号", "authority": "兰州市公安局"},
]  # fmt: skip


@pytest.fixture(scope="module")
def rig(platform: ServiceProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    workdir = tmp_path_factory.mktemp("cards")
    lines = company_and_person(
        "gansu", COMPANY, "证件种类测试有限公司", FOREIGN_2017, "玛丽", "agent"
    )
    other = {"type": "person", "id_number": FOREIGN_2023, "name": "安娜",
             "roles": [{"uscc": COMPANY, "role": "agent"}]}  # fmt: skip
    lines.append(json.dumps(other, ensure_ascii=False))
    import_jsonl(platform, workdir / "people.jsonl", lines)
    token = cli(
        "terminals", "add-token", "--db", platform.db, "--hall", "hall-cards", "--region", "gansu"
    )
    built = build_rig(workdir, platform.base_url, token.stdout, CARDS)
    built.kiosk.runner.start()
    try:
        yield built
    finally:
        built.close()


def present(rig: Rig, index: int) -> None:
    rig.remove_card()
    time.sleep(1.0)  # the reader must see the card gone before it reads the next one
    rig.kiosk.runner.submit(lambda j: j.reset()).result(10)
    rig.insert_card(index)


@pytest.mark.parametrize("index", [0, 1], ids=["foreigner_2017", "foreigner_2023"])
def test_a_foreigner_card_signs_in(rig: Rig, index: int) -> None:
    journey = rig.kiosk.journey
    present(rig, index)
    rig.wait_for(lambda: journey.step is Step.CHOOSE_SCOPE)
    assert journey.snapshot.enterprise is not None
    assert journey.snapshot.enterprise.uscc == COMPANY
    assert journey.snapshot.login_method == "card"


def test_a_card_read_but_not_accepted_offers_the_login_qr_and_help(rig: Rig) -> None:
    journey = rig.kiosk.journey
    present(rig, 2)  # read whole, but its check digit is wrong: the reader refuses it
    rig.wait_for(lambda: journey.snapshot.message_id == "error.card_not_accepted")
    assert journey.step is Step.ATTRACT  # where a login QR is read at once
    words = Translator()(journey.snapshot.message_id)
    assert "登录二维码" in words and "呼叫帮办" in words
    assert "重新放置" not in words
