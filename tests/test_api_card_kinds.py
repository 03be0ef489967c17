"""Every card the kiosk's reader decodes signs in on the real platform (issue 17): the resident
card, the HK/Macao/Taiwan residence permit and the 2023 foreigner permanent residence card (18
characters, GB 11643), and the 2017 foreigner card (15 characters, its own check)."""

from __future__ import annotations

import json

import pytest

from report_service.ids import id_check_digit

from .casebook import uscc
from .conftest import import_jsonl


def gb11643(first17: str) -> str:
    return first17 + id_check_digit(first17)


CARDS = {
    "resident": (gb11643("62010219800101" + "951"), "钱七"),
    "hmt_residence_permit": (gb11643("81000019800101" + "952"), "陈大文"),  # Hong Kong resident
    # 2023 kind: 9, the province (62), the country (840), birth date, sequence, check digit
    "foreign_2023": (gb11643("96284019800101" + "953"), "史密斯"),
    # 2017 kind: the country's three letters and twelve digits
    "foreign_2017": ("USA620180010100", "约翰"),
}


@pytest.fixture(scope="module")
def holders(platform, tmp_path_factory):  # type: ignore[no-untyped-def]
    company = uscc("gansu", 9501)
    lines = [
        {"type": "entity", "uscc": company, "name": "兰州证件测试有限公司", "kind": "company",
         "region": "gansu"},
    ] + [
        {"type": "person", "id_number": number, "name": name,
         "roles": [{"uscc": company, "role": "agent"}]}
        for number, name in CARDS.values()
    ]  # fmt: skip
    path = tmp_path_factory.mktemp("cards") / "cards.jsonl"
    import_jsonl(platform, path, [json.dumps(x, ensure_ascii=False) for x in lines])
    return company


@pytest.mark.parametrize("kind", sorted(CARDS))
def test_every_card_kind_signs_in(gansu_terminal, holders, kind) -> None:  # type: ignore[no-untyped-def]
    number, name = CARDS[kind]
    session = gansu_terminal.login_card(number, name)
    assert [e["uscc"] for e in session["enterprises"]] == [holders]
    assert number not in json.dumps(session)


@pytest.mark.parametrize(
    "number",
    [
        "US6620180010100",  # a digit where the country's letters go
        "USA62018001010",  # 14 characters
        "USA6201800101OO",  # letters among the digits
    ],
)
def test_a_malformed_2017_number_is_refused_as_such(gansu_terminal, holders, number) -> None:  # type: ignore[no-untyped-def]
    r = gansu_terminal.request(
        "POST", "/v1/sessions/id-card", {"id_number": number, "name": "约翰", "valid_until": None}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_id_number"
