"""The GA/T 467 frame codec: known bytes, resync, and property tests on random and mutated input.

Property tests: whatever bytes arrive, the decoders raise nothing but the device error family, and
the streaming decoder always makes progress (it cannot loop forever on any input).
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.errors import DeviceError, ProtocolError
from devices.id_card.card import IdCard
from devices.id_card.commands import Command
from devices.id_card.frame import (
    MAX_LEN,
    PREAMBLE,
    FrameDecoder,
    FrameError,
    decode_frame,
    decode_reply,
    encode_reply,
)
from devices.id_card.text import base_info_reply, decode_base_info

from .test_id_card_samples import FOREIGN_2017, RESIDENT

FAST = settings(
    max_examples=300, deadline=dt.timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow]
)
READ_REPLY = base_info_reply(RESIDENT)


def drain(decoder: FrameDecoder, budget: int) -> tuple[list[bytes], list[str]]:
    """All payloads and error codes the decoder yields; fails if it does not finish in `budget` calls."""
    payloads: list[bytes] = []
    errors: list[str] = []
    for _ in range(budget):
        try:
            payload = decoder.next_payload()
        except FrameError as exc:
            errors.append(exc.code)
            continue
        if payload is None:
            return payloads, errors
        payloads.append(payload)
    pytest.fail(f"decoder made no progress within {budget} calls")


# --- known bytes ---


@pytest.mark.parametrize(
    ("command", "wire"),
    [
        (Command.SAM_STATUS, "AA AA AA 96 69 00 03 11 FF ED"),
        (Command.FIND_CARD, "AA AA AA 96 69 00 03 20 01 22"),
        (Command.SELECT_CARD, "AA AA AA 96 69 00 03 20 02 21"),
        (Command.READ_BASE_INFO, "AA AA AA 96 69 00 03 30 01 32"),
    ],
)
def test_commands_are_the_published_bytes(command: Command, wire: str) -> None:
    assert command.frame == bytes.fromhex(wire)


def test_reply_round_trip_and_lengths() -> None:
    assert encode_reply(0x9F, bytes(4)) == bytes.fromhex("AAAAAA9669 0008 00009F 00000000 97")
    reply = decode_reply(READ_REPLY)
    assert (reply.sw1, reply.sw2, reply.sw3) == (0, 0, 0x90)
    assert int.from_bytes(READ_REPLY[5:7], "big") == 3 + 4 + 256 + 1024 + 1  # LEN
    assert len(READ_REPLY) == 5 + 2 + 1288
    assert decode_base_info(reply.data) == RESIDENT
    assert "data=<1284 bytes>" in repr(reply)  # never the card text


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "id_card.truncated"),
        (PREAMBLE[:3], "id_card.truncated"),
        (READ_REPLY[:-1], "id_card.truncated"),
        (READ_REPLY + b"\x00", "id_card.trailing_bytes"),
        (b"\x00" + READ_REPLY, "id_card.no_preamble"),
        (READ_REPLY[:-1] + bytes([READ_REPLY[-1] ^ 1]), "id_card.bad_checksum"),
        (PREAMBLE + b"\x00\x02\x00\x02", "id_card.bad_length"),
        (PREAMBLE + (MAX_LEN + 1).to_bytes(2, "big"), "id_card.bad_length"),
        (encode_reply(0x90)[:7] + b"\x00\x00\x90\x95", "id_card.bad_checksum"),
    ],
)
def test_bad_frames_name_their_fault(data: bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_frame(data)
    assert caught.value.code == code


def test_decoder_resyncs_on_the_preamble_after_noise_and_a_corrupt_frame() -> None:
    good = encode_reply(0x9F, bytes(4))
    corrupt = good[:-1] + bytes([good[-1] ^ 0xFF])
    decoder = FrameDecoder()
    decoder.feed(b"\x13\xaa\xaa\x00" + corrupt + b"\xaa\xaa" + good + READ_REPLY)
    payloads, errors = drain(decoder, 100)
    assert errors == ["id_card.bad_checksum"]
    assert [p[2] for p in payloads] == [0x9F, 0x90]
    assert decoder.skipped > 0
    assert not decoder.pending


def test_pending_means_a_frame_has_started() -> None:
    decoder = FrameDecoder()
    decoder.feed(READ_REPLY[:600])
    assert decoder.next_payload() is None
    assert decoder.pending
    decoder.feed(READ_REPLY[600:])
    assert decoder.next_payload() is not None


# --- properties ---


@FAST
@given(st.binary(max_size=3000))
def test_random_bytes_raise_only_the_error_family(data: bytes) -> None:
    try:
        reply = decode_reply(data)
        decode_base_info(reply.data)
    except DeviceError:
        pass
    decoder = FrameDecoder()
    decoder.feed(data)
    drain(decoder, len(data) + 2)


noise = st.lists(st.integers(0, 0xA9), max_size=400).map(bytes)  # no 0xAA: cannot forge a preamble


@FAST
@given(noise, noise, st.lists(st.integers(1, 700), max_size=10))
def test_stream_in_any_chunks_yields_the_frames_between_noise(
    before: bytes, after: bytes, cuts: list[int]
) -> None:
    stream = before + READ_REPLY + after + encode_reply(0x80)
    decoder = FrameDecoder()
    payloads: list[bytes] = []
    pos = 0
    for size in [*cuts, len(stream)]:
        decoder.feed(stream[pos : pos + size])
        pos += size
        payloads += drain(decoder, len(stream) + 2)[0]
    assert payloads == [decode_frame(READ_REPLY), b"\x00\x00\x80"]
    assert decoder.skipped == len(before) + len(after)


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1300), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 1300), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 1300), st.integers(0, 255)),
    st.tuples(st.just("delete"), st.integers(0, 1300), st.just(0)),
)


def mutate(frame: bytes, steps: list[tuple[str, int, int]]) -> bytes:
    data = bytearray(frame)
    for kind, pos, value in steps:
        pos %= len(data) + 1
        if kind == "flip" and pos < len(data):
            data[pos] ^= value
        elif kind == "cut":
            del data[pos:]
        elif kind == "insert":
            data.insert(pos, value)
        elif kind == "delete" and pos < len(data):
            del data[pos]
        if not data:
            break
    return bytes(data)


@FAST
@given(st.sampled_from([RESIDENT, FOREIGN_2017]), st.lists(mutation, min_size=1, max_size=6))
def test_mutated_read_replies_decode_or_raise_only_the_error_family(
    card: IdCard, steps: list[tuple[str, int, int]]
) -> None:
    frame = base_info_reply(card)
    data = mutate(frame, steps)
    try:
        decoded = decode_base_info(decode_reply(data).data)
    except DeviceError:
        return
    if data == frame:
        assert decoded == card
    decoder = FrameDecoder()
    decoder.feed(data)
    drain(decoder, len(data) + 2)


@FAST
@given(st.binary(max_size=64), st.integers(5, 200), st.integers(1, 255))
def test_any_single_corrupted_byte_is_caught(data: bytes, pos: int, flip: int) -> None:
    frame = bytearray(encode_reply(0x90, data))
    frame[pos % len(frame)] ^= flip  # XOR over LEN and payload catches every single-byte error
    with pytest.raises(ProtocolError):
        decode_frame(bytes(frame))
