"""A terminal's first start: enrollment with the one-time token against the real platform, and a start
that fails (no token, platform away, token refused) leaving nothing behind for the next one."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from devices.a4_printer.private_cups import free_port
from kiosk.api import ApiSettings
from kiosk.compose import ensure_enrolled
from kiosk.config import KioskConfig, parse_config
from kiosk.errors import KioskError
from kiosk.identity import IdentityError
from kiosk.signing import public_key_b64

from .platform_client import ServiceProcess, cli


def config(folder: Path, url: str) -> KioskConfig:
    raw = {
        "platform": {"url": url},
        "terminal": {
            "state_dir": "state",
            "hall_name": "测试大厅",
            "enrollment_token_file": "enrollment.token",
        },
        "devices": {kind: {"backend": "sim"} for kind in ("id_card", "qr_camera", "a4_printer", "receipt_printer")},
    }  # fmt: skip
    return parse_config(raw, base_dir=folder, source=folder / "kiosk.toml")


def token(platform: ServiceProcess) -> str:
    made = cli(
        "terminals", "add-token", "--db", platform.db, "--hall", "h-enroll", "--region", "gansu"
    )
    return made.stdout.strip()


def test_without_a_token_the_start_says_how_to_get_one_and_writes_nothing(tmp_path: Path) -> None:
    c = config(tmp_path, "http://127.0.0.1:9")
    with pytest.raises(IdentityError) as refused:
        ensure_enrolled(c, ApiSettings(c.platform_url))
    message = str(refused.value)
    assert "report-service terminals add-token" in message
    assert str(tmp_path / "enrollment.token") in message and "kiosk.toml" in message
    assert not (tmp_path / "state").exists()


def test_a_platform_that_is_away_or_refuses_leaves_no_key(
    tmp_path: Path, platform: ServiceProcess
) -> None:
    away = config(tmp_path, f"http://127.0.0.1:{free_port()}")
    (tmp_path / "enrollment.token").write_text(token(platform) + "\n")
    with pytest.raises(KioskError):
        ensure_enrolled(away, ApiSettings(away.platform_url))
    assert not (tmp_path / "state").exists()
    refusing = config(tmp_path, platform.base_url)
    (tmp_path / "enrollment.token").write_text("not-a-token\n")
    with pytest.raises(KioskError):
        ensure_enrolled(refusing, ApiSettings(refusing.platform_url))
    assert not (tmp_path / "state").exists()


def test_first_start_enrolls_then_later_starts_reuse_the_key(
    tmp_path: Path, platform: ServiceProcess
) -> None:
    c = config(tmp_path, platform.base_url)
    (tmp_path / "enrollment.token").write_text(token(platform) + "\n")
    enrollment, credentials = ensure_enrolled(c, ApiSettings(c.platform_url))
    assert enrollment.terminal_id == credentials.terminal_id
    assert stat.S_IMODE(c.key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(c.state_dir.stat().st_mode) == 0o700
    (tmp_path / "enrollment.token").unlink()  # spent: a second start must not need it
    again, credentials_again = ensure_enrolled(c, ApiSettings(c.platform_url))
    assert again.terminal_id == enrollment.terminal_id
    assert public_key_b64(credentials_again.key) == public_key_b64(credentials.key)
