"""The kiosk's TOML config: a good file loads, every bad key is named, secrets are never inline."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.compose import open_offline_store
from kiosk.config import load_config
from kiosk.errors import ConfigInvalid

from .offline_support import present

GOOD = """
[platform]
url = "https://credit.example.gov.cn/api"

[terminal]
state_dir = "state"
hall_name = "兰州市政务服务中心一楼"
staff_pin_file = "staff.pin"

[devices.id_card]
backend = "serial"
port = "/dev/ttyUSB0"

[devices.qr_camera]
backend = "camera"
source = 0

[devices.a4_printer]
backend = "cups"
queue = "KioskA4"

[devices.receipt_printer]
backend = "escpos-network"
host = "192.168.1.50"
paper_mm = 80

[ui]
language = "zh_CN"
idle_timeout_s = 90
elderly_mode = true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_loads_with_paths_relative_to_it(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.platform_url == "https://credit.example.gov.cn/api"
    assert config.state_dir == tmp_path / "state"
    assert config.staff_pin_file == tmp_path / "staff.pin"
    assert config.devices["receipt_printer"].backend == "escpos-network"
    assert config.devices["receipt_printer"].options == {"host": "192.168.1.50", "paper_mm": 80}
    assert config.ui.idle_timeout_s == 90 and config.ui.elderly_mode is True
    assert config.ui.countdown_s == 10
    assert config.ui.orientation == "landscape" and config.ui.window_size == (1920, 1080)


def test_a_portrait_terminal_is_one_line_of_config(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD.replace("[ui]", '[ui]\norientation = "portrait"')))
    assert config.ui.orientation == "portrait" and config.ui.window_size == (1080, 1920)
    with pytest.raises(ConfigInvalid) as caught:
        load_config(write(tmp_path, GOOD.replace("[ui]", '[ui]\norientation = "upright"')))
    assert "ui.orientation: 'upright' is not one of landscape, portrait" in str(caught.value)


def test_a_display_of_the_other_shape_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    from screens.cli import warn_orientation

    assert not warn_orientation("portrait", (1080, 1920))
    assert not warn_orientation("landscape", (1920, 1080))
    assert warn_orientation("portrait", (1920, 1080))
    assert "cage -r" in caplog.text and "1920x1080" in caplog.text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('url = "https://credit.example.gov.cn/api"', 'url = "http://10.0.0.5/api"'),
            "platform.url: plain http",
        ),
        (('url = "https://credit.example.gov.cn/api"', 'url = "ftp://x"'), "platform.url:"),
        (('hall_name = "兰州市政务服务中心一楼"', ""), "terminal.hall_name: required"),
        (("idle_timeout_s = 90", "idle_timeout_s = 5"), "ui.idle_timeout_s: 5 is outside"),
        (("idle_timeout_s = 90", 'idle_timeout_s = "long"'), "ui.idle_timeout_s: must be a number"),
        (('language = "zh_CN"', 'language = "fr"'), "ui.language: 'fr' is not one of"),
        (("elderly_mode = true", 'elderly_mode = "yes"'), "ui.elderly_mode: must be true or false"),
        (
            ('[devices.qr_camera]\nbackend = "camera"', '[devices.qr_camera]\nbackendx = "camera"'),
            "devices.qr_camera.backend: required",
        ),
        (("[ui]", "[ui]\nstaff_pin = 1234"), "ui.staff_pin: secrets are given by path"),
        (("[ui]", "[uix]"), "uix: unknown section"),
        (('hall_name = "', 'colour = "red"\nhall_name = "'), "terminal.colour: unknown key"),
    ],
)
def test_each_problem_names_its_key(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(ConfigInvalid) as info:
        load_config(write(tmp_path, GOOD.replace(old, new)))
    assert any(p.startswith(expected) for p in info.value.problems), info.value.problems


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("idle_timeout_s = 90", "idle_timeout_s = 5").replace(
        'language = "zh_CN"', 'language = "fr"'
    )
    with pytest.raises(ConfigInvalid) as info:
        load_config(write(tmp_path, text))
    assert len(info.value.problems) == 2


def test_unreadable_or_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid, match="file not found"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ConfigInvalid, match="not valid TOML"):
        load_config(write(tmp_path, "[platform\nurl="))


def test_the_kiosk_queue_keeps_a_request_through_a_long_outage(tmp_path: Path) -> None:
    """An accepted request is never given up because the platform stayed away for hours."""
    config = load_config(write(tmp_path, GOOD))
    config.offline_db.parent.mkdir(parents=True, exist_ok=True)
    with open_offline_store(config) as store:
        item = store.outbox.enqueue("report_request", "QT-TEST", {"uscc": "X"}, pii=True)
        for _ in range(200):  # 200 failed deliveries: more than 16 hours at the 300 s backoff cap
            (leased,) = store.outbox.lease(limit=1, lease_seconds=60)
            store.outbox.nack(leased.id, "api.unavailable", store.now())
        assert store.outbox.counts().pending == 1
        assert present(store.outbox.get(item.id)).state.value == "pending"
