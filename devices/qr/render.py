"""Render QR codes and write them as simulator sources (a video file or an image sequence).

The `sim` backend reads such files through the real cv2.VideoCapture path; tests and the benchmark's
synthetic corpus build their frames with these helpers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import qrcode
import qrcode.constants

Gray = npt.NDArray[np.uint8]

_EC_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


def render_qr(
    payload: str | bytes,
    *,
    module_px: int = 6,
    border: int = 4,
    ec: str = "M",
    invert: bool = False,
) -> Gray:
    """A grayscale QR code: dark modules 0, light 255 (swapped when `invert`, as on a dark-mode screen)."""
    code = qrcode.QRCode(border=0, error_correction=_EC_LEVELS[ec])
    code.add_data(payload)
    code.make(fit=True)
    dark = np.array(code.get_matrix(), dtype=bool)
    image = np.where(dark, 0, 255).astype(np.uint8)
    image = np.kron(image, np.ones((module_px, module_px), dtype=np.uint8))
    pad = border * module_px
    image = np.pad(image, pad, constant_values=255)
    return (255 - image) if invert else image


def place(
    code: Gray, width: int, height: int, *, x: int | None = None, y: int | None = None
) -> Gray:
    """`code` pasted on a light-gray frame of `width` x `height` (centred unless x/y are given)."""
    frame = np.full((height, width), 200, dtype=np.uint8)
    h, w = code.shape
    if h > height or w > width:
        raise ValueError(f"code {w}x{h} does not fit a {width}x{height} frame")
    left = (width - w) // 2 if x is None else x
    top = (height - h) // 2 if y is None else y
    frame[top : top + h, left : left + w] = code
    return frame


def blank(width: int, height: int, level: int = 200) -> Gray:
    return np.full((height, width), level, dtype=np.uint8)


def write_video(path: str | Path, frames: Sequence[Gray], fps: float = 10.0) -> Path:
    """Write frames as an MJPG .avi (readable by headless OpenCV); returns the path."""
    out = Path(path)
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"MJPG"), fps, (w, h))
    if not writer.isOpened():
        raise OSError(f"cv2.VideoWriter could not open {out}")
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame)
    finally:
        writer.release()
    return out


def write_sequence(folder: str | Path, frames: Iterable[Gray], prefix: str = "frame_") -> str:
    """Write frames as `prefix0000.png`, `prefix0001.png`, ...; returns the printf pattern."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for index, frame in enumerate(frames):
        if not cv2.imwrite(str(out / f"{prefix}{index:04d}.png"), frame):
            raise OSError(f"cv2.imwrite failed in {out}")
    return str(out / f"{prefix}%04d.png")
