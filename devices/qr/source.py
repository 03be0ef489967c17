"""Frame sources over cv2.VideoCapture: a camera index, a video file, or an image sequence.

An image sequence is a printf pattern (`frames/img_%04d.png`) or a folder whose images are numbered
(`0001.png`, `0002.png`, ...); OpenCV's CAP_IMAGES backend reads it. Simulator faults (documented in
docs/devices/qr_camera.md) are applied here, around the real capture.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from ..errors import ConfigError, DeviceOffline

log = logging.getLogger(__name__)

Frame = npt.NDArray[np.uint8]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)(?P<suffix>\.[A-Za-z]+)$")
_OPEN_TIMEOUT_MS = 5000  # a camera that has not opened in 5 s counts as absent
_READ_TIMEOUT_MS = 2000  # a stalled camera read counts as a failed read


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """Where frames come from: kind is "device", "video" or "sequence"; target goes to VideoCapture."""

    kind: str
    target: int | str

    @property
    def label(self) -> str:  # for technicians: which input, never frame content
        return f"camera {self.target}" if self.kind == "device" else f"{self.kind} {self.target}"

    def present(self) -> bool:
        """Whether the input exists now (a device index is assumed present until it fails to open)."""
        if self.kind == "device":
            return True
        if self.kind == "video":
            return Path(str(self.target)).is_file()
        return bool(_sequence_files(str(self.target)))


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """The file-name regex of a printf pattern such as img_%04d.png."""
    name = Path(pattern).name
    parts = re.split(r"%0?\d*d", name, maxsplit=1)
    if len(parts) != 2:
        raise ConfigError(
            f"qr_camera source: image sequence pattern {pattern!r} needs one %d field, e.g. frame_%04d.png"
        )
    return re.compile(re.escape(parts[0]) + r"\d+" + re.escape(parts[1]) + "$")


def _sequence_files(pattern: str) -> list[Path]:
    folder = Path(pattern).parent
    regex = _pattern_regex(pattern)
    try:
        return sorted(p for p in folder.iterdir() if regex.match(p.name))
    except OSError:
        return []


def _folder_pattern(folder: Path) -> str | None:
    """The printf pattern of the numbered images in `folder` (from the first one), or None."""
    try:
        names = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    except OSError:
        return None
    for name in names:
        match = _NUMBERED.match(name)
        if match:
            digits = match["digits"]
            field = f"%0{len(digits)}d" if digits.startswith("0") and len(digits) > 1 else "%d"
            prefix = match["prefix"].replace("%", "%%")
            return str(folder / f"{prefix}{field}{match['suffix']}")
    return None


def parse_source(source: Any) -> SourceSpec:
    """A SourceSpec from the `source` config value: an int (or digit string) index, or a path."""
    if isinstance(source, bool) or not isinstance(source, int | str):
        raise ConfigError(
            f"qr_camera source must be a camera index or a path, got {type(source).__name__}"
        )
    if isinstance(source, int) or (source.strip().isascii() and source.strip().isdigit()):
        index = int(source)
        if index < 0:
            raise ConfigError(f"qr_camera source index must be >= 0, got {index}")
        return SourceSpec("device", index)
    if not source.strip():
        raise ConfigError("qr_camera source is an empty string")
    if "%" in source:
        _pattern_regex(source)  # validates the pattern
        return SourceSpec("sequence", source)
    path = Path(source)
    if path.is_dir():
        pattern = _folder_pattern(path)
        if pattern is None:
            raise ConfigError(
                f"qr_camera source folder {source!r} holds no numbered images (e.g. 0001.png)"
            )
        return SourceSpec("sequence", pattern)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise ConfigError(
            f"qr_camera source {source!r} is a single image: give a folder or a pattern such as img_%04d.png"
        )
    return SourceSpec("video", source)  # a video file, a /dev/video* path or a stream URL


@dataclass(slots=True)
class Faults:
    """Simulator fault injection (sim backend only); zero disables each."""

    drop_every: int = 0  # every Nth read fails once, like a camera dropping a frame
    vanish_after_frames: int = 0  # after N frames the source is unplugged ...
    vanish_reopen_failures: int = 0  # ... and this many reopen attempts fail before it returns


class FrameSource:
    """One cv2.VideoCapture at a time over a SourceSpec; never raises outside the device error family."""

    def __init__(
        self,
        spec: SourceSpec,
        *,
        width: int | None = None,
        height: int | None = None,
        faults: Faults | None = None,
    ) -> None:
        self.spec = spec
        self._width = width
        self._height = height
        self._faults = faults or Faults()
        self._capture: Any = None
        self._reads = 0  # successful reads since construction (for the fault schedule)
        self._attempts = 0  # read calls since construction
        self._vanished = False
        self._vanish_pending = self._faults.vanish_after_frames > 0
        self._failed_reopens = 0

    @property
    def is_open(self) -> bool:
        return self._capture is not None

    def open(self, *, quiet: bool = False) -> None:
        """Open the capture; DeviceOffline(qr.open_failed) if it cannot be opened now.

        `quiet`: a looping file rewinding (at every end of the file) is logged at DEBUG only."""
        self.release()
        if self._vanished:
            if self._failed_reopens < self._faults.vanish_reopen_failures:
                self._failed_reopens += 1
                raise DeviceOffline(
                    f"{self.spec.label} is unplugged (simulated)", code="qr.open_failed"
                )
            self._vanished = False
        if not self.spec.present():
            raise DeviceOffline(f"{self.spec.label} does not exist", code="qr.open_failed")
        try:
            capture = self._create()
        except cv2.error as exc:
            raise DeviceOffline(
                f"{self.spec.label} failed to open: {exc}", code="qr.open_failed"
            ) from exc
        if not capture.isOpened():
            capture.release()
            raise DeviceOffline(f"{self.spec.label} could not be opened", code="qr.open_failed")
        self._capture = capture
        log.log(
            logging.DEBUG if quiet else logging.INFO,
            "qr source opened: %s (%s backend)",
            self.spec.label,
            capture.getBackendName(),
        )

    def _create(self) -> Any:
        if self.spec.kind == "sequence":
            return cv2.VideoCapture(str(self.spec.target), cv2.CAP_IMAGES)
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            _OPEN_TIMEOUT_MS,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            _READ_TIMEOUT_MS,
        ]
        capture = cv2.VideoCapture(self.spec.target, cv2.CAP_ANY, params)
        if capture.isOpened() and self.spec.kind == "device":
            if self._width:
                capture.set(cv2.CAP_PROP_FRAME_WIDTH, self._width)
            if self._height:
                capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self._height)
        return capture

    def read(self) -> Frame | None:
        """The next frame, or None when the read failed (end of a file, a dropped or lost frame)."""
        if self._capture is None:
            return None
        self._attempts += 1
        drop = self._faults.drop_every
        if drop and self._attempts % drop == 0:
            return None
        if self._vanish_pending and self._reads >= self._faults.vanish_after_frames:
            self._vanish_pending = False  # unplugged once; it stays back after it returns
            self._vanished = True
        if self._vanished:
            return None
        try:
            ok, frame = self._capture.read()
        except cv2.error as exc:
            log.warning("qr source read raised: %s", exc)
            return None
        if not ok or frame is None or frame.size == 0:
            return None
        self._reads += 1
        return np.asarray(frame, dtype=np.uint8)

    def properties(self) -> tuple[int, int, float]:
        """(width, height, fps) as the capture reports them; zeros when unknown."""
        if self._capture is None:
            return 0, 0, 0.0
        width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0)
        height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0)
        fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        return width, height, (fps if fps > 0 else 0.0)

    def release(self) -> None:
        if self._capture is not None:
            try:
                self._capture.release()
            except cv2.error as exc:
                log.warning("qr source release raised: %s", exc)
            self._capture = None
