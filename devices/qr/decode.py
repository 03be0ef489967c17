"""The kiosk's QR decoding method: a cascade of views of one frame that stops at the first success.

zxing-cpp reads the frame as it is (its own inverted pass covers dark-mode phone screens). Only when that
finds nothing do the fallbacks run, each aimed at one way camera photos go wrong; zbar, a decoder with a
different finder, gives the second opinion last. A frame that decodes at once costs one zxing-cpp call,
so the median stays near zxing-cpp's own; an empty frame pays for the whole cascade (see the docs).
"""

from __future__ import annotations

from collections.abc import Callable
from ctypes import string_at
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

from ..errors import DriverMissing, ProtocolError

try:
    import pyzbar.wrapper as _zb
except ImportError as exc:  # pyzbar raises ImportError when libzbar0 is absent
    raise DriverMissing(f"the QR scanner's second decoder is missing: {exc}") from exc

Gray = npt.NDArray[np.uint8]

_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
_ZBAR_GRAY = 0x59455247  # fourcc "GREY"
_ZBAR_CFG_BINARY = 4  # zbar >= 0.23: hand back the payload bytes instead of guessing a charset
_MIN_SIDE = 21  # a version-1 code is 21 modules wide: nothing smaller can hold one
_UPSCALE_MAX_SIDE = 1024  # above this, doubling costs more than a frame period
_HALFSIZE_MIN_SIDE = 160  # below this, halving leaves modules under 2 px
_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))


@dataclass(frozen=True, slots=True)
class Decoded:
    """One decoded code. `raw` is the payload bytes, `text` the decoder's reading of them."""

    raw: bytes
    text: str
    decoder: str  # "zxing-cpp" or "zbar"
    stage: str  # the cascade stage that found it

    def __repr__(self) -> str:  # payloads may carry personal data: never show them
        return f"Decoded({len(self.raw)} bytes, decoder={self.decoder!r}, stage={self.stage!r})"


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    reason: str  # the photo defect this view is for
    run: Callable[[Gray], list[Decoded]]


def _zxing(
    image: Gray, stage: str, binarizer: Any = zxingcpp.Binarizer.LocalAverage
) -> list[Decoded]:
    found = zxingcpp.read_barcodes(
        image,
        formats=_QR,
        try_rotate=True,
        try_downscale=True,
        try_invert=True,
        binarizer=binarizer,
        text_mode=zxingcpp.TextMode.Plain,  # the payload as written, no <SOH>-style escapes
    )
    return [Decoded(bytes(b.bytes), b.text, "zxing-cpp", stage) for b in found if b.valid]


def _zbar_scan(image: Gray) -> list[bytes]:
    """zbar on a grayscale image, QR only, binary mode (pyzbar's decode() would transcode)."""
    height, width = image.shape
    data = np.ascontiguousarray(image).tobytes()
    scanner = _zb.zbar_image_scanner_create()
    try:
        _zb.zbar_image_scanner_set_config(
            scanner, _zb.ZBarSymbol.NONE, _zb.ZBarConfig.CFG_ENABLE, 0
        )
        _zb.zbar_image_scanner_set_config(
            scanner, _zb.ZBarSymbol.QRCODE, _zb.ZBarConfig.CFG_ENABLE, 1
        )
        _zb.zbar_image_scanner_set_config(scanner, _zb.ZBarSymbol.QRCODE, _ZBAR_CFG_BINARY, 1)
        zimage = _zb.zbar_image_create()
        try:
            _zb.zbar_image_set_format(zimage, _ZBAR_GRAY)
            _zb.zbar_image_set_size(zimage, width, height)
            _zb.zbar_image_set_data(zimage, data, len(data), None)
            if _zb.zbar_scan_image(scanner, zimage) <= 0:
                return []
            payloads = []
            symbol = _zb.zbar_image_first_symbol(zimage)
            while symbol:
                length = _zb.zbar_symbol_get_data_length(symbol)
                payloads.append(string_at(_zb.zbar_symbol_get_data(symbol), length))
                symbol = _zb.zbar_symbol_next(symbol)
            return payloads
        finally:
            _zb.zbar_image_destroy(zimage)
    finally:
        _zb.zbar_image_scanner_destroy(scanner)


