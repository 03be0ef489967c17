"""What the decoder finds in an ESC/POS stream: printed lines, QR codes, images, feeds and cuts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Align = Literal["left", "center", "right"]


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text printed in one style."""

    text: str
    bold: bool = False
    underline: bool = False
    width: int = 1  # character size multipliers, GS ! / ESC !
    height: int = 1


@dataclass(frozen=True, slots=True)
class Line:
    """One printed line (ended by LF, ESC d, a QR, or a cut); an empty line is a blank feed."""

    spans: tuple[Span, ...]
    align: Align = "left"

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)

    @property
    def bold(self) -> bool:
        return any(span.bold for span in self.spans if span.text.strip())

    @property
    def width(self) -> int:
        return max((span.width for span in self.spans), default=1)

    @property
    def height(self) -> int:
        return max((span.height for span in self.spans), default=1)


@dataclass(frozen=True, slots=True)
class QrCode:
    """A native QR symbol (GS ( k fn 80 store + fn 81 print)."""

    data: bytes
    align: Align = "left"
    module: int = 3
    ec: str = "L"
    model: int = 2

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class Raster:
    """A GS v 0 raster image; `bits` are rows of `width_bytes` bytes, MSB left, 1 = black."""

    width_bytes: int
    height: int
    bits: bytes
    align: Align = "left"


@dataclass(frozen=True, slots=True)
class Feed:
    """Paper fed without printing: ESC d n (lines) or ESC J n (dots)."""

    lines: int = 0
    dots: int = 0


Element = Line | QrCode | Raster | Feed


@dataclass(frozen=True, slots=True)
class Unknown:
    """A command the decoder does not model; `offset` is from the start of the stream."""

    offset: int
    data: bytes  # at most the first 16 bytes
    note: str = ""


@dataclass(frozen=True, slots=True)
class DecodedReceipt:
    """Everything printed up to one cut (or up to the end of the stream for the tail)."""

    elements: tuple[Element, ...]
    cut: Literal["full", "partial"] | None = None
    unknown: tuple[Unknown, ...] = ()

    @property
    def lines(self) -> tuple[Line, ...]:
        return tuple(e for e in self.elements if isinstance(e, Line))

    @property
    def texts(self) -> list[str]:
        """The non-blank printed lines, stripped: what a person reads off the paper."""
        return [line.text.strip() for line in self.lines if line.text.strip()]

    @property
    def qr_codes(self) -> tuple[QrCode, ...]:
        return tuple(e for e in self.elements if isinstance(e, QrCode))

    @property
    def qr_payloads(self) -> list[str]:
        return [qr.text for qr in self.qr_codes]

    @property
    def images(self) -> tuple[Raster, ...]:
        return tuple(e for e in self.elements if isinstance(e, Raster))


@dataclass(frozen=True, slots=True)
class DecodedStream:
    receipts: tuple[DecodedReceipt, ...]  # each ended by a cut
    tail: DecodedReceipt | None  # printed after the last cut, not cut yet
    status_queries: tuple[int, ...]  # n of every DLE EOT n, in order
    unknown: tuple[Unknown, ...]
