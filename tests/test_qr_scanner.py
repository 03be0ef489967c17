"""The QR scanner device on real files through cv2.VideoCapture: dedupe, rejections, camera loss."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices import registry
from devices.errors import ConfigError, DeviceOffline, InputRejected
from devices.qr import config
from devices.qr.config import COMMON_KEYS, SIM_KEYS
from devices.qr.render import blank, place, render_qr, write_sequence, write_video
from devices.qr.scanner import QrScanner
from devices.qr.source import parse_source
from devices.state import DeviceState

W, H = 320, 240


class FakeClock:
    """Time that moves only when the scanner sleeps (plus a tick per look, so loops always end)."""

    def __init__(self, on_sleep: object = None) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def __call__(self) -> float:
        self.now += 0.0001
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if callable(self.on_sleep):
            self.on_sleep(self)


def code_frame(payload: str | bytes, invert: bool = False) -> np.ndarray:
    return place(render_qr(payload, module_px=5, invert=invert), W, H)


def sim(source: str | Path, clock: FakeClock, **options: object) -> QrScanner:
    # the registry's factory with an injected clock: the simulator plays at 10 fps of fake time
    factory = registry.resolve("qr_camera", "sim")
    scanner = factory({"source": str(source), **options}, clock=clock, sleep=clock.sleep)
    assert isinstance(scanner, QrScanner)
    return scanner


def drain(scanner: QrScanner, calls: int, timeout: float = 2.0) -> list[str]:
    """Up to `calls` next_code results; rejections appear as 'rejected:<code>'."""
    out: list[str] = []
    for _ in range(calls):
        try:
            code = scanner.next_code(timeout)
        except InputRejected as exc:
            out.append(f"rejected:{exc.code}")
            continue
        if code is None:
            break
        out.append(code)
    return out


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """1.5 s at 10 fps: A for 0.5 s, nothing for 0.6 s, A again, then B."""
    frames = [code_frame("A-kiosk")] * 5 + [blank(W, H)] * 6 + [code_frame("A-kiosk")] * 2
    frames += [code_frame("B-扫码")] * 2
    return write_video(tmp_path / "clip.avi", frames, fps=10)


def test_same_code_in_consecutive_frames_is_reported_once(clip: Path) -> None:
    scanner = sim(clip, FakeClock(), loop=False, dedupe_s=0.3)
    assert drain(scanner, 10) == ["A-kiosk", "A-kiosk", "B-扫码"]  # A was gone 0.6 s > 0.3 s


def test_a_code_back_within_the_debounce_time_is_not_reported_again(clip: Path) -> None:
    scanner = sim(clip, FakeClock(), loop=False, dedupe_s=1.0)
    assert drain(scanner, 10) == ["A-kiosk", "B-扫码"]
    assert scanner.status().error_code == "qr.end_of_stream"


def test_image_sequence_folder_and_dark_mode_codes(tmp_path: Path) -> None:
    frames = [
        blank(W, H),
        code_frame("dark-mode 深色", invert=True),
        code_frame("dark-mode 深色", invert=True),
    ]
    write_sequence(tmp_path / "seq", frames)
    scanner = sim(tmp_path / "seq", FakeClock(), loop=False)
    assert scanner.status().state == DeviceState.ONLINE
    assert drain(scanner, 5) == ["dark-mode 深色"]


def test_rejected_payloads_raise_once_per_appearance_with_their_reason(tmp_path: Path) -> None:
    frames = (
        [code_frame(b"\x00\x01\x02binary")] * 4 + [code_frame("x" * 80)] * 3 + [code_frame("ok")]
    )
    source = write_video(tmp_path / "bad.avi", frames, fps=10)
    scanner = sim(source, FakeClock(), loop=False, max_payload_bytes=64)
    assert drain(scanner, 10) == ["rejected:qr.binary", "rejected:qr.too_large", "ok"]


def test_file_source_loops_by_default_and_next_code_times_out(clip: Path) -> None:
    clock = FakeClock()
    scanner = sim(clip, clock, dedupe_s=0.45)
    # the second pass starts 0.3 s after A was last seen, so only A after the gap is new
    assert drain(scanner, 5) == ["A-kiosk", "A-kiosk", "B-扫码", "A-kiosk", "B-扫码"]
    blank_clip = write_video(clip.parent / "blank.avi", [blank(W, H)] * 3, fps=10)
    quiet = sim(blank_clip, clock)
    started = clock.now
    assert quiet.next_code(2.0) is None
    assert 2.0 <= clock.now - started < 2.5  # the timeout is honoured in the scanner's clock


def test_lost_image_sequence_goes_offline_backs_off_and_recovers(tmp_path: Path) -> None:
    folder = tmp_path / "cam"
    write_sequence(folder, [code_frame("cam-code")] * 3)
    parked = tmp_path / "unplugged"
    details: list[str] = []

    def replug(
        clock: FakeClock,
    ) -> None:  # the technician plugs the camera back after 4 failed opens
        details.append(scanner.status().detail)
        if "retry 4 " in details[-1] and parked.exists():
            os.rename(parked, folder)

    clock = FakeClock(on_sleep=replug)
    scanner = sim(folder, clock, backoff_initial_s=0.5, backoff_max_s=2.0, realtime=False)
    assert scanner.next_code(1.0) == "cam-code"
    os.rename(folder, parked)  # unplugged
    assert scanner.next_code(0.2) is None
    status = scanner.status()
    assert status.state == DeviceState.OFFLINE and status.error_code == "qr.source_lost"
    assert (
        "does not exist; retry 1 in 0.5 s" in status.detail
    )  # a file: rewound at once, then backoff
    assert scanner.next_code(30.0) == "cam-code"  # absent > dedupe_s (2 s), so reported again
    assert scanner.status().state == DeviceState.ONLINE
    delays = [d.split(" in ")[-1] for d in dict.fromkeys(details) if "retry" in d]
    assert delays == ["0.5 s", "1.0 s", "2.0 s", "2.0 s"]  # doubling, capped at backoff_max_s


def test_removed_video_file_is_noticed_at_its_end_and_reopened_when_restored(clip: Path) -> None:
    moved = clip.with_name("moved.avi")
    states: list[DeviceState] = []

    def restore(clock: FakeClock) -> None:
        states.append(scanner.status().state)
        if scanner.status().state == DeviceState.OFFLINE and not clip.exists():
            os.rename(moved, clip)

    clock = FakeClock(on_sleep=restore)
    scanner = sim(clip, clock, dedupe_s=0.3)
    assert drain(scanner, 3) == ["A-kiosk", "A-kiosk", "B-扫码"]
    os.rename(clip, moved)
    assert (
        scanner.next_code(10.0) == "A-kiosk"
    )  # offline at the end of the file, back after restore
    assert DeviceState.OFFLINE in states
    assert scanner.status().state == DeviceState.ONLINE


def test_simulated_unplug_fault_and_dropped_frames(clip: Path) -> None:
    clock = FakeClock()
    scanner = sim(
        clip, clock, vanish_after_frames=3, vanish_reopen_failures=2, drop_every=4, dedupe_s=0.3
    )
    assert scanner.next_code(1.0) == "A-kiosk"
    assert scanner.next_code(0.3) is None  # unplugged after 3 frames
    assert scanner.status().error_code in {"qr.source_lost", "qr.open_failed"}
    assert (
        scanner.next_code(20.0) == "A-kiosk"
    )  # back after two failed reopens: the file starts again
    assert scanner.status().state == DeviceState.ONLINE


def test_self_test_reports_resolution_and_fps_without_payloads(clip: Path) -> None:
    scanner = sim(clip, FakeClock())
    result = scanner.self_test()
    assert result.ok and result.device == "qr_camera" and result.backend == "sim"
    assert "frame 320x240" in result.checks
    assert any("10.0 fps" in check for check in result.checks)
    assert "A-kiosk" not in repr(result.as_dict())


def test_self_test_of_a_missing_camera_fails_cleanly() -> None:
    scanner = QrScanner.from_config({"source": 63})  # no /dev/video63 here
    result = scanner.self_test()
    assert not result.ok and result.status.state == DeviceState.OFFLINE
    assert result.status.error_code == "qr.open_failed"


def test_close_releases_the_source_and_refuses_further_reads(clip: Path) -> None:
    scanner = sim(clip, FakeClock())
    scanner.close()
    assert scanner.status().state == DeviceState.OFFLINE
    with pytest.raises(DeviceOffline) as info:
        scanner.next_code(0.1)
    assert info.value.code == "qr.closed"


@pytest.mark.parametrize(
    ("backend", "options", "message"),
    [
        ("camera", {}, "needs 'source'"),
        ("camera", {"source": 0, "fps": 30}, "unknown qr_camera option(s) fps"),
        ("camera", {"source": 0, "loop": False}, "need backend 'sim'"),
        ("camera", {"source": -1}, ">= 0"),
        ("camera", {"source": 1.5}, "camera index or a path"),
        ("camera", {"source": 0, "width": "wide"}, "width must be an integer"),
        ("camera", {"source": 0, "backoff_max_s": 0}, "backoff_max_s must be between"),
        ("camera", {"source": 0, "dedupe_s": float("nan")}, "dedupe_s must be between"),
        (
            "camera",
            {"source": 0, "max_payload_bytes": 4000},
            "max_payload_bytes must be between 1 and 2953",
        ),
        ("sim", {"source": 0}, "video file or an image sequence"),
        ("sim", {"source": "/nonexistent/clip.avi"}, "does not exist"),
        ("sim", {"source": "/tmp/one.png"}, "single image"),
        ("sim", {"source": "/tmp/img_%d_%d.png"}, "does not exist"),
        ("sim", {"source": "/tmp/x.avi", "drop_every": 1}, "does not exist"),
    ],
)
def test_config_errors_name_the_key(backend: str, options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        registry.create("qr_camera", backend, options)


def test_source_kinds(tmp_path: Path) -> None:
    assert parse_source(0).kind == parse_source("2").kind == "device"
    assert parse_source("²").kind != "device"  # a digit to str.isdigit, not a camera index
    assert parse_source(str(tmp_path / "x.avi")).kind == "video"
    assert parse_source(str(tmp_path / "f_%04d.png")).kind == "sequence"
    cv2.imwrite(str(tmp_path / "0007.jpg"), blank(32, 32))
    assert parse_source(str(tmp_path)).target == str(tmp_path / "%04d.jpg")


def test_a_corrupt_video_file_leaves_the_scanner_offline_not_crashed(tmp_path: Path) -> None:
    junk = tmp_path / "junk.avi"
    junk.write_bytes(os.urandom(4096))
    scanner = sim(junk, FakeClock())
    assert scanner.next_code(1.0) is None
    assert scanner.status().state == DeviceState.OFFLINE
    assert scanner.status().error_code == "qr.open_failed"


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10_000),
    st.floats(allow_nan=True),
    st.text(max_size=8),
)


@settings(max_examples=150, deadline=2000)
@given(
    st.dictionaries(
        st.sampled_from(sorted(COMMON_KEYS | SIM_KEYS | {"bogus"})), _values, max_size=5
    )
)
def test_any_config_is_accepted_or_refused_with_a_config_error(options: dict[str, object]) -> None:
    options.setdefault("source", "/nonexistent/none.avi")
    try:
        config.parse(options, sim=True)
    except ConfigError as exc:
        assert "qr_camera" in exc.detail
