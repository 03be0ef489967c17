"""`kiosk-provision enroll`, `devices`, `staff-pin` against a real `report-service serve` and the
simulators: what a technician sees for a good token, a used, expired or wrong one, a platform that is
away, and an existing enrollment; comments in the config survive every write."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

from devices.a4_printer.private_cups import free_port
from kiosk.staff import StaffLock

from .platform_client import ServiceProcess
from .provision_support import COMMENT, Terminal, provision, token


def test_enroll_writes_key_and_keeps_comments_then_refuses_a_second_time(
    kiosk_terminal: Terminal,
) -> None:
    t = kiosk_terminal
    data = t.enroll()
    key = t.folder / "state" / "terminal.key"
    assert data["terminal_id"].startswith("T") and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert COMMENT in t.config.read_text()
    again = t.folder / "token2"
    again.write_text(token(t.platform))
    done = t.run("enroll", "--platform", t.platform.base_url, "--token-file", str(again))
    assert done.returncode == 4 and "already enrolled" in done.stderr and "--force" in done.stderr
    forced = t.run(
        "enroll", "--platform", t.platform.base_url, "--token-file", str(again), "--force", "--json"
    )
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["replaced"] == data["terminal_id"]


def test_a_fresh_machine_enrolls_with_design_s_flags_alone(
    tmp_path: Path, platform: ServiceProcess
) -> None:
    """No config yet and no --hall-name: the template's config, enrolled (DESIGN §9's flags; the
    config is this test's, as root's default is not writable here, and a config of its own keeps
    its state beside it)."""
    config, file = tmp_path / "etc" / "kiosk.toml", tmp_path / "token"
    file.write_text(token(platform))
    done = provision("enroll", "--platform", platform.base_url, "--token-file", str(file),
                     "--config", str(config), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["terminal_id"].startswith("T")
    text = config.read_text(encoding="utf-8")
    assert platform.base_url in text and 'hall_name = "政务服务中心"' in text
    key = tmp_path / "etc" / "state" / "terminal.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = provision("--config", str(config), "--json", "status")  # options before the command
    assert before.returncode in (0, 1), before.stderr  # 1: no devices here, not a usage error
    assert json.loads(before.stdout)["enrollment"]["enrolled"] is True
    named = provision("hall-name", "  兰州新区 政务服务中心 ", "--config", str(config))
    assert named.returncode == 0, named.stderr
    assert 'hall_name = "兰州新区 政务服务中心"' in config.read_text(encoding="utf-8")
    for bad in ("", "大厅\x1b[2J", "长" * 41):
        assert provision("hall-name", bad, "--config", str(config)).returncode == 2
    assert 'hall_name = "兰州新区 政务服务中心"' in config.read_text(encoding="utf-8")


def test_used_expired_and_wrong_tokens_are_refused_and_nothing_is_written(
    kiosk_terminal: Terminal, platform: ServiceProcess
) -> None:
    t = kiosk_terminal
    used = t.folder / "used"
    used.write_text(token(platform))
    other = Terminal(
        t.folder / "other",
        t.folder / "other" / "kiosk.toml",
        t.cups,
        t.receipts,
        t.camera,
        platform,
    )
    other.folder.mkdir()
    other.write_config()
    assert (
        other.run("enroll", "--platform", platform.base_url, "--token-file", str(used)).returncode
        == 0
    )
    expired = t.folder / "expired"
    expired.write_text(token(platform))
    with sqlite3.connect(platform.db) as db:  # a token made 8 days ago (they live 7)
        db.execute("UPDATE enrollment_tokens SET expires_at = '2000-01-01 00:00:00.000000+08:00'"
                   " WHERE used_by IS NULL")  # fmt: skip
    wrong = t.folder / "wrong"
    wrong.write_text("not-a-token")
    for file, words in ((used, "used already"), (expired, "expired"), (wrong, "wrong")):
        done = t.run("enroll", "--platform", platform.base_url, "--token-file", str(file))
        assert done.returncode == 3, done.stderr
        assert words in done.stderr
    assert not (t.folder / "state").exists()


def test_an_unreachable_platform_and_a_bad_token_file_say_what_to_do(
    kiosk_terminal: Terminal,
) -> None:
    t = kiosk_terminal
    file = t.folder / "token"
    file.write_text(token(t.platform))
    away = t.run(
        "enroll", "--platform", f"http://127.0.0.1:{free_port()}", "--token-file", str(file)
    )
    assert away.returncode == 5 and "platform unreachable" in away.stderr and "→" in away.stderr
    empty = t.folder / "empty"
    empty.write_text("")
    bad = t.run("enroll", "--platform", t.platform.base_url, "--token-file", str(empty))
    assert bad.returncode == 2 and "empty" in bad.stderr and "Traceback" not in bad.stderr
    before = t.config.read_text()
    plain = t.run("enroll", "--platform", "http://credit.example.gov.cn", "--token-file", str(file))
    assert plain.returncode == 2 and "would not load" in plain.stderr
    assert t.config.read_text() == before and not (t.folder / "state").exists()


def test_devices_set_refuses_what_the_kiosk_would_not_load_and_keeps_comments(
    kiosk_terminal: Terminal,
) -> None:
    t = kiosk_terminal
    before = t.config.read_text()
    bad = t.run("devices", "set", "receipt_printer", "network", "host=10.0.0.9")
    assert bad.returncode == 2 and "escpos-network" in bad.stderr  # the choices are listed
    bad_option = t.run("devices", "set", "id_card", "serial", "port=/dev/ttyUSB0", "baudrate=12345")
    assert bad_option.returncode == 2 and "baudrate" in bad_option.stderr
    assert t.config.read_text() == before
    good = t.run(
        "devices", "set", "receipt_printer", "escpos-network", "host=10.0.0.9", "port=9100"
    )
    assert good.returncode == 0, good.stderr
    text = t.config.read_text()
    assert COMMENT in text and 'host = "10.0.0.9"' in text and "port = 9100" in text


def test_scan_lists_the_cups_queue_and_the_camera_folder_is_not_a_camera(
    kiosk_terminal: Terminal,
) -> None:
    done = kiosk_terminal.run("devices", "scan", "--json", "--quick")
    found = json.loads(done.stdout)
    assert any(f["kind"] == "a4_printer" and f["device"] == "KioskA4" for f in found)
    table = kiosk_terminal.run("devices", "scan", "--quick")
    assert (
        "类别 kind" in table.stdout and "devices set a4_printer cups queue=KioskA4" in table.stdout
    )


def test_staff_pin_is_stored_hashed_where_the_kiosk_reads_it(kiosk_terminal: Terminal) -> None:
    t = kiosk_terminal
    short = t.run("staff-pin", "set", "--pin-stdin", stdin="123\n")
    assert short.returncode == 2 and "6 to 12 digits" in short.stderr
    done = t.run("staff-pin", "set", stdin="24681357\n")  # piped: read as --pin-stdin would
    assert done.returncode == 0, done.stderr
    pin_file = t.folder / "staff.pin"
    assert "24681357" not in pin_file.read_text() and COMMENT in t.config.read_text()
    assert StaffLock(pin_file).check("24681357") and not StaffLock(pin_file).check("11111111")
