"""The decoding cascade on real rendered images: what it reads, and that hostile frames stay in the family."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from devices.errors import DeviceError, ProtocolError
from devices.qr.decode import FAST_STAGES, STAGES, decode
from devices.qr.render import place, render_qr

URL = "https://xy.example.gov.cn/r/7Hq2"


def texts(image: np.ndarray) -> list[str]:
    return [d.text for d in decode(image)]


def test_reads_a_code_in_a_camera_sized_bgr_frame() -> None:
    frame = cv2.cvtColor(place(render_qr(URL), 640, 480), cv2.COLOR_GRAY2BGR)
    found = decode(frame)
    assert [d.text for d in found] == [URL]
    assert found[0].raw == URL.encode() and found[0].decoder == "zxing-cpp"


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_reads_rotated_codes(turns: int) -> None:
    assert texts(np.ascontiguousarray(np.rot90(place(render_qr(URL), 400, 300), turns))) == [URL]


def test_reads_a_dark_mode_screen_code() -> None:
    inverted = place(render_qr("扫码打印", invert=True), 400, 300)
    assert texts(inverted) == ["扫码打印"]


def test_gives_raw_bytes_of_binary_payloads_without_guessing_a_charset() -> None:
    found = decode(place(render_qr(b"\xff\xfe\x00binary"), 300, 300))
    assert [d.raw for d in found] == [b"\xff\xfe\x00binary"]


@pytest.mark.parametrize(
    ("module_px", "blur", "noise", "contrast"),
    [
        (2, 0.9, 4, 60),
        (3, 1.2, 4, 40),
        (3, 0.9, 12, 40),
    ],  # small modules; defocus; noise + low contrast
)
def test_fallback_stages_read_what_plain_zxing_cannot(
    module_px: int, blur: float, noise: float, contrast: float
) -> None:
    rng = np.random.default_rng(3)
    code = render_qr(URL, module_px=module_px, border=2).astype(np.float32)
    image = 110 + code * (contrast / 255)
    image = cv2.GaussianBlur(image, (0, 0), blur) + rng.normal(0, noise, image.shape)
    frame = np.clip(image, 0, 255).astype(np.uint8)
    assert decode(frame, stages=FAST_STAGES) == []
    found = decode(frame)
    assert [d.text for d in found] == [URL]
    assert found[0].stage != "zxing"


def test_a_frame_without_a_code_gives_nothing() -> None:
    assert decode(np.full((480, 640), 128, np.uint8)) == []
    assert decode(np.zeros((5, 5), np.uint8)) == []  # too small to hold a code


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((10, 10), np.float32),
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((10, 10, 2), np.uint8),
        np.zeros((4, 4, 4, 4), np.uint8),
        "not an image",
        None,
    ],
)
def test_frames_that_are_not_images_raise_bad_frame(frame: object) -> None:
    with pytest.raises(ProtocolError) as info:
        decode(frame)
    assert info.value.code == "qr.bad_frame"


def test_every_stage_states_its_reason() -> None:
    assert STAGES[0].name == "zxing" and all(stage.reason for stage in STAGES)
    assert any(s.name.startswith("zbar") for s in STAGES)  # the second opinion


_BASE = place(render_qr(URL, module_px=4), 240, 200)


@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(
        np.uint8,
        st.one_of(
            hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=160),
            st.tuples(st.integers(0, 120), st.integers(0, 120), st.sampled_from([1, 3, 4])),
        ),
    )
)
def test_random_images_decode_or_stay_in_the_error_family(image: np.ndarray) -> None:
    try:
        found = decode(image)
    except DeviceError as exc:
        assert exc.code == "qr.bad_frame"
    else:
        assert all(isinstance(d.raw, bytes) for d in found)


@settings(max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(0, _BASE.size - 1), st.integers(1, 400), st.integers(0, 255)),
        max_size=30,
    ),
    st.sampled_from(["none", "invert", "crop", "noise"]),
)
def test_mutated_codes_never_raise_and_never_misread(
    runs: list[tuple[int, int, int]], extra: str
) -> None:
    pixels = _BASE.copy().reshape(-1)
    for start, length, value in runs:  # overwrite runs of pixels, like scratches and stickers
        pixels[start : start + length] = value
    image = pixels.reshape(_BASE.shape)
    if extra == "invert":
        image = 255 - image
    elif extra == "crop":
        image = np.ascontiguousarray(image[: len(runs) + 30, :])
    elif extra == "noise":
        image = np.clip(
            image + np.random.default_rng(len(runs)).normal(0, 40, image.shape), 0, 255
        ).astype(np.uint8)
    found = decode(image)
    assert all(
        d.text == URL for d in found
    )  # error correction: a damaged code reads right or not at all
