"""`kiosk-provision`: the technician's command line (DESIGN §9, docs/provisioning.md).

Each command is a function taking the parsed arguments and returning (data, text): `--json` prints
the data, otherwise the text. Refusals are ProvisionError, printed as two lines (what, next step)
with the exit status of their kind (errors.Exit); nothing else escapes as a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from devices.errors import DeviceError
from kiosk.errors import KioskError
from offline_cache import OfflineCacheError

from . import diagnostics, install, printers, scan, selftest, terminal, wipe
from .configfile import DEFAULT_CONFIG, ConfigFile
from .errors import EXIT_MEANINGS, Exit, ProvisionError
from .output import Progress, emit_json, pairs, table

Result = tuple[Any, str, Exit]
OUTCOME = {"pass": "通过 pass", "warn": "注意 warn", "fail": "失败 FAIL"}


def _config(args: argparse.Namespace) -> ConfigFile:
    return ConfigFile.load(args.config)


def cmd_enroll(args: argparse.Namespace) -> Result:
    with Progress(enabled=not args.json).step("注册终端 enrolling with the platform"):
        data = terminal.enroll(
            args.config, args.platform, args.token_file, ca_bundle=args.ca_bundle,
            hall_name=args.hall_name, state_dir=args.state_dir, force=args.force,
        )  # fmt: skip
    text = pairs(
        [
            ("终端编号 terminal", data["terminal_id"]),
            ("大厅 hall", data["hall_id"]),
            ("地区 region", data["region"]),
            ("平台 platform", data["platform"]),
            ("密钥 key (0600)", data["key_file"]),
            ("配置 config", data["config"]),
        ]
    )
    return data, "已注册 enrolled\n" + text, Exit.OK


def cmd_devices_scan(args: argparse.Namespace) -> Result:
    env = dict(os.environ)
    if args.config.exists():
        a4 = ConfigFile.load(args.config).table("devices.a4_printer")
        env = printers.cups_env(dict(a4))
    with Progress(enabled=not args.json).step("查找设备 scanning (lpinfo can take 10-30 s)"):
        found = [
            *scan.serial_ports(), *scan.cameras(), *scan.usb_printers(), *scan.cups_queues(env),
            *([] if args.quick else scan.cups_devices(env)), *scan.probe_printers(args.probe),
        ]  # fmt: skip
    rows = [(f.kind, f.device, f.description, f.suggestion) for f in found]
    text = table(("类别 kind", "设备 device", "说明 description", "设置 set with"), rows)
    # finding nothing is an answer, not a failure: the JSON list is empty and the status 0
    return [f.as_dict() for f in found], text if found else "未找到设备 no devices found", Exit.OK


def cmd_devices_set(args: argparse.Namespace) -> Result:
    data = terminal.set_device(_config(args), args.kind, args.backend, args.options)
    text = f"已保存 saved [devices.{args.kind}] backend = {args.backend}"
    return data, text + (f"\n注意 note: {data['note']}" if data["note"] else ""), Exit.OK


def cmd_hall_name(args: argparse.Namespace) -> Result:
    data = terminal.set_hall_name(_config(args), args.name)
    text = (f"已保存 saved terminal.hall_name = {data['hall_name']} (the app uses it from its next "
            "start: `systemctl restart credit-kiosk` or the dashboard's 重启程序)")  # fmt: skip
    return data, text, Exit.OK


def cmd_printer_add(args: argparse.Namespace) -> Result:
    cf = _config(args)
    with Progress(enabled=not args.json).step("添加A4打印队列 adding the A4 queue"):
        added = printers.add_a4_queue(cf, args.uri, args.queue, ppd=args.ppd, model=args.model)
    text = pairs(
        [
            ("队列 queue", added.queue),
            ("地址 URI", added.uri),
            ("驱动 driver", added.driver),
            ("型号 model", added.make_and_model),
            ("纸张 paper", "A4"),
        ]
    )
    if added.driver.startswith(printers.GENERIC_DRIVER):  # CUPS cannot tell if the printer reads it
        text += (
            "\n注意 note: 通用PostScript驱动 a generic PostScript driver; print a test page "
            "(`kiosk-provision self-test --only a4_printer`) and look at it: text or a blank page "
            "means this printer needs its vendor's PPD (--ppd FILE)"
        )
    return added.as_dict(), "已添加 added\n" + text, Exit.OK


def cmd_self_test(args: argparse.Namespace) -> Result:
    cf = _config(args)
    config = cf.check()
    options = selftest.Options(
        print_pages=not args.no_print, strict=args.strict, wait_s=args.wait,
        min_free_mb=args.min_free_mb, only=tuple(args.only or ()),
    )  # fmt: skip
    report = selftest.run_self_test(config, options, Progress(enabled=not args.json))
    selftest.save_report(config, report)
    rows = [(OUTCOME[r.outcome], r.label, r.summary) for r in report.results]
    lines = [table(("结果 result", "项目 check", "情况 finding"), rows)]
    for r in report.results:
        if r.outcome != "pass":
            lines.append(f"→ {r.label}: {r.step}")
    counts = report.as_dict()["counts"]
    lines.append(
        f"通过 {counts['pass']} pass, 注意 {counts['warn']} warn, 失败 {counts['fail']} fail"
    )
    return report.as_dict(), "\n".join(lines), Exit.OK if report.ok else Exit.CHECK_FAILED


def cmd_diagnostics(args: argparse.Namespace) -> Result:
    cf = _config(args)
    config = cf.check()
    with Progress(enabled=not args.json).step("收集诊断信息 collecting diagnostics"):
        states = None if args.device_states is None else json.loads(args.device_states.read_text())
        members, redacted = diagnostics.collect(cf, config, device_states=states)
        data = diagnostics.write_bundle(args.out, members, redacted, config.hall_name)
    found = ", ".join(f"{k} ×{n}" for k, n in sorted(redacted.items())) or "none"
    text = f"已写入 written {data['out']} ({data['bytes']} bytes, {len(data['members'])} files)\n"
    return data, text + f"已脱敏 redacted: {found}\n{data['scan']}", Exit.OK


def cmd_staff_pin(args: argparse.Namespace) -> Result:
    if args.pin_stdin or not sys.stdin.isatty():  # piped in: one line, as `staff add` reads
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass("新PIN new staff PIN (6-12 digits): ")
        if getpass.getpass("再输入一次 again: ") != pin:
            raise ProvisionError("the two PINs differ", "run the command again")
    path = terminal.set_staff_pin(_config(args), pin)
    return {"staff_pin_file": str(path)}, f"已保存 saved (PBKDF2 hash) in {path}", Exit.OK


def cmd_wipe(args: argparse.Namespace) -> Result:
    config = _config(args).check()
    if not args.yes and sys.stdin.isatty():
        answer = input(
            "擦除本终端的密钥、队列和日志 erase this terminal's keys, queue and logs? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            raise ProvisionError("not wiped", "nothing was changed", Exit.NOTHING_TO_DO)
    with Progress(enabled=not args.json).step("擦除 wiping"):
        data = wipe.wipe(config, discard_queue=args.discard_queue, offline=args.offline)
    record = data["erasure_record"]
    rows = [(d["path"], str(d["bytes"])) for d in record["destroyed"]]
    who = record["terminal"]
    text = "\n".join(
        [
            "擦除记录 erasure record",
            pairs(
                [
                    ("时间 at", record["at"]),
                    ("主机 host", record["host"]),
                    ("操作人 operator", record["operator"]),
                    ("终端 terminal", str(who.get("terminal_id", "-"))),
                    (
                        "平台已停用 revoked",
                        "yes" if who.get("revoked") else f"NO: {who.get('note')}",
                    ),
                    ("日志 journal", record["journal"]),
                    ("方法 method", record["method"]),
                ]
            ),
            table(("已销毁文件 destroyed", "字节 bytes"), rows),
        ]
    )
    return data, text, Exit.OK


def cmd_install(args: argparse.Namespace) -> Result:
    state_dir = Path("/var/lib/credit-kiosk")
    if args.config.exists():
        state_dir = ConfigFile.load(args.config).check().state_dir
    if args.root is None and os.geteuid() != 0:
        raise ProvisionError(
            "install writes system files", "run it as root (sudo), or with --root DIR"
        )
    with Progress(enabled=not args.json).step("写入系统文件 writing the system files"):
        data = install.install(
            args.config, state_dir, root=args.root, id_card=args.id_card_usb,
            camera=args.camera_usb, receipt=args.receipt_usb,
        )  # fmt: skip
    lines = ["已写入 written:", *[f"  {f}" for f in data["files"]]]
    lines += [f"{'✓' if s['ok'] else '✗'} {s['command']}" for s in data["steps"]]
    lines.append(
        f"systemd-analyze verify: {data['verify']['output'] if data['verify'] else 'skipped'}"
    )
    return data, "\n".join(lines), Exit.OK


def cmd_status(args: argparse.Namespace) -> Result:
    from .status import status

    data = status(_config(args))
    return data, data.pop("_text"), Exit.OK if data["ok"] else Exit.CHECK_FAILED


def cmd_setup(args: argparse.Namespace) -> Result:
    from .wizard import Wizard

    return Wizard(args).run()


def parser() -> argparse.ArgumentParser:
    epilog = "exit status: " + "; ".join(f"{int(k)} {v}" for k, v in EXIT_MEANINGS.items())
    p = argparse.ArgumentParser(
        prog="kiosk-provision",
        description="Provision a credit-report kiosk terminal.",
        epilog=epilog,
    )
    # --config and --json before or after the subcommand: the parent's copies leave the
    # top-level values alone unless given
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help=argparse.SUPPRESS)
    p.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help=f"the kiosk's config (default {DEFAULT_CONFIG})",
    )
    common.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help="print JSON, not a table"
    )
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("enroll", parents=[common], help="enroll this terminal with the platform")
    e.add_argument("--platform", required=True, help="the platform's URL (https://...)")
    e.add_argument("--token-file", required=True, type=Path, help="file holding the one-time token")
    e.add_argument("--ca-bundle", type=Path, help="CA certificate(s) for the platform's TLS")
    e.add_argument("--hall-name", help="the hall's name on receipts (a new config: 政务服务中心)")
    e.add_argument(
        "--state-dir",
        type=Path,
        help="where key, enrollment and queue live (a new config; default /var/lib/credit-kiosk, "
        "or state/ beside a --config of its own)",
    )
    e.add_argument("--force", action="store_true", help="enroll again: new key, new terminal id")
    e.set_defaults(run=cmd_enroll)

    d = sub.add_parser("devices", help="find devices; choose one").add_subparsers(
        dest="action", required=True
    )
    ds = d.add_parser("scan", parents=[common], help="list serial ports, cameras, printers")
    ds.add_argument(
        "--probe",
        action="append",
        default=[],
        metavar="HOST[:PORT] | PATH[@BAUD]",
        help="ask an ESC/POS printer on the network, or on a serial port (/dev/ttyUSB1@9600)",
    )
    ds.add_argument("--quick", action="store_true", help="skip lpinfo (it can take 30 s)")
    ds.set_defaults(run=cmd_devices_scan)
    dset = d.add_parser("set", parents=[common], help="write a device's backend and options")
    dset.add_argument("kind", help="id_card, qr_camera, a4_printer or receipt_printer")
    dset.add_argument("backend", help="e.g. serial, camera, cups, escpos-network")
    dset.add_argument("options", nargs="*", metavar="KEY=VALUE", help="backend options")
    dset.set_defaults(run=cmd_devices_set)

    hn = sub.add_parser("hall-name", parents=[common], help="the hall's name on receipts")
    hn.add_argument("name", help="e.g. 兰州新区政务服务中心")
    hn.set_defaults(run=cmd_hall_name)
    pr = sub.add_parser("printer", help="CUPS queues").add_subparsers(dest="action", required=True)
    pa = pr.add_parser("add-a4", parents=[common], help="add the A4 queue through lpadmin")
    pa.add_argument("--uri", required=True, help="the printer's URI (devices scan lists them)")
    pa.add_argument("--queue", default="KioskA4", help="queue name (default KioskA4)")
    drv = pa.add_mutually_exclusive_group()
    drv.add_argument("--ppd", type=Path, help="the printer's PPD file (when it is not driverless)")
    drv.add_argument("--model", help="a CUPS model name from `lpinfo -m`")
    pa.set_defaults(run=cmd_printer_add)

    st = sub.add_parser("self-test", parents=[common], help="test every device for real")
    st.add_argument(
        "--only",
        action="append",
        choices=selftest.CHECK_KEYS,
        help="run only this check (repeatable)",
    )
    st.add_argument("--no-print", action="store_true", help="no A4 test page, no test receipt")
    st.add_argument(
        "--strict", action="store_true", help="no card / no test QR fails instead of warns"
    )
    st.add_argument(
        "--wait", type=float, default=0.0, help="seconds to wait for a card and the test QR"
    )
    st.add_argument(
        "--min-free-mb", type=int, default=500, help="disk space below this fails (default 500)"
    )
    st.set_defaults(run=cmd_self_test)

    dg = sub.add_parser("diagnostics", parents=[common], help="write a redacted tar.gz for support")
    dg.add_argument("--out", required=True, type=Path, help="the .tar.gz to write")
    dg.add_argument(
        "--device-states", type=Path, help="a JSON file of device states (the running kiosk's)"
    )
    dg.set_defaults(run=cmd_diagnostics)

    sp = sub.add_parser("staff-pin", help="the staff screen's PIN").add_subparsers(
        dest="action", required=True
    )
    sps = sp.add_parser("set", parents=[common], help="set the PIN (asked twice, stored hashed)")
    sps.add_argument("--pin-stdin", action="store_true", help="read the PIN from standard input")
    sps.set_defaults(run=cmd_staff_pin)

    w = sub.add_parser(
        "wipe", parents=[common], help="decommission: revoke, destroy keys, queue, logs"
    )
    w.add_argument("--discard-queue", action="store_true", help="destroy undelivered requests too")
    w.add_argument("--offline", action="store_true", help="wipe without reaching the platform")
    w.add_argument("--yes", action="store_true", help="do not ask")
    w.set_defaults(run=cmd_wipe)

    i = sub.add_parser("install", parents=[common], help="kiosk user, systemd unit, udev, journald")
    i.add_argument("--root", type=Path, help="write into this staging tree instead of /")
    i.add_argument("--id-card-usb", metavar="VID:PID", help="the card reader's USB id")
    i.add_argument("--camera-usb", metavar="VID:PID", help="the camera's USB id")
    i.add_argument("--receipt-usb", metavar="VID:PID", help="the receipt printer's USB id")
    i.set_defaults(run=cmd_install)

    s = sub.add_parser("status", parents=[common], help="enrollment, devices, queue, services")
    s.set_defaults(run=cmd_status)

    su = sub.add_parser(
        "setup", parents=[common], help="interactive: enroll → devices → … → install"
    )
    su.add_argument("--root", type=Path, help="install into this staging tree")
    su.set_defaults(run=cmd_setup)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse: 0 for --help, 2 for usage
        return int(exc.code or 0)
    run: Callable[[argparse.Namespace], Result] = args.run
    try:
        data, text, status = run(args)
    except ProvisionError as exc:
        return _refuse(args, exc)
    except (KioskError, DeviceError, OfflineCacheError) as exc:  # one family at the boundary
        return _refuse(
            args, ProvisionError(str(exc), "see docs/provisioning.md", Exit.CHECK_FAILED)
        )
    except OSError as exc:
        return _refuse(
            args,
            ProvisionError(
                f"{exc.filename or ''}: {exc.strerror}", "check the path and permissions"
            ),
        )
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return int(Exit.USAGE)
    if args.json:
        emit_json(data)
    else:
        print(text)
    return int(status)


def _refuse(args: argparse.Namespace, exc: ProvisionError) -> int:
    if getattr(args, "json", False):
        emit_json(exc.as_dict())
    print(f"kiosk-provision: {exc.message}", file=sys.stderr)
    if exc.step:
        print(f"  → {exc.step}", file=sys.stderr)
    return int(exc.exit)


if __name__ == "__main__":
    sys.exit(main())
