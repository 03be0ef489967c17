"""Personal numbers inside free text (identifiers.in_text) and telephone numbers (identifiers.phones):
the platform's scrub of terminal telemetry and the kiosk's diagnostics bundle remove the same
numbers, and the kiosk takes the objection contacts the platform takes."""

from __future__ import annotations

import pytest

from identifiers import is_phone_number
from provisioning.redact import findings, redact
from report_service.hall.telemetry import scrub

# (text, the personal number in it, the kind a diagnostics bundle counts it as)
PLANTED = [
    ("card 11010519491231002X read", "11010519491231002X", "id_number"),
    ("typed 110105199921310021", "110105199921310021", "id_number"),  # mistyped: month 21
    ("old card 012345678901234", "012345678901234", "id_number"),  # 15 digits, first generation
    (
        "全角 １１０１０５１９４９１２３１００２X",
        "１１０１０５１９４９１２３１００２X",
        "id_number",
    ),
    ("holder USA620180010100", "USA620180010100", "id_number"),  # the 2017 foreigner card
    ("uscc=91350100m000100y43", "91350100m000100y43", "credit_code"),
    ("tel13812345678", "13812345678", "phone"),  # glued to a word
    ("电话１３８１２３４５６７８", "１３８１２３４５６７８", "phone"),
]


@pytest.mark.parametrize(("text", "number", "kind"), PLANTED)
def test_telemetry_and_diagnostics_remove_the_same_numbers(
    text: str, number: str, kind: str
) -> None:
    stored = scrub({"detail": text}, "detail", "t-1")["detail"]
    bundled, counts = redact(text)
    assert number not in stored and "[已删除]" in stored
    assert number not in bundled and counts == {kind: 1}
    assert kind in findings(text) and not findings(bundled)


@pytest.mark.parametrize(
    "text", ["job 12 completed", "paper 80 mm", "v2026.12.07", "uptime 86400 s", "2026-12-07T10:00"]
)
def test_machine_words_are_left_alone(text: str) -> None:
    assert scrub(text, "detail", "t-1") == text
    assert redact(text) == (text, {})


@pytest.mark.parametrize(
    "text",
    ["13912345678", "139 1234 5678", "139-1234-5678", "+86 139 1234 5678", "0086 13912345678",
     "0931-8888888", "(0931)88888888", "（0931）8888888"],
)  # fmt: skip
def test_phone_numbers_as_people_write_them(text: str) -> None:
    assert is_phone_number(text)


@pytest.mark.parametrize(
    "text",
    ["1391234", "139123456789", "23912345678", "12912345678", "１３９１２３４５６７８", "0931-888",
     "13912345678\n", "tel 13912345678", ""],
)  # fmt: skip
def test_anything_else_is_not_a_phone_number(text: str) -> None:
    assert not is_phone_number(text)
