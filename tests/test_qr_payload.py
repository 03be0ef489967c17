"""The kiosk's QR payload rules: what is accepted, and the stable reason for each rejection."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import DeviceError, InputRejected
from devices.qr.payload import DEFAULT_MAX_PAYLOAD_BYTES, validate_payload


@pytest.mark.parametrize(
    "text",
    [
        "https://xy.example.gov.cn/r/AbC123",
        "统一社会信用代码 91620100MA71",
        "line1\r\nline2\tTab",
        "é" * 1024,
    ],
)
def test_utf8_text_is_accepted_as_is(text: str) -> None:
    assert validate_payload(text.encode("utf-8")) == text


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "qr.empty"),
        (b"x" * (DEFAULT_MAX_PAYLOAD_BYTES + 1), "qr.too_large"),
        (b"caf\xe9", "qr.not_utf8"),  # Latin-1
        ("日本語".encode("shift_jis"), "qr.not_utf8"),
        (b"\xff\xfe\x00\x01", "qr.not_utf8"),
        (b"ok\x00zero", "qr.binary"),
        (b"\x01\x10AD:SUB", "qr.binary"),
        (b"bell\x07", "qr.binary"),
        (b"del\x7f", "qr.binary"),
        ("c1\u0085".encode(), "qr.binary"),
    ],
)
def test_rejections_carry_a_stable_code_and_a_reason(raw: bytes, code: str) -> None:
    with pytest.raises(InputRejected) as info:
        validate_payload(raw)
    assert info.value.code == code
    assert info.value.detail  # a reason for the technician


def test_size_limit_is_configurable_and_counts_bytes_not_characters() -> None:
    assert validate_payload(("中" * 10).encode(), max_bytes=30) == "中" * 10
    with pytest.raises(InputRejected, match="31 bytes exceeds the limit of 30") as info:
        validate_payload(("中" * 10 + "x").encode(), max_bytes=30)
    assert info.value.code == "qr.too_large"


def test_rejection_messages_do_not_repeat_the_payload() -> None:
    secret = "620102199001011234"
    with pytest.raises(InputRejected) as info:
        validate_payload((secret + "\x00").encode())
    assert secret not in str(info.value)


@settings(max_examples=400, deadline=1000)
@given(st.binary(max_size=3000))
def test_any_bytes_give_text_or_a_documented_rejection(raw: bytes) -> None:
    try:
        text = validate_payload(raw)
    except InputRejected as exc:
        assert exc.code in {"qr.empty", "qr.too_large", "qr.not_utf8", "qr.binary"}
    except DeviceError as exc:  # pragma: no cover - would be a wrong family member
        pytest.fail(f"unexpected {exc!r}")
    else:
        assert text.encode("utf-8") == raw
        assert all(c in "\t\n\r" or ord(c) >= 0x20 for c in text)


@settings(max_examples=200, deadline=1000)
@given(st.text(max_size=500))
def test_text_round_trips_unless_it_holds_control_characters(text: str) -> None:
    controls = [c for c in text if (ord(c) < 0x20 and c not in "\t\n\r") or 0x7F <= ord(c) <= 0x9F]
    raw = text.encode("utf-8", errors="surrogatepass")
    try:
        assert validate_payload(raw) == text
        assert not controls and text
    except InputRejected as exc:
        assert exc.code in {"qr.empty", "qr.binary", "qr.not_utf8"}
