"""Technician tools: `python -m devices.id_card decode FILE [--reveal]` and `... encode`.

decode: FILE is a captured read-base-info reply (raw bytes, or hex text); prints the card as JSON
with name and numbers masked unless --reveal, plus `refused`: the code the kiosk would refuse the
card with (id_card.expired, id_card.bad_id_number) or null. A bad frame: one line on stderr.
encode: builds such a reply from a card in a simulator cards file (for test vectors).

Exit status: 0 the card was read and the kiosk would accept it; 1 the card was read but would be
refused (the JSON is still printed), or the file is unreadable or not a card reply; 2 usage.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import DeviceError, ProtocolError
from .cards_file import load_cards
from .checks import refusal_code
from .commands import SW3_OK, describe_sw3
from .frame import PREAMBLE, decode_reply
from .text import base_info_reply, decode_base_info

_HEX_NOISE = re.compile(r"0[xX]|[\s,:;-]")


def capture_bytes(raw: bytes) -> bytes:
    """The frame bytes of a capture file: raw binary as is, hex text ("AA AA AA 96 69 ...") parsed."""
    if raw.startswith(PREAMBLE[:1]) or not raw.isascii():
        return raw
    digits = _HEX_NOISE.sub("", raw.decode("ascii"))
    try:
        return bytes.fromhex(digits)
    except ValueError:
        raise ProtocolError(
            "neither a binary frame (AA AA AA 96 69 ...) nor hex text", code="id_card.not_a_frame"
        ) from None


def decode_capture(
    raw: bytes, *, reveal: bool = False, today: dt.date | None = None
) -> dict[str, object]:
    """The CLI's JSON for a capture; raises the device error family only."""
    reply = decode_reply(capture_bytes(raw))
    if reply.sw3 != SW3_OK:
        raise ProtocolError(
            f"the reply carries no card data: {describe_sw3(reply.sw3)}",
            code="id_card.no_card_data",
        )
    card = decode_base_info(reply.data)
    out = card.as_dict(reveal=reveal)
    out["refused"] = refusal_code(card, today or dt.date.today())
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _decode(args: argparse.Namespace) -> int:
    try:
        raw = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        today = dt.date.fromisoformat(args.today) if args.today else None
        result = decode_capture(raw, reveal=args.reveal, today=today)
    except DeviceError as exc:
        print(_one_line(f"bad frame: {exc}"), file=sys.stderr)
        return 1
    except ValueError:
        print("--today must be a date YYYY-MM-DD", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 1 if result["refused"] else 0


def _encode(args: argparse.Namespace) -> int:
    try:
        cards = load_cards(args.cards_file)
        frame = base_info_reply(cards[args.index])
    except DeviceError as exc:
        print(_one_line(str(exc)), file=sys.stderr)
        return 1
    except IndexError:
        print(f"no card {args.index} in {args.cards_file}", file=sys.stderr)
        return 1
    data = (frame.hex(" ").upper() + "\n").encode("ascii") if args.hex else frame
    Path(args.out).write_bytes(data)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devices.id_card",
        description="GA/T 467 ID card reader: decode captured reply frames, write test captures.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    dec = sub.add_parser("decode", help="decode a captured read-base-info reply frame")
    dec.add_argument("file", help="raw reply bytes, or the same as hex text")
    dec.add_argument("--reveal", action="store_true", help="show name and numbers unmasked")
    dec.add_argument("--today", help="judge expiry as of this date (YYYY-MM-DD)")
    dec.set_defaults(run=_decode)
    enc = sub.add_parser("encode", help="write the reply frame for a card of a cards file")
    enc.add_argument("cards_file", help="JSON Lines cards file (the simulator's format)")
    enc.add_argument("--index", type=int, default=0, help="which card (default 0)")
    enc.add_argument("--out", required=True, help="file to write")
    enc.add_argument("--hex", action="store_true", help="write hex text instead of raw bytes")
    enc.set_defaults(run=_encode)
    args = parser.parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