def _zbar(image: Gray, stage: str) -> list[Decoded]:
    return [
        Decoded(raw, raw.decode("utf-8", errors="replace"), "zbar", stage)
        for raw in _zbar_scan(image)
    ]


def _halfsize(gray: Gray) -> list[Decoded]:
    if min(gray.shape) < _HALFSIZE_MIN_SIDE:
        return []
    small = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    return _zxing(np.ascontiguousarray(small), "halfsize")


def _upscale(gray: Gray) -> list[Decoded]:
    if max(gray.shape) > _UPSCALE_MAX_SIDE:
        return []
    big = cv2.resize(gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
    return _zxing(np.ascontiguousarray(big), "upscale")


def _u8(image: Any) -> Gray:
    """cv2 results typed as the uint8 arrays they are (no copy)."""
    return np.asarray(image, dtype=np.uint8)


def _smoothed(gray: Gray) -> Gray:
    return _u8(cv2.GaussianBlur(gray, (3, 3), 0))


STAGES: tuple[Stage, ...] = (
    Stage(
        "zxing",
        "the frame as captured; zxing-cpp also tries it inverted",
        lambda g: _zxing(g, "zxing"),
    ),
    Stage(
        "halfsize",
        "sensor noise, JPEG blocks, paper texture: 2x2 area averaging smooths them, large modules survive",
        _halfsize,
    ),
    Stage(
        "global-threshold",
        "textured or half-toned modules, where a local-average threshold follows the texture",
        lambda g: _zxing(g, "global-threshold", zxingcpp.Binarizer.GlobalHistogram),
    ),
    Stage(
        "smooth",
        "noise and screen moire at near-pixel pitch: a 3x3 Gaussian keeps module edges",
        lambda g: _zxing(_smoothed(g), "smooth"),
    ),
    Stage(
        "clahe",
        "low contrast and uneven light (shadow, glare fringe): local histogram equalisation",
        lambda g: _zxing(_u8(_CLAHE.apply(g)), "clahe"),
    ),
    Stage(
        "upscale",
        "small modules (under ~3 px): cubic 2x upscaling gives the finder enough pixels",
        _upscale,
    ),
    Stage(
        "zbar",
        "second opinion: zbar's scan-line finder, on a lightly smoothed frame",
        lambda g: _zbar(_smoothed(g), "zbar"),
    ),
    Stage(
        "zbar-inverted",
        "dark-mode phone screens for zbar, which has no inverted pass of its own",
        lambda g: _zbar(_u8(cv2.bitwise_not(_smoothed(g))), "zbar-inverted"),
    ),
)
FAST_STAGES = STAGES[:1]


def to_gray(image: Any) -> Gray:
    """A frame as a contiguous 8-bit grayscale array; ProtocolError(qr.bad_frame) if it is not one."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ProtocolError("frame is not an 8-bit image array", code="qr.bad_frame")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        return np.ascontiguousarray(image)
    if image.ndim == 3 and image.shape[2] in (3, 4) and min(image.shape[:2]) > 0:
        code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        return np.ascontiguousarray(cv2.cvtColor(image, code))
    raise ProtocolError(
        f"frame of shape {image.shape} is not grayscale, BGR or BGRA", code="qr.bad_frame"
    )


def decode(image: Any, *, stages: tuple[Stage, ...] = STAGES) -> list[Decoded]:
    """The codes in `image` (grayscale, BGR or BGRA uint8), from the first stage that finds any."""
    gray = to_gray(image)
    if min(gray.shape) < _MIN_SIDE:
        return []
    for stage in stages:
        try:
            found = stage.run(gray)
        except (cv2.error, RuntimeError, ValueError) as exc:
            # driver faults never escape the family
            raise ProtocolError(
                f"{stage.name} stage failed: {exc}", code="qr.decoder_error"
            ) from exc
        if found:
            return found
    return []
