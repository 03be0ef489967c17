"""`setup`: the whole path for a technician who does it once a month. It asks, shows the default in
brackets, and runs the same functions as the single commands: enroll → devices → A4 queue →
self-test → staff PIN → install. Each step can be skipped; Ctrl-C stops without half-writes (every
step writes only when it has succeeded)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from kiosk.config import DEVICE_KINDS

from . import install, printers, scan, selftest, terminal
from .configfile import ConfigFile
from .errors import Exit, ProvisionError
from .output import Progress, table


class Wizard:
    def __init__(self, args: argparse.Namespace) -> None:
        if not sys.stdin.isatty():
            raise ProvisionError(
                "setup asks questions and needs a terminal",
                "run it on the terminal's console or over ssh -t; scripts use the single commands",
                Exit.USAGE,
            )
        self.args = args
        self.path: Path = args.config
        self.done: list[tuple[str, str]] = []

    def ask(self, question: str, default: str = "") -> str:
        shown = f" [{default}]" if default else ""
        answer = input(f"{question}{shown}: ").strip()
        return answer or default

    def yes(self, question: str, default: bool = True) -> bool:
        answer = self.ask(question + (" (Y/n)" if default else " (y/N)")).lower()
        return default if not answer else answer in ("y", "yes", "是")

    def step(self, title: str) -> None:
        print(f"\n== {title} ==")

    def attempt(self, name: str, action: Any) -> Any:
        """Run a step; a refusal is shown and the technician may retry or skip."""
        while True:
            try:
                result = action()
            except ProvisionError as exc:
                print(f"✗ {exc.message}\n  → {exc.step}")
                if self.yes("再试一次 try again?", default=True):
                    continue
                self.done.append((name, "skipped: " + exc.message[:60]))
                return None
            self.done.append((name, "ok"))
            return result

    def run(self) -> tuple[Any, str, Exit]:
        print("终端配置向导 kiosk set-up. Enter keeps the value in brackets.")
        self.enroll()
        cf = ConfigFile.load(self.path)
        self.devices(cf)
        self.printer(cf)
        self.self_test()
        self.pin()
        self.install()
        summary = table(("步骤 step", "结果 result"), self.done)
        failed = any(r != "ok" for _, r in self.done)
        return {"steps": dict(self.done)}, "\n" + summary, Exit.CHECK_FAILED if failed else Exit.OK

    def enroll(self) -> None:
        self.step("1/6 注册 enroll")
        if self.path.exists():
            found = terminal.describe_enrollment(ConfigFile.load(self.path).check())
            if found.get("enrolled"):
                print(f"已注册 enrolled as {found['terminal_id']} (hall {found['hall_id']})")
                if not self.yes("重新注册 enroll again?", default=False):
                    self.done.append(("enroll", "ok (kept)"))
                    return
        url = self.ask("平台地址 platform URL", "https://")
        token = Path(self.ask("令牌文件 token file", "enrollment.token"))
        hall = None if self.path.exists() else self.ask("大厅名称 hall name (on receipts)")
        state = (
            None
            if self.path.exists()
            else Path(self.ask("状态目录 state folder", "/var/lib/credit-kiosk"))
        )
        data = self.attempt(
            "enroll",
            lambda: terminal.enroll(
                self.path, url, token, hall_name=hall, state_dir=state, force=self.path.exists()
            ),
        )
        if data:
            print(f"✓ terminal {data['terminal_id']} enrolled in hall {data['hall_id']}")
        if not self.path.exists():
            raise ProvisionError("no config was written", "run setup again", Exit.USAGE)

    def devices(self, cf: ConfigFile) -> None:
        self.step("2/6 设备 devices")
        found = scan.serial_ports() + scan.cameras() + scan.usb_printers()
        if found:
            print(
                table(
                    ("类别 kind", "设备 device", "说明"),
                    [(f.kind, f.device, f.description) for f in found],
                )
            )
        for kind in DEVICE_KINDS:
            current = dict(cf.table(f"devices.{kind}"))
            shown = " ".join(
                [str(current.get("backend", ""))]
                + [f"{k}={v}" for k, v in current.items() if k != "backend"]
            )
            answer = self.ask(f"{kind}: BACKEND KEY=VALUE…", shown)
            if answer == shown:
                continue
            backend, *options = answer.split()
            self.attempt(
                f"devices {kind}",
                lambda b=backend, o=options, k=kind: terminal.set_device(cf, k, b, o),
            )

    def printer(self, cf: ConfigFile) -> None:
        self.step("3/6 A4打印机 A4 printer (CUPS)")
        uri = self.ask("打印机地址 printer URI (empty: keep the configured queue)")
        if not uri:
            return
        ppd = self.ask("PPD file (empty: driverless IPP Everywhere)")
        self.attempt(
            "printer add-a4",
            lambda: printers.add_a4_queue(cf, uri, ppd=Path(ppd) if ppd else None),
        )

    def self_test(self) -> None:
        self.step("4/6 自检 self-test")
        print(
            "把测试证件放在读卡器上 put a test card on the reader; the test receipt's QR to the camera"
        )
        config = ConfigFile.load(self.path).check()
        options = selftest.Options(print_pages=self.yes("打印测试页 print test pages?"), wait_s=5.0)
        report = selftest.run_self_test(config, options, Progress())
        selftest.save_report(config, report)
        for r in report.results:
            print(
                f"{'✓' if r.outcome == 'pass' else '!' if r.outcome == 'warn' else '✗'} {r.label}: {r.summary}"
            )
            if r.step:
                print(f"    → {r.step}")
        self.done.append(("self-test", "ok" if report.ok else "faults found"))

    def pin(self) -> None:
        self.step("5/6 工作人员PIN staff PIN")
        if not self.yes("设置 set the staff PIN now?"):
            return

        def set_pin() -> Path:
            pin = getpass.getpass("新PIN new PIN (6-12 digits): ")
            if getpass.getpass("再输入一次 again: ") != pin:
                raise ProvisionError("the two PINs differ", "type the same PIN twice")
            return terminal.set_staff_pin(ConfigFile.load(self.path), pin)

        self.attempt("staff-pin", set_pin)

    def install(self) -> None:
        self.step("6/6 安装 install (user, systemd unit, udev, journald)")
        root: Path | None = self.args.root
        where = f"into {root}" if root else "into this machine (/)"
        if not self.yes(f"安装 install {where}?", default=root is not None):
            return
        config = ConfigFile.load(self.path).check()
        data = self.attempt(
            "install", lambda: install.install(self.path, config.state_dir, root=root)
        )
        if data:
            print(
                f"✓ {len(data['files'])} files; systemd-analyze verify: {data['verify']['output']}"
            )
