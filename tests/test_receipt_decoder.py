"""The ESC/POS decoder: what it reads from hand-written streams, and property tests on random and
mutated input (only ProtocolError `receipt.bad_stream` may escape, and nothing may hang)."""

from __future__ import annotations

import itertools
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.errors import ProtocolError
from devices.receipt.decoded import DecodedStream, Feed, QrCode
from devices.receipt.decoder import CutDone, StatusRequest, StreamDecoder, decode
from devices.receipt.layout import LayoutOptions, build_receipt
from devices.receipt.model import Receipt
from identifiers import contains_id_number

FUZZ = settings(
    max_examples=300,
    deadline=timedelta(milliseconds=500),
    suppress_health_check=[HealthCheck.too_slow],
)


@contextmanager
def no_hang(seconds: float = 5.0) -> Iterator[None]:
    """Interrupts a stuck decoder loop (a deadline alone only reports after it returns)."""

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError("decoder did not finish")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def decode_or_bad_stream(data: bytes) -> DecodedStream | None:
    try:
        with no_hang():
            return decode(data)
    except ProtocolError as exc:
        assert exc.code == "receipt.bad_stream"
        return None


def test_text_alignment_styles_and_cut() -> None:
    stream = decode(
        b"\x1b@\x1ba\x01\x1d!\x11\x1bE\x01TITLE\n"
        b"\x1d!\x00\x1bE\x00\x1ba\x02right\n"
        b"\x1b!\x08bold by ESC !\n\x1b!\x00\x1ba\x00\x1c&\xd6\xd0\xce\xc4\n\x1c.\x1bd\x03\x1dV\x01"
    )
    (receipt,) = stream.receipts
    title, right, bold, chinese = receipt.lines
    assert (title.text, title.align, title.bold, title.width, title.height) == (
        "TITLE",
        "center",
        True,
        2,
        2,
    )
    assert (right.text, right.align, right.bold) == ("right", "right", False)
    assert bold.bold and bold.text == "bold by ESC !"
    assert chinese.text == "中文"
    assert receipt.elements[-1] == Feed(lines=3) and receipt.cut == "partial"
    assert stream.tail is None and stream.unknown == ()


def test_same_bytes_without_fs_ampersand_are_not_chinese() -> None:
    assert decode(b"\xd6\xd0\n").tail.texts == ["╓╨"]  # type: ignore[union-attr]  # CP437 boxes
    assert decode(b"\xd6\xd0\n", chinese_default=True).tail.texts == ["中"]  # type: ignore[union-attr]
    assert decode(b"\x1b@\x1bt\x10\xe9\n").tail.texts == ["é"]  # type: ignore[union-attr]  # ESC t 16


def test_align_applies_only_at_line_start() -> None:
    line = decode(b"ab\x1ba\x01cd\n").tail.lines[0]  # type: ignore[union-attr]
    assert (line.text, line.align) == ("abcd", "left")


def test_qr_store_and_print_with_settings() -> None:
    data = (
        b"\x1ba\x01\x1d(k\x04\x001A2\x00\x1d(k\x03\x001C\x07\x1d(k\x03\x001E3"
        b"\x1d(k\x08\x001P0hello\x1d(k\x03\x001Q0\x1dV\x00"
    )
    (qr,) = decode(data).receipts[0].qr_codes
    assert qr == QrCode(b"hello", "center", 7, "H", 2)


def test_unknown_commands_are_listed_and_skipped() -> None:
    stream = decode(b"A\x1bZ\x1d\x99B\x1dk\x02123\x00\x1b*\x00\x02\x00\xff\xffC\n")
    assert stream.tail.texts == ["ABC"]  # type: ignore[union-attr]
    assert [u.data[:2] for u in stream.unknown] == [b"\x1bZ", b"\x1d\x99", b"\x1dk", b"\x1b*"]
    assert stream.unknown[0].offset == 1


def test_esc_at_discards_the_unprinted_buffer() -> None:
    assert decode(b"lost\x1b@kept\n").tail.texts == ["kept"]  # type: ignore[union-attr]


def test_status_queries_are_reported_in_order() -> None:
    decoder = StreamDecoder()
    events = decoder.feed(b"\x10\x04\x01x\x10\x04")
    assert events == [StatusRequest(1)] and decoder.pending == 2
    assert decoder.feed(b"\x04") == [StatusRequest(4)]
    assert decoder.finish().status_queries == (1, 4)


@pytest.mark.parametrize(
    "data",
    [
        b"\x1b",  # ESC alone
        b"\x1ba",  # ESC a without n
        b"\x1d(k\x10\x001P0abc",  # GS ( k promising 16 bytes, 5 sent
        b"\x1c&\xd6",  # half a GB18030 character
        b"\x1dv0\x00\x02\x00\x02\x00\xff",  # raster image cut short
    ],
)
def test_truncated_streams_raise_bad_stream(data: bytes) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode(data)
    assert caught.value.code == "receipt.bad_stream"


