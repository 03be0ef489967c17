"""`python -m devices.id_card decode FILE [--reveal]`: the technician's view of a captured reply."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import DeviceError
from devices.id_card.__main__ import decode_capture
from devices.id_card.text import base_info_reply

from .test_id_card_samples import BAD_CHECK_DIGIT, EXPIRED, HMT_PERMIT, RESIDENT, write_cards_file

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devices.id_card", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "reply.bin"
    path.write_bytes(base_info_reply(RESIDENT))
    return path


def test_decode_prints_masked_json(capture: Path) -> None:
    result = run("decode", str(capture), "--today", "2026-06-01")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out == {
        "card_type": "resident",
        "name": "欧阳**",
        "sex": "男",
        "nation": "汉",
        "birth_date": "1990-03-07",
        "address": RESIDENT.address,
        "id_number": "110*************33",
        "authority": RESIDENT.authority,
        "valid_from": "2020-01-01",
        "valid_until": "2040-01-01",
        "refused": None,
    }
    assert RESIDENT.name not in result.stdout + result.stderr
    assert RESIDENT.id_number not in result.stdout + result.stderr


def test_decode_reveal_shows_name_and_number(capture: Path) -> None:
    out = json.loads(run("decode", str(capture), "--reveal").stdout)
    assert (out["name"], out["id_number"]) == (RESIDENT.name, RESIDENT.id_number)


def test_hex_capture_and_long_term_card_and_refusal(tmp_path: Path) -> None:
    cards = write_cards_file(tmp_path / "cards.jsonl", (HMT_PERMIT, EXPIRED))
    hex_file = tmp_path / "permit.hex"
    assert (
        run("encode", str(cards), "--index", "0", "--hex", "--out", str(hex_file)).returncode == 0
    )
    assert hex_file.read_text().startswith("AA AA AA 96 69 05 08")
    out = json.loads(run("decode", str(hex_file)).stdout)
    assert out["card_type"] == "hmt_residence_permit"
    assert out["pass_number"] == "H90****01" and out["issue_count"] == 2
    expired = tmp_path / "expired.bin"
    assert run("encode", str(cards), "--index", "1", "--out", str(expired)).returncode == 0
    result = run("decode", str(expired), "--today", "2026-06-01")
    assert result.returncode == 1  # read, but the kiosk would refuse it
    assert json.loads(result.stdout)["refused"] == "id_card.expired"


def test_a_card_whose_number_fails_its_check_digit_is_printed_as_refused_with_status_1(
    tmp_path: Path,
) -> None:
    capture = tmp_path / "bad.bin"
    capture.write_bytes(base_info_reply(BAD_CHECK_DIGIT))
    result = run("decode", str(capture), "--today", "2026-06-01")
    assert result.returncode == 1, result.stderr
    out = json.loads(result.stdout)
    assert out["refused"] == "id_card.bad_id_number"
    assert out["card_type"] == "resident" and out["name"] == "测***"
    assert BAD_CHECK_DIGIT.id_number not in result.stdout


def test_usage_errors_exit_2(capture: Path) -> None:
    assert run("decode", str(capture), "--today", "yesterday").returncode == 2
    assert run("decode").returncode == 2
    assert run("frobnicate", str(capture)).returncode == 2


@pytest.mark.parametrize(
    ("mangle", "words"),
    [
        (lambda b: b[:-1] + bytes([b[-1] ^ 0x01]), "bad checksum"),
        (lambda b: b[:700], "truncated"),
        (lambda b: b"hello, world", "neither a binary frame"),
        (lambda b: b[:7] + b"\x00\x00\x41" + b[10:], "bad checksum"),
    ],
)
def test_bad_frame_gives_one_line_and_non_zero_exit(capture: Path, mangle, words: str) -> None:  # type: ignore[no-untyped-def]
    capture.write_bytes(mangle(capture.read_bytes()))
    result = run("decode", str(capture))
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and words in result.stderr
    assert RESIDENT.name not in result.stderr


def test_reply_without_card_data_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "failed.hex"
    path.write_text("AA AA AA 96 69 00 04 00 00 41 45\n")
    result = run("decode", str(path))
    assert result.returncode == 1 and "SW3=0x41" in result.stderr


@settings(max_examples=200)
@given(st.binary(max_size=1500) | st.text(alphabet="0123456789abcdefABCDEF x,:\n").map(str.encode))
def test_decode_capture_raises_only_the_error_family(raw: bytes) -> None:
    with contextlib.suppress(DeviceError):
        decode_capture(raw)
