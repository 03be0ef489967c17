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
    ("old card 110105491231002", "110105491231002", "id_number"),  # first generation, 15 digits
    (
        "全角 １１０１０５１９４９１２３１００２Ｘ",
        "１１０１０５１９４９１２３１００２Ｘ",
        "id_number",
    ),
    ("第１11010519491231002X号", "11010519491231002X", "id_number"),  # beside a full-width digit
    ("holder USA620180010100", "USA620180010100", "id_number"),  # the 2017 foreigner card
    ("uscc=91350100m000100y43", "91350100m000100y43", "credit_code"),
    ("tel:13812345678", "13812345678", "phone"),
    ("call 138-1234-5678", "138-1234-5678", "phone"),
    ("call +86 138 1234 5678", "138 1234 5678", "phone"),
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
    "text",
    ["job 12 completed", "paper 80 mm", "v2026.12.07", "uptime 86400 s", "2026-12-07T10:00",
     "C1A13812345678FF", "R20261206USA620180010100", "sha 3f13812345678abc"],
)  # fmt: skip
def test_machine_words_are_left_alone(text: str) -> None:
    """A command's id in hex reaches the platform as sent: scrubbed, its result would match no
    command, and the platform refuses a heartbeat with an unknown command's result."""
    assert scrub(text, "detail", "t-1") == text
    assert redact(text) == (text, {})


@pytest.mark.parametrize(
    "text",
    ["13912345678", "139 1234 5678", "139-1234-5678", "+86 139 1234 5678", "0086 13912345678",
     "0931-8888888", "(0931)88888888", "（0931）8888888", "139\u00a01234\u00a05678",
     "１３９１２３４５６７８"],
)  # fmt: skip
def test_phone_numbers_as_people_write_them(text: str) -> None:
    assert is_phone_number(text)


@pytest.mark.parametrize(
    "text",
    ["1391234", "139123456789", "23912345678", "12912345678", "0931-888", "tel 13912345678",
     "139123x5678", ""],
)  # fmt: skip
def test_anything_else_is_not_a_phone_number(text: str) -> None:
    assert not is_phone_number(text)
