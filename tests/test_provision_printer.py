"""`kiosk-provision printer add-a4` through `lpadmin` on a private cupsd, and `status`: a queue with a
PPD, a driverless (IPP Everywhere) queue for a printer that answers IPP — here a second private
cupsd sharing its queue, as a network printer would — and a URI that answers nothing."""

from __future__ import annotations

import json
import subprocess
import time

from devices.a4_printer.private_cups import CupsServer, free_port

from .provision_support import COMMENT, Terminal

PDF_MODEL = "lsb/usr/cupsfilters/Generic-PDF_Printer-PDF.ppd"


def queues(cups: CupsServer) -> str:
    done = subprocess.run(
        ["lpstat", "-v"], env=cups.env(), capture_output=True, text=True, check=False
    )
    return done.stdout


def test_a_queue_with_a_driver_becomes_the_kiosk_s_a4_printer(kiosk_terminal: Terminal) -> None:
    t = kiosk_terminal
    out = t.folder / "office.pdf"
    done = t.run("printer", "add-a4", "--uri", f"file://{out}", "--queue", "Hall_A4",
                 "--model", PDF_MODEL, "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    added = json.loads(done.stdout)
    assert added["queue"] == "Hall_A4" and "Generic PDF" in added["make_and_model"]
    assert "Hall_A4" in queues(t.cups)
    text = t.config.read_text()
    assert COMMENT in text and 'queue = "Hall_A4"' in text  # the kiosk prints there now
    page = t.run("self-test", "--only", "a4_printer", "--json")
    assert page.returncode == 0, page.stdout + page.stderr
    deadline = time.monotonic() + 20
    while not (out.exists() and out.stat().st_size > 1000) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert b"%PDF" in out.read_bytes()  # the test page went through the new queue (PJL-wrapped)


def test_a_driverless_printer_is_added_as_ipp_everywhere(kiosk_terminal: Terminal) -> None:
    t = kiosk_terminal
    printer = CupsServer().start()  # the "network printer": another cupsd sharing a queue
    try:
        # a driver that takes PWG raster: shared, cupsd advertises itself as IPP Everywhere does
        printer.add_queue(
            "Office", driver="drv:///cupsfilters.drv/pwgrast.ppd",
            options={"printer-is-shared": "true"},
        )  # fmt: skip
        uri = f"ipp://127.0.0.1:{printer.port}/printers/Office"
        done = t.run("printer", "add-a4", "--uri", uri, "--queue", "Everywhere_A4", "--json")
        assert done.returncode == 0, done.stderr
        added = json.loads(done.stdout)
        assert added["driver"] == "IPP Everywhere"
        assert "everywhere" in added["make_and_model"].lower()
        assert "Everywhere_A4" in queues(t.cups)
    finally:
        printer.stop()


def test_a_printer_that_does_not_answer_leaves_no_queue_behind(kiosk_terminal: Terminal) -> None:
    t = kiosk_terminal
    before = t.config.read_text()
    uri = f"ipp://127.0.0.1:{free_port()}/ipp/print"
    done = t.run("printer", "add-a4", "--uri", uri, "--queue", "Ghost_A4")
    assert done.returncode == 1
    assert "did not answer as an IPP Everywhere printer" in done.stderr
    assert "--ppd" in done.stderr  # the next step
    assert "Ghost_A4" not in queues(t.cups)
    assert t.config.read_text() == before
    # a printer without IPP (DESIGN §9: a PPD where driverless printing is not offered)
    lpd = t.run("printer", "add-a4", "--uri", "lpd://printer/queue", "--queue", "Lpd_A4", "--json")
    assert lpd.returncode == 0, lpd.stderr
    added = json.loads(lpd.stdout)
    assert added["driver"].startswith("generic PostScript") and "Lpd_A4" in queues(t.cups)
    assert "postscript" in added["make_and_model"].lower()


def test_status_shows_enrollment_devices_and_queue_on_one_screen(kiosk_terminal: Terminal) -> None:
    t = kiosk_terminal
    before = json.loads(t.run("status", "--json").stdout)
    assert before["enrollment"]["enrolled"] is False
    t.enroll()
    done = t.run("status", "--json")
    status = json.loads(done.stdout)
    assert status["enrollment"]["enrolled"] is True
    assert status["enrollment"]["terminal_id"].startswith("T")
    assert status["devices"]["a4_printer"]["state"] == "online"
    human = t.run("status")
    assert f"terminal {status['enrollment']['terminal_id']}" in human.stdout
    assert "注册 enrollment" in human.stdout and "not enrolled" not in human.stdout
