"""The receipt printer end to end: real python-escpos printers over a real TCP socket to the simulator,
a real pseudo-terminal for serial, a real file; status, faults, reconnect, self-test, PNG preview."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import pty
import signal
import socket
import tty
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import zxingcpp
from escpos.printer import Network
from PIL import Image

from devices.errors import ConfigError, DeviceOffline, DeviceTimeout, DriverMissing, HardwareError
from devices.receipt.backends import file_printer, network_printer, serial_printer, usb_printer
from devices.receipt.decoded import Line
from devices.receipt.decoder import decode
from devices.receipt.device import ReceiptPrinter
from devices.receipt.layout import LayoutOptions, build_receipt
from devices.receipt.model import Receipt
from devices.receipt.preview import CELL_H, CELL_W, LINE_GAP, MARGIN, render_png
from devices.receipt.simulator import ReceiptSimulator, SimulatorSettings
from devices.registry import create
from devices.state import DeviceState, PaperState
from kiosk.receipts import pickup_receipt, report_receipt

URL = "https://verify.example.cn/r/GS-2025-000123?c=7KQ4M2XD"
STATUS_QUERIES = (b"\x10\x04\x01", b"\x10\x04\x02", b"\x10\x04\x03", b"\x10\x04\x04")


def receipt() -> Receipt:
    return report_receipt(
        "甘肃省示范科技发展有限公司",
        "GS-2025-000123",
        "7KQ4-M2XD",
        "2025-03-01 09:30",
        "KIOSK-07",
        "兰州市政务服务中心",
        URL,
    )


@pytest.fixture
def sim() -> Iterator[ReceiptSimulator]:
    with ReceiptSimulator(settings=SimulatorSettings(paper_mm=58)) as simulator:
        yield simulator


def printer(sim: ReceiptSimulator, **options: Any) -> ReceiptPrinter:
    config = {"host": "127.0.0.1", "port": sim.port, "paper_mm": 58, "timeout_s": 2.0}
    config.update(supports_paper_status=True)
    config.update(options)
    device: ReceiptPrinter = create("receipt_printer", "sim", config)
    return device


def only_status_queries(raw: bytes) -> bool:
    for query in STATUS_QUERIES:
        raw = raw.replace(query, b"")
    return raw == b""


def test_receipt_arrives_decoded_at_the_simulator(sim: ReceiptSimulator) -> None:
    device = printer(sim)
    device.print_receipt(receipt())
    (printed,) = sim.wait_for_receipts(1)
    assert printed.texts[0] == "信用报告打印凭证"
    assert "报告编号：GS-2025-000123" in printed.texts and "核验码：7KQ4-M2XD" in printed.texts
    assert printed.qr_payloads == [URL] and printed.cut == "full"
    assert (
        sim.raw.count(build_receipt(receipt(), LayoutOptions(paper_mm=58))) == 1
    )  # the exact bytes, sent once
    device.close()


def test_a_long_running_simulator_keeps_nothing_it_was_told_to_forget(
    sim: ReceiptSimulator,
) -> None:
    """The memory benchmark's rig: receipts and bytes dropped; the next receipt decodes as usual
    on the same connection."""
    device = printer(sim)
    device.print_receipt(receipt())
    sim.wait_for_receipts(1)
    sim.forget()
    assert sim.receipts == [] and sim.raw == b""
    device.print_receipt(receipt())
    (printed,) = sim.wait_for_receipts(1)
    assert printed.qr_payloads == [URL] and len(sim.raw) > 100
    device.close()


def test_printer_paper_width_decides_the_layout(sim: ReceiptSimulator) -> None:
    device = printer(sim, paper_mm=80)
    device.print_receipt(receipt())
    (printed,) = sim.wait_for_receipts(1)
    assert "企业名称：甘肃省示范科技发展有限公司" in printed.texts  # 48 columns: no wrap
    device.close()


def test_status_reports_paper_and_cover_from_dle_eot(sim: ReceiptSimulator) -> None:
    device = printer(sim)
    status = device.status()
    assert (status.state, status.paper) == (DeviceState.ONLINE, PaperState.FULL)
    sim.settings.paper = "low"
    status = device.status()
    assert (status.state, status.paper, status.detail) == (
        DeviceState.ONLINE,
        PaperState.LOW,
        "paper near end",
    )
    sim.settings.paper = "out"
    status = device.status()
    assert (status.state, status.paper, status.error_code) == (
        DeviceState.HARDWARE_ERROR,
        PaperState.OUT,
        "receipt.paper_out",
    )
    assert not status.usable
    sim.settings.paper, sim.settings.cover_open = "full", True
    status = device.status()
    assert (status.cover_open, status.error_code) == (True, "receipt.cover_open")
    sim.settings.cover_open, sim.settings.cutter_error = False, True
    assert device.status().error_code == "receipt.cutter_error"
    device.close()


def test_python_escpos_paper_status_reads_the_simulator(sim: ReceiptSimulator) -> None:
    for paper, expected in (("full", 2), ("low", 1), ("out", 0)):
        sim.settings.paper = paper  # type: ignore[assignment]
        plain = Network("127.0.0.1", port=sim.port, timeout=2)
        assert plain.paper_status() == expected
        assert plain.is_online() is (paper != "out")
        plain.close()


def test_paper_out_stops_the_job_before_any_byte_is_sent(sim: ReceiptSimulator) -> None:
    sim.settings.paper = "out"
    device = printer(sim)
    with pytest.raises(HardwareError) as caught:
        device.print_receipt(receipt())
    assert caught.value.code == "receipt.paper_out"
    assert only_status_queries(sim.raw) and sim.raw  # it asked, then sent nothing
    sim.settings.paper = "full"
    device.print_receipt(receipt())  # refilled: prints again
    assert len(sim.wait_for_receipts(1)) == 1
    device.close()


def test_paper_running_out_shows_in_status_and_blocks_the_next_job(sim: ReceiptSimulator) -> None:
    sim.settings.paper_runs_out_after = 1
    device = printer(sim)
    device.print_receipt(receipt())
    assert device.status().paper is PaperState.OUT
    with pytest.raises(HardwareError):
        device.print_receipt(receipt())
    assert len(sim.receipts) == 1 and sim.unprinted == []
    device.close()


def test_reconnects_after_power_cycle_between_jobs(sim: ReceiptSimulator) -> None:
    device = printer(sim)
    device.print_receipt(receipt())
    sim.power_cycle()
    device.print_receipt(receipt())
    assert len(sim.wait_for_receipts(2)) == 2
    assert device.reconnects == 1 and sim.connections_accepted == 2
    device.close()


def test_reconnects_after_power_cycle_without_status_support(sim: ReceiptSimulator) -> None:
    """python-escpos alone sends the next job into the dead socket; the link notices the reset."""
    device = printer(sim, supports_paper_status=False)
    device.print_receipt(receipt())
    sim.wait_for_receipts(1)
    sim.power_cycle()
    device.print_receipt(receipt())
    assert len(sim.wait_for_receipts(2)) == 2 and device.reconnects == 1
    device.close()


def test_power_cycle_in_the_middle_of_a_job_resends_it_once(sim: ReceiptSimulator) -> None:
    device = printer(sim)
    device.status()  # connected; the pre-job check below is DLE EOT 1 + DLE EOT 4 = 6 bytes
    sim.settings.drop_after_bytes = 6 + 100
    device.print_receipt(receipt())
    (printed,) = sim.wait_for_receipts(1)
    assert printed.qr_payloads == [URL]
    job = build_receipt(receipt(), LayoutOptions(paper_mm=58))
    assert sim.raw.count(job[:100]) == 2 and sim.raw.count(job) == 1  # cut off, then whole
    assert device.reconnects == 1 and sim.connections_accepted == 2
    device.close()


def test_power_cycle_mid_job_without_status_support_is_caught_by_the_reset(
    sim: ReceiptSimulator,
) -> None:
    device = printer(sim, supports_paper_status=False, reset_check_s=0.5)
    device.status()  # connected, no bytes sent
    sim.settings.drop_after_bytes = 100
    device.print_receipt(receipt())
    assert len(sim.wait_for_receipts(1)) == 1 and device.reconnects == 1
    device.close()


def test_switched_off_printer_is_offline_with_stable_code(sim: ReceiptSimulator) -> None:
    device = printer(sim)
    assert device.status().state is DeviceState.ONLINE
    sim.set_refusing(True)
    status = device.status()
    assert (status.state, status.error_code) == (DeviceState.OFFLINE, "receipt.unreachable")
    with pytest.raises(DeviceOffline) as caught:
        device.print_receipt(receipt())
    assert caught.value.code == "receipt.unreachable"
    sim.set_refusing(False)
    device.print_receipt(receipt())  # back on: no restart of the kiosk needed
    assert len(sim.wait_for_receipts(1)) == 1
    device.close()


def test_closed_port_is_offline_for_plain_network_config() -> None:
    with ReceiptSimulator() as gone:
        port = gone.port
    device = network_printer({"host": "127.0.0.1", "port": port, "timeout_s": 1})
    assert device.status().error_code == "receipt.unreachable"
    with pytest.raises(DeviceOffline):
        device.print_receipt(receipt())


def test_silent_printer_times_out_instead_of_hanging(sim: ReceiptSimulator) -> None:
    sim.settings.answers_status = False  # a model without DLE EOT, configured as if it had it
    device = printer(sim, timeout_s=0.3)
    status = device.status()
    assert (status.state, status.error_code) == (DeviceState.OFFLINE, "receipt.no_status_reply")
    with pytest.raises(DeviceTimeout) as caught:
        device.print_receipt(receipt())
    assert caught.value.code == "receipt.no_status_reply" and sim.receipts == []
    device.close()


def test_slow_printer_within_timeout_still_prints(sim: ReceiptSimulator) -> None:
    sim.settings.status_delay_s, sim.settings.read_delay_s = 0.1, 0.02
    device = printer(sim, timeout_s=3.0)
    device.print_receipt(receipt())
    assert len(sim.wait_for_receipts(1)) == 1
    device.close()


def test_without_status_support_paper_is_unknown(sim: ReceiptSimulator) -> None:
    device = printer(sim, supports_paper_status=False)
    status = device.status()
    assert (status.state, status.paper) == (DeviceState.ONLINE, PaperState.UNKNOWN)
    assert sim.status_replies == 0
    device.close()


def test_self_test_prints_only_when_asked(sim: ReceiptSimulator) -> None:
    device = printer(sim)
    result = device.self_test()
    assert result.ok and result.device == "receipt_printer" and sim.receipts == []
    assert any("paper full" in check for check in result.checks)
    assert only_status_queries(sim.raw)
    result = device.self_test(print_page=True)
    assert result.ok and "test receipt sent" in result.checks
    (page,) = sim.wait_for_receipts(1)
    assert page.texts[0] == "打印机自检" and page.qr_payloads == ["SELFTEST"]
    sim.settings.cover_open = True
    result = device.self_test(print_page=True)
    assert not result.ok and result.status.error_code == "receipt.cover_open"
    assert len(sim.receipts) == 1
    device.close()


def test_png_preview_shows_a_readable_qr(sim: ReceiptSimulator, tmp_path: Path) -> None:
    device = printer(sim)
    device.print_receipt(receipt())
    raster = create(
        "receipt_printer",
        "sim",
        {"host": "127.0.0.1", "port": sim.port, "paper_mm": 58, "qr": "raster"},
    )
    raster.print_receipt(receipt())
    native_receipt, raster_receipt = sim.wait_for_receipts(2)
    for printed, name in ((native_receipt, "native.png"), (raster_receipt, "raster.png")):
        path = sim.render_png(printed, tmp_path / name)
        image = Image.open(path)
        assert image.width == 384 + 32  # 58 mm: 384 printable dots plus the drawn margin
        assert [r.text for r in zxingcpp.read_barcodes(image)] == [URL]
        title_band = image.crop((16, 16, image.width - 16, 60)).convert("L")
        darkest, _ = cast(tuple[int, int], title_band.getextrema())  # one band: (min, max)
        assert darkest < 64  # the Chinese title was drawn (not blank)
    device.close()
    raster.close()


def test_simulator_survives_garbage_and_keeps_receipts_while_offline_apart(
    sim: ReceiptSimulator,
) -> None:
    job = build_receipt(receipt(), LayoutOptions(paper_mm=58))
    with socket.create_connection(("127.0.0.1", sim.port), timeout=2) as raw:
        raw.sendall(b"\x1d8L\xff\xff\xff\x7f" + job)  # GS 8 L declaring 2 GB, then a receipt
        assert len(sim.wait_for_receipts(1)) == 1
        sim.settings.cover_open = True
        raw.sendall(job + b"\x10\x04\x01")
        assert raw.recv(1) == bytes([0x12 | 0x08])  # DLE EOT 1: offline bit
    assert len(sim.errors) == 1 and "bad_stream" in sim.errors[0]
    assert len(sim.receipts) == 1 and len(sim.unprinted) == 1


def test_preview_draws_odd_content(tmp_path: Path) -> None:
    stream = decode(
        b"\x1d!\x77BIG\n\x1d(k\x03\x001E3\x1d(k\xa3\x0f1P0"
        + b"x" * 4000  # more than a QR holds at level H: drawn as a crossed box
        + b"\x1d(k\x03\x001Q0\x1dv0\x00\x01\x00\x02\x00\xff\x81\x1dV\x00"
    )
    path = render_png(stream.receipts[0], tmp_path / "odd.png", paper_mm=80)
    image = Image.open(path)
    assert image.width == 576 + 32 and image.height > 8 * 24 + 96


def test_file_backend_appends_jobs(tmp_path: Path) -> None:
    out = tmp_path / "receipts.bin"
    out.write_bytes(b"\x1b@")  # an earlier job's bytes stay
    device = file_printer({"path": str(out), "paper_mm": 58})
    assert device.status().paper is PaperState.UNKNOWN
    device.print_receipt(receipt())
    device.print_receipt(pickup_receipt("T-1", "某公司", "09:30", "14:00", "K7", "大厅"))
    device.close()
    stream = decode(out.read_bytes())
    assert [r.texts[0] for r in stream.receipts] == ["信用报告打印凭证", "报告领取凭证"]


def test_device_file_that_stops_taking_data_times_out(tmp_path: Path) -> None:
    """A FIFO stands in for /dev/usb/lp0: no reader is "no printer", a full pipe a stalled one."""
    fifo = tmp_path / "lp0"
    os.mkfifo(fifo)
    device = file_printer({"path": str(fifo), "timeout_s": 0.2})
    assert device.status().error_code == "receipt.unreachable"  # nobody reads: ENXIO
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    fcntl.fcntl(reader, fcntl.F_SETPIPE_SZ, 4096)

    def hung(signum: int, frame: object) -> None:
        raise AssertionError("write blocked past its timeout")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, 20)  # a blocking write would hang the test: fail instead
    try:
        with pytest.raises(DeviceTimeout) as caught:
            for _ in range(50):
                device.print_receipt(receipt())
        assert caught.value.code == "receipt.timeout"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        device.close()
        os.close(reader)


def test_serial_backend_on_a_pseudo_terminal(sim: ReceiptSimulator) -> None:
    master, slave = pty.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    sim.attach_serial(master)
    device = serial_printer(
        {"port": os.ttyname(slave), "baudrate": 115200, "supports_paper_status": True}
    )
    try:
        assert device.status().paper is PaperState.FULL
        device.print_receipt(receipt())
        (printed,) = sim.wait_for_receipts(1)
        assert printed.qr_payloads == [URL]
        sim.settings.paper = "out"
        with pytest.raises(HardwareError):
            device.print_receipt(receipt())
    finally:
        device.close()
        os.close(slave)


def test_missing_serial_port_is_offline() -> None:
    device = serial_printer({"port": "/dev/does-not-exist", "timeout_s": 0.5})
    status = device.status()
    assert (status.state, status.error_code) == (DeviceState.OFFLINE, "receipt.unreachable")


def test_usb_backend_needs_pyusb_or_reports_offline() -> None:
    options = {"vendor_id": "0x0416", "product_id": "0x5011", "timeout_s": 0.5}
    if importlib.util.find_spec("usb") is None:
        with pytest.raises(DriverMissing) as caught:
            usb_printer(options)
        assert "pyusb" in caught.value.detail
    else:  # no such device on a test machine
        assert usb_printer(options).status().state is DeviceState.OFFLINE


@pytest.mark.parametrize(
    ("factory", "options", "message"),
    [
        (network_printer, {}, "host is required"),
        (network_printer, {"host": "p", "prot": 9100}, "unknown option(s) prot"),
        (network_printer, {"host": "p", "port": 70000}, "port must be an integer 1-65535"),
        (network_printer, {"host": "p", "paper_mm": 76}, "paper_mm must be one of 58, 80"),
        (network_printer, {"host": "p", "timeout_s": True}, "timeout_s must be a number"),
        (network_printer, {"host": "p", "profile": "NoSuch"}, "unknown python-escpos profile"),
        (network_printer, {"host": "p", "qr": "image"}, "qr must be one of auto, native, raster"),
        (serial_printer, {"port": "/dev/ttyS0", "baudrate": 1234}, "baudrate must be one of"),
        (usb_printer, {"vendor_id": "0xZZ", "product_id": 1}, "vendor_id must be an integer"),
        (file_printer, {"path": "/no/such/dir/x.bin"}, "does not exist"),
        (file_printer, {"path": "/tmp/x.bin", "supports_paper_status": True}, "readable link"),
    ],
)
def test_config_errors_name_the_key(factory: Any, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        factory(options)
    assert message in caught.value.detail


def test_profile_without_native_qr_or_cutter_gets_raster_and_no_cut(sim: ReceiptSimulator) -> None:
    device = printer(sim, profile="POS-5890")  # python-escpos: no qrCode, no cutter
    device.print_receipt(receipt())
    assert sim.receipts == []  # nothing cut: the tear-off receipt is still on the printer
    stream = decode(sim.raw.replace(b"\x10\x04\x01", b"").replace(b"\x10\x04\x04", b""))
    assert stream.tail is not None and len(stream.tail.images) == 1 and not stream.tail.qr_codes
    device.close()


def test_preview_keeps_latin_letters_apart(sim: ReceiptSimulator, tmp_path: Path) -> None:
    """A checker reads a code off the rendering: each of its letters stands on its own, W and M
    included (they are wider than the printer's 12-dot Latin column at the Chinese glyph size)."""
    device = printer(sim, paper_mm=80)
    code = "BWYCMW6J72"
    device.print_receipt(report_receipt("某公司", "R1", code, "09:30", "K7", "大厅", URL))
    (printed,) = sim.wait_for_receipts(1)
    image = Image.open(sim.render_png(printed, tmp_path / "receipt.png")).convert("L")
    ink = np.asarray(image) < 128
    # the rows of the code's line, laid out as the preview lays out lines (title first)
    top = MARGIN
    for element in printed.elements:
        assert isinstance(element, Line), "the code's line comes before any picture"
        if element.text == f"核验码：{code}":
            break
        top += CELL_H * element.height + LINE_GAP
    label = 4 * 2 * CELL_W  # "核验码：": four two-column characters
    columns = ink[top : top + CELL_H, MARGIN + label :].any(axis=0)
    starts = np.flatnonzero(np.diff(columns.astype(int)) == 1)
    assert len(starts) == len(code), f"{len(starts)} separate glyphs for {code!r}"
    device.close()