def test_implausible_length_is_rejected_without_waiting() -> None:
    decoder = StreamDecoder()
    with pytest.raises(ProtocolError) as caught:
        decoder.feed(b"\x1d8L\xff\xff\xff\x7f0p")  # GS 8 L declaring 2 GB
    assert caught.value.code == "receipt.bad_stream"


def test_invalid_gb18030_becomes_replacement_character() -> None:
    assert decode(b"\x1c&\x80A\xff\n").tail.texts == ["\ufffdA\ufffd"]  # type: ignore[union-attr]


# ---- property-based -------------------------------------------------------------------------

receipts = st.builds(
    Receipt,
    title=st.text(min_size=1, max_size=20).filter(str.strip),
    fields=st.lists(st.tuples(st.text(max_size=8), st.text(max_size=40)), max_size=4).map(tuple),
    qr_payload=st.one_of(st.none(), st.text(min_size=1, max_size=60)),
    qr_caption=st.text(max_size=20),
    notes=st.lists(st.text(max_size=40), max_size=2).map(tuple),
)
layouts = st.builds(
    LayoutOptions,
    paper_mm=st.sampled_from([58, 80]),
    cut=st.sampled_from(["full", "partial", "none"]),
    qr_mode=st.sampled_from(["native", "raster"]),
)


def valid_stream(receipt: Receipt, options: LayoutOptions) -> bytes:
    return build_receipt(receipt, options)


@st.composite
def receipt_streams(draw: st.DrawFn) -> bytes:
    try:
        receipt = draw(receipts)
    except Exception:  # Receipt refused the drawn text (an ID number): draw another
        from hypothesis import reject

        reject()
    return valid_stream(receipt, draw(layouts))


@st.composite
def mutated_streams(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(receipt_streams()))
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "command"]))
        at = draw(st.integers(0, len(data)))
        if kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        elif kind == "truncate":
            del data[at:]
        else:  # a command prefix with random parameters, including huge lengths
            prefix = draw(
                st.sampled_from([b"\x1b", b"\x1d", b"\x1c", b"\x10", b"\x1d(k", b"\x1dv0"])
            )
            data[at:at] = prefix + draw(st.binary(max_size=6))
    return bytes(data)


@FUZZ
@given(data=st.binary(max_size=2048))
def test_random_bytes_raise_only_bad_stream(data: bytes) -> None:
    decode_or_bad_stream(data)


@FUZZ
@given(
    data=st.lists(
        st.sampled_from([b"\x1b", b"\x1d", b"\x1c", b"\x10", b"\n"]) | st.binary(max_size=4),
        max_size=200,
    ).map(b"".join)
)
def test_command_heavy_bytes_raise_only_bad_stream(data: bytes) -> None:
    decode_or_bad_stream(data)


@FUZZ
@given(data=st.binary(max_size=1024) | mutated_streams())
def test_simulator_style_recovery_always_terminates(data: bytes) -> None:
    """The simulator skips a bad command and goes on; that loop must end on any input."""
    decoder = StreamDecoder()
    chunk, errors = data, 0
    with no_hang():
        while True:
            try:
                decoder.feed(chunk)
                break
            except ProtocolError as exc:
                assert exc.code == "receipt.bad_stream"
                errors += 1
                decoder.skip_bad_command()
                chunk = b""
    assert errors <= len(data) // 2 and decoder.pending <= len(data)


@FUZZ
@given(data=mutated_streams())
def test_mutated_receipts_raise_only_bad_stream(data: bytes) -> None:
    decode_or_bad_stream(data)


@settings(max_examples=150, deadline=timedelta(milliseconds=500))
@given(receipt=receipts, options=layouts)
def test_generated_receipts_decode_to_one_receipt(receipt: Receipt, options: LayoutOptions) -> None:
    if any(contains_id_number(t) for f in receipt.fields for t in f):
        return
    stream = decode(valid_stream(receipt, options))
    printed = (stream.tail,) if options.cut == "none" else stream.receipts
    assert len(printed) == 1 and printed[0] is not None and stream.unknown == ()
    if receipt.qr_payload is not None and options.qr_mode == "native":
        assert printed[0].qr_payloads == [receipt.qr_payload.encode("utf-8").decode("utf-8")]


@settings(max_examples=200, deadline=timedelta(milliseconds=500))
@given(
    data=st.one_of(receipt_streams(), mutated_streams(), st.binary(max_size=512)),
    cuts=st.lists(st.integers(0, 4096), max_size=8),
)
def test_feeding_in_pieces_equals_decoding_at_once(data: bytes, cuts: list[int]) -> None:
    """The simulator feeds TCP reads as they come; any split must give the same result."""
    whole = decode_or_bad_stream(data)
    decoder = StreamDecoder()
    events: list[object] = []
    bounds = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    try:
        with no_hang():
            for start, end in itertools.pairwise(bounds):
                events += decoder.feed(data[start:end])
            pieces = decoder.finish()
    except ProtocolError as exc:
        assert exc.code == "receipt.bad_stream"
        assert whole is None
        return
    assert pieces == whole
    assert [e.receipt for e in events if isinstance(e, CutDone)] == list(pieces.receipts)
