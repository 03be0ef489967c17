"""`install --root` (checked by systemd-analyze verify), the kiosk feeding systemd's watchdog, the
interactive `setup` through a pseudo-terminal, and each extra installed into a fresh environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.sd_notify import Notifier

from .platform_client import ROOT
from .provision_support import Terminal, provision, token


def test_install_into_a_staging_root_is_accepted_by_systemd_analyze(
    kiosk_terminal: Terminal, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    done = kiosk_terminal.run(
        "install", "--root", str(root), "--id-card-usb", "1a86:7523", "--json"
    )
    assert done.returncode == 0, done.stderr
    unit = (root / "etc/systemd/system/credit-kiosk.service").read_text()
    for line in (
        "Restart=always",
        "WatchdogSec=30",
        "Type=notify",
        "NotifyAccess=all",
        "TTYPath=/dev/tty1",
        "User=kiosk",
    ):
        assert line in unit
    assert "/usr/bin/cage -d -- " in unit and str(kiosk_terminal.config) in unit
    verify = subprocess.run(["systemd-analyze", "verify", str(root / "etc/systemd/system/credit-kiosk.service")],
                            capture_output=True, text=True)  # fmt: skip
    assert "credit-kiosk.service" not in verify.stdout + verify.stderr, verify.stderr
    assert "kiosk:" in (root / "etc/passwd").read_text()  # sysusers resolved in the tree only
    rules = (root / "etc/udev/rules.d/70-credit-kiosk.rules").read_text()
    assert 'ATTRS{idVendor}=="1a86"' in rules and 'SYMLINK+="kiosk-idcard"' in rules
    assert "SystemMaxUse=" in (root / "etc/systemd/journald.conf.d/credit-kiosk.conf").read_text()
    bad = kiosk_terminal.run("install", "--root", str(root), "--camera-usb", "webcam")
    assert bad.returncode == 2 and "not a USB id" in bad.stderr


def test_sd_notify_sends_ready_and_watchdog_to_the_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(2)
        notifier = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "30000000"})
        assert notifier.watchdog_s == 15.0
        assert notifier.ready() and notifier.feed()
        assert server.recv(100).startswith(b"READY=1") and server.recv(100) == b"WATCHDOG=1"
    assert not Notifier({}).feed()  # outside systemd: nothing, no error


def test_the_running_kiosk_is_ready_then_feeds_the_watchdog(
    kiosk_terminal: Terminal, tmp_path: Path
) -> None:
    kiosk_terminal.enroll()
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(90)
        env = {**os.environ, "NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "1000000"}
        env.pop("DISPLAY", None)
        proc = subprocess.Popen([str(Path(sys.executable).parent / "kiosk"), "run", "--config", str(kiosk_terminal.config)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            messages = [server.recv(200) for _ in range(3)]
            assert messages[0].startswith(b"READY=1") and messages[1:] == [b"WATCHDOG=1"] * 2
            proc.send_signal(signal.SIGSTOP)  # a hung kiosk: no more feeding
            server.settimeout(2)
            with pytest.raises(TimeoutError):
                server.recv(200)
        finally:
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
            proc.wait(timeout=20)


def test_setup_walks_a_technician_through_from_a_pseudo_terminal(
    kiosk_terminal: Terminal, tmp_path: Path
) -> None:
    import pexpect

    t = kiosk_terminal
    file = tmp_path / "token"
    file.write_text(token(t.platform))
    child = pexpect.spawn(sys.executable, ["-m", "provisioning", "setup", "--config", str(t.config),
                          "--root", str(tmp_path / "root")], cwd=str(ROOT), timeout=120, encoding="utf-8")  # fmt: skip
    child.expect("platform URL")
    child.sendline(t.platform.base_url)
    child.expect("token file")
    child.sendline(str(file))
    child.expect("enrolled in hall")
    for _ in range(4):  # keep each device as configured
        child.expect("KEY=VALUE")
        child.sendline("")
    child.expect("printer URI")
    child.sendline("")
    child.expect("print test pages")
    child.sendline("n")
    child.expect("set the staff PIN now")
    child.sendline("y")
    child.expect("new PIN")
    child.sendline("13572468")
    child.expect("again")
    child.sendline("13572468")
    child.expect("install into")
    child.sendline("y")
    child.expect("systemd-analyze verify")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert (t.folder / "state" / "terminal.key").exists() and (t.folder / "staff.pin").exists()
    assert (tmp_path / "root/etc/systemd/system/credit-kiosk.service").exists()
    assert provision("setup", "--config", str(t.config), stdin="").returncode == 2  # no terminal


@pytest.mark.slow
@pytest.mark.packaging
@pytest.mark.parametrize(
    ("extra", "commands", "absent"),
    [("platform", ["report-service"], "kivy"), ("kiosk", ["kiosk", "kiosk-provision"], "fastapi")],
)
def test_each_extra_installs_alone_and_its_commands_run(
    tmp_path: Path, extra: str, commands: list[str], absent: str
) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    done = subprocess.run(  # the project's own pip, from the local wheel cache
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", f"{ROOT}[{extra}]"],
        capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    for command in commands:
        helped = subprocess.run(
            [str(venv / "bin" / command), "--help"], capture_output=True, text=True, timeout=120
        )
        assert helped.returncode == 0 and "usage" in helped.stdout, helped.stderr
    assert (
        subprocess.run([str(python), "-c", f"import {absent}"], capture_output=True).returncode != 0
    )
    if extra == "platform":
        from .platform_client import free_port

        port = free_port()
        db = tmp_path / "p.db"
        server = subprocess.Popen([str(venv / "bin/report-service"), "serve", "--db", str(db), "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            import httpx

            deadline = time.monotonic() + 60
            while True:
                try:
                    assert (
                        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()["status"]
                        == "ok"
                    )
                    break
                except httpx.HTTPError:
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
        finally:
            server.terminate()
            server.wait(timeout=10)
