"""What an objection's `contact` may be (DESIGN §3 names the field, not its form): the ways a
person writes a number or an address they can be reached at, and nothing else."""

from __future__ import annotations

import pytest

from report_service.objections import is_contact


@pytest.mark.parametrize(
    "text",
    ["13912345678", "+86 139 1234 5678", "8613912345678", "139-1234-5678", "0931-8888888",
     "(0931)88888888", "（0931）8888888", "zhang.san@example.com.cn", "li@gs.gov.cn"],
)  # fmt: skip
def test_phones_and_addresses_people_write_are_taken(text: str) -> None:
    assert is_contact(text)


@pytest.mark.parametrize(
    "text",
    ["12345", "139123456789", "23912345678", "x@y", "a@@b.cn", "a b@c.cn", "13912345678\x00",
     "请打电话", "@example.com", "a@b.cn" + "x" * 260],
)  # fmt: skip
def test_anything_else_is_refused(text: str) -> None:
    assert not is_contact(text)
