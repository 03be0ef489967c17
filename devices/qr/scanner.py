"""The QR camera device: frames in, each NEW valid code out once, with camera-loss recovery.

One thread drives a scanner (the kiosk's device loop); `next_code(timeout)` is the only blocking call.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import DeviceError, DeviceOffline, InputRejected, ProtocolError
from ..state import DeviceState, DeviceStatus, SelfTestResult
from . import config
from .decode import FAST_STAGES, STAGES, Decoded, decode
from .payload import validate_payload
from .source import FrameSource, SourceSpec

log = logging.getLogger(__name__)

DEVICE = "qr_camera"
_SELF_TEST_READS = 30  # a camera may need a few reads after opening before frames flow
BLACK_LEVEL = 8.0  # mean brightness (0-255) below which a self-test frame counts as black


class QrScanner:
    """Reads frames from a FrameSource and reports each code once per appearance.

    A code is reported when it appears, and again only after it has been out of sight (not decoded)
    for more than `dedupe_s` seconds; a rejected payload raises InputRejected on the same rule.
    """

    def __init__(
        self,
        source: SourceSpec,
        settings: config.ScannerSettings | None = None,
        *,
        backend: str = "camera",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or config.ScannerSettings()
        self.backend = backend
        self._clock = clock
        self._sleep = sleep
        s = self.settings
        self._source = FrameSource(source, width=s.width, height=s.height, faults=s.faults)
        self._state = DeviceState.OFFLINE
        self._detail = "not opened yet"
        self._error_code: str | None = None
        self._closed = False
        self._failures = 0  # consecutive failed reads
        self._frames_since_open = 0
        self._frame_index = 0
        self._backoff = s.backoff_initial_s
        self._open_attempts = 0  # failed opens in a row
        self._next_open_at = clock()
        self._last_frame_at: float | None = None
        self._seen: dict[
            bytes, float
        ] = {}  # payload digest -> last time decoded (no payloads kept)
        self._pending: deque[str | InputRejected] = deque()
        self._open()

    # --- construction from config --------------------------------------------------------------

    @classmethod
    def from_config(
        cls,
        options: Mapping[str, Any],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> QrScanner:
        """The `camera` backend: a camera index, a device path or stream URL, or a file."""
        spec, settings = config.parse(options, sim=False)
        return cls(spec, settings, backend="camera", clock=clock, sleep=sleep)

    @classmethod
    def sim_from_config(
        cls,
        options: Mapping[str, Any],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> QrScanner:
        """The `sim` backend: the same device on a video file or image sequence, with fault settings."""
        spec, settings = config.parse(options, sim=True)
        return cls(spec, settings, backend="sim", clock=clock, sleep=sleep)

    # --- the device interface ------------------------------------------------------------------

    def status(self) -> DeviceStatus:
        return DeviceStatus(state=self._state, detail=self._detail, error_code=self._error_code)

    def next_code(self, timeout: float) -> str | None:
        """The next new valid code within `timeout` seconds, or None.

        Raises InputRejected (qr.*) for a new code whose payload the kiosk refuses, and
        DeviceOffline(qr.closed) after close(). Camera loss is not raised: status() shows it.
        """
        if self._closed:
            raise DeviceOffline("the QR scanner is closed", code="qr.closed")
        deadline = self._clock() + max(0.0, float(timeout))
        while True:
            if self._pending:
                item = self._pending.popleft()
                if isinstance(item, InputRejected):
                    raise item
                return item
            now = self._clock()
            if not self._source.is_open:
                if now >= self._next_open_at:
                    self._open()
                elif now < deadline:
                    self._sleep(min(self._next_open_at, deadline) - now)
                if not self._source.is_open and self._clock() >= deadline:
                    return None
                continue
            self._step()
            if not self._pending and self._clock() >= deadline:
                return None

    def self_test(self) -> SelfTestResult:
        """Opens the source, grabs a frame, reports resolution and fps and whether a code is in view."""
        started = time.perf_counter()
        checks: list[str] = []
        frame = None
        if self._closed:
            checks.append("scanner is closed")
        else:
            if not self._source.is_open:
                self._open()
            if self._source.is_open:
                checks.append(f"opened {self._source.spec.label}")
                for _ in range(_SELF_TEST_READS):
                    frame = self._source.read()
                    if frame is not None:
                        break
            else:
                checks.append(f"could not open {self._source.spec.label}: {self._detail}")
        if frame is not None:
            self._mark_online()
            width, height, fps = self._source.properties()
            checks.append(f"frame {frame.shape[1]}x{frame.shape[0]}")
            rate = f"{fps:.1f} fps" if fps else "fps unknown"
            checks.append(f"capture reports {width}x{height}, {rate}")
            level = float(frame.mean())
            if level < BLACK_LEVEL:
                checks.append(f"the frame is black (mean brightness {level:.1f}/255)")
            try:
                seen = decode(frame)
                checks.append(f"QR codes in the test frame: {len(seen)}")
            except ProtocolError as exc:
                checks.append(f"decoder failed on the test frame: {exc.code}")
        elif self._source.is_open:
            checks.append(f"no frame in {_SELF_TEST_READS} reads")
            self._lose_source(f"no frame in {_SELF_TEST_READS} reads during self-test")
        black = frame is not None and float(frame.mean()) < BLACK_LEVEL
        status = self.status()
        if black:  # frames arrive, but a covered lens or a dead sensor sees nothing
            status = DeviceStatus(
                DeviceState.HARDWARE_ERROR,
                "the camera delivers black frames",
                error_code="qr.black_frame",
            )
        return SelfTestResult(
            device=DEVICE,
            backend=self.backend,
            ok=frame is not None and not black,
            status=status,
            checks=tuple(checks),
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def close(self) -> None:
        self._source.release()
        self._closed = True
        self._pending.clear()
        self._seen.clear()
        self._set(DeviceState.OFFLINE, "closed", None)

    def __enter__(self) -> QrScanner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- internals -----------------------------------------------------------------------------

    def _set(self, state: DeviceState, detail: str, error_code: str | None) -> None:
        if state != self._state:
            log.info("qr_camera %s -> %s: %s", self._state.value, state.value, detail)
        self._state, self._detail, self._error_code = state, detail, error_code

    def _open(self, *, rewind: bool = False) -> None:
        try:
            self._source.open(quiet=rewind)
        except DeviceError as exc:
            self._open_attempts += 1
            delay = self._backoff
            self._next_open_at = self._clock() + delay
            self._backoff = min(self._backoff * 2, self.settings.backoff_max_s)
            detail = f"{exc.detail}; retry {self._open_attempts} in {delay:.1f} s"
            log.warning("qr_camera open failed (%s): %s", exc.code, detail)
            self._set(DeviceState.OFFLINE, detail, exc.code)
            return
        self._failures = 0
        self._frames_since_open = 0
        self._last_frame_at = None
        if self._error_code is None:  # first open: the camera is there
            self._set(
                DeviceState.ONLINE, f"{self._source.spec.label} opened, no frame read yet", None
            )
        else:  # after a loss, ONLINE again only when frames return
            self._detail = f"{self._source.spec.label} reopened, waiting for frames"

    def _mark_online(self) -> None:
        self._open_attempts = 0
        self._backoff = self.settings.backoff_initial_s
        if self._state != DeviceState.ONLINE:
            width, height, fps = self._source.properties()
            rate = f" @ {fps:.0f} fps" if fps else ""
            self._set(DeviceState.ONLINE, f"{self._source.spec.label} {width}x{height}{rate}", None)

    def _lose_source(self, why: str) -> None:
        self._source.release()
        delay = self._backoff
        self._next_open_at = self._clock() + delay
        self._backoff = min(self._backoff * 2, self.settings.backoff_max_s)
        self._set(
            DeviceState.OFFLINE,
            f"source lost ({why}); reopening in {delay:.1f} s",
            "qr.source_lost",
        )

    def _read_failed(self) -> None:
        self._failures += 1
        if self._failures < self.settings.lost_after_failures:
            return
        at_end_of_file = self._source.spec.kind != "device" and self._frames_since_open > 0
        if at_end_of_file and self.settings.loop:
            self._open(rewind=True)  # if the file is gone this fails and schedules a retry
            if self._source.is_open:
                return
            self._set(DeviceState.OFFLINE, self._detail, "qr.source_lost")
            return
        if at_end_of_file:
            self._source.release()
            self._next_open_at = float("inf")
            self._set(DeviceState.OFFLINE, "end of the stream (loop is off)", "qr.end_of_stream")
            return
        self._lose_source(f"{self._failures} reads failed in a row")

    def _step(self) -> None:
        frame = self._source.read()
        if frame is None:
            self._read_failed()
            return
        self._failures = 0
        self._frames_since_open += 1
        self._mark_online()
        self._pace()
        stages = STAGES if self._frame_index % self.settings.full_every == 0 else FAST_STAGES
        self._frame_index += 1
        try:
            found = decode(frame, stages=stages)
        except ProtocolError as exc:  # one bad frame is not a lost camera
            log.warning("qr_camera skipped a frame: %s", exc)
            return
        self._observe(found, self._clock())

    def _pace(self) -> None:
        """Files in realtime mode play at their own frame rate, like a camera would deliver them."""
        if not self.settings.realtime:
            return
        fps = self._source.properties()[2] or 25.0  # image sequences report no rate
        now = self._clock()
        if self._last_frame_at is not None:
            wait = self._last_frame_at + 1.0 / fps - now
            if wait > 0:
                self._sleep(wait)
                now += wait
        self._last_frame_at = now

    def _observe(self, found: list[Decoded], now: float) -> None:
        for item in found:
            key = hashlib.sha256(item.raw).digest()
            last = self._seen.get(key)
            self._seen[key] = now
            if last is not None and now - last <= self.settings.dedupe_s:
                continue  # the same appearance, still in view
            try:
                self._pending.append(validate_payload(item.raw, self.settings.max_payload_bytes))
                log.info(
                    "qr_camera code: %d bytes via %s/%s", len(item.raw), item.decoder, item.stage
                )
            except InputRejected as exc:
                log.info("qr_camera rejected a code: %s (%d bytes)", exc.code, len(item.raw))
                self._pending.append(exc)
        expired = [k for k, t in self._seen.items() if now - t > self.settings.dedupe_s]
        for key in expired:
            del self._seen[key]
