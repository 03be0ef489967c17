"""The kiosk and the hall end to end: a real kiosk (the demo's rig: private cupsd, simulators, the
real composition root) heartbeating to a real `report-service serve`, and a staff member acting
through the dashboard's HTTP calls."""

from __future__ import annotations

import functools
import secrets
import sqlite3
import tarfile
import time
from collections.abc import Callable, Iterator
from io import BytesIO
from typing import Any

import pytest

from kiosk.demo_rig import Rig, build_rig
from kiosk.steps import Step

from .casebook import company_and_person, id_number, uscc
from .conftest import import_jsonl
from .hall_support import Staff, add_staff, terminal_in
from .platform_client import ServiceProcess, cli

COMPANY = uscc("gansu", 9501)
PERSON = id_number("gansu", 951)
CARD = {
    "name": "大厅测试人", "sex": "女", "nation": "汉", "birth_date": "1980-01-01",
    "address": "甘肃省兰州市测试路2号", "id_number": PERSON, "authority": "兰州市公安局",
    "valid_from": "2020-01-01", "valid_until": "2040-01-01",
}  # fmt: skip


def until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"within {timeout:.0f} s: {what}")


@pytest.fixture(scope="module")
def hall(
    platform: ServiceProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    name = "hall-kiosk-" + secrets.token_hex(3)
    add_staff(platform, name, "k-" + name, "hall_admin", display="赵工")
    cli("halls", "set-hours", "--db", platform.db, "--hall", name, "--hours", "mon-sun 00:00-24:00")
    workdir = tmp_path_factory.mktemp("hall-kiosk")
    lines = company_and_person("gansu", COMPANY, "大厅测试科技有限公司", PERSON, CARD["name"],
                               "legal_representative")  # fmt: skip
    import_jsonl(platform, workdir / "people.jsonl", lines)
    token = cli("terminals", "add-token", "--db", platform.db, "--hall", name, "--region", "gansu")
    rig = build_rig(workdir, platform.base_url, token.stdout, [CARD],
                    hall={"service_desk": "一楼3号窗口"})  # fmt: skip
    rig.kiosk.runner.start()
    staff = Staff(platform, "k-" + name)
    try:
        yield {"name": name, "rig": rig, "staff": staff, "id": rig.kiosk.enrollment.terminal_id}
    finally:
        rig.close()


def seen(hall: dict[str, Any]) -> dict[str, Any]:
    return terminal_in(hall["staff"].state(hall["name"]), hall["id"])


def test_the_kiosk_reports_itself_and_its_devices(hall: dict[str, Any]) -> None:
    shown = until(lambda: seen(hall)["status"] == "online" and seen(hall), 20, "a heartbeat")
    assert shown["availability"] == "in_service"
    assert set(shown["devices"]) == {"id_card", "qr_camera", "a4_printer", "receipt_printer"}
    assert shown["devices"]["a4_printer"]["state"] == "online"
    assert shown["interval_s"] == 10 and shown["app_version"]


def test_paper_out_raises_an_alert_and_a_call_staff_answer_on_the_kiosk_screen(
    hall: dict[str, Any],
) -> None:
    rig: Rig = hall["rig"]
    journey, runner, staff = rig.kiosk.journey, rig.kiosk.runner, hall["staff"]
    rig.insert_card(0)
    until(lambda: journey.step is Step.CHOOSE_SCOPE, 30, "the card logged in")
    rig.remove_card()
    runner.submit(lambda j: j.scope_done()).result(10)
    runner.submit(lambda j: j.confirm()).result(60)
    assert journey.step is Step.SUMMARY, journey.snapshot.message_id
    rig.cups.set_reasons("KioskA4", "media-empty-error")
    try:
        runner.submit(lambda j: j.print_report()).result(60)
        assert journey.step is Step.PRINT_FAILED
        until(lambda: journey.snapshot.help_state == "open", 10, "the call reached the platform")
        call = until(
            lambda: [c for c in staff.state(hall["name"])["help_calls"] if c["status"] == "open"
                     and c["terminal_id"] == hall["id"]], 10, "the call on the dashboard",
        )[0]  # fmt: skip
        assert (call["reason"], call["step"]) == ("paper_out", "print_failed")
        alerts = until(
            lambda: [a["kind"] for a in staff.state(hall["name"])["alerts"]
                     if a["terminal_id"] == hall["id"]], 15, "the paper alert",
        )  # fmt: skip
        assert "paper_out" in alerts
        # the printer's condition in CUPS's own keyword (DESIGN §8), not only the kiosk's code
        assert "media-empty" in seen(hall)["devices"]["a4_printer"]["reasons"]
        assert (
            staff.post(
                f"/halls/{hall['name']}/help-calls/{call['call_id']}/acknowledge"
            ).status_code
            == 200
        )
        answered = time.monotonic()
        until(lambda: journey.snapshot.help_state == "acknowledged", 8, "the kiosk saw the answer")
        assert time.monotonic() - answered <= 5.0  # DESIGN §8: within 5 seconds
        assert journey.snapshot.help_staff == "赵工"
    finally:
        rig.cups.set_reasons("KioskA4")
    runner.submit(lambda j: j.cancel()).result(10)
    until(lambda: seen(hall)["availability"] == "in_service", 30, "back in service")


def test_the_help_button_shows_the_staff_answer_within_5_s_of_it(hall: dict[str, Any]) -> None:
    """Pressed just after a heartbeat (the next one 10 s away), at the attract screen."""
    rig: Rig = hall["rig"]
    journey, runner, staff, link = (
        rig.kiosk.journey,
        rig.kiosk.runner,
        hall["staff"],
        rig.kiosk.hall,
    )
    until(lambda: journey.step is Step.ATTRACT, 30, "the kiosk at rest")
    assert link is not None  # the rig's kiosk has its hall link
    beats = link.beats
    until(lambda: link.beats > beats, 15, "a heartbeat")
    runner.submit(lambda j: j.call_help()).result(10)
    assert journey.step is Step.HELP
    call = until(
        lambda: [c for c in staff.state(hall["name"])["help_calls"] if c["status"] == "open"
                 and c["terminal_id"] == hall["id"] and c["reason"] == "user_request"],
        5, "the call on the dashboard",
    )[0]  # fmt: skip
    answer = staff.post(f"/halls/{hall['name']}/help-calls/{call['call_id']}/acknowledge")
    assert answer.status_code == 200
    answered = time.monotonic()
    until(lambda: journey.snapshot.help_state == "acknowledged", 12, "the kiosk saw the answer")
    assert time.monotonic() - answered <= 5.0  # DESIGN §8: within 5 seconds
    assert journey.snapshot.help_staff == "赵工"
    resolved = staff.post(f"/halls/{hall['name']}/help-calls/{call['call_id']}/resolve")
    assert resolved.status_code == 200
    runner.submit(lambda j: j.close_help()).result(10)


def test_a_lock_from_the_dashboard_reaches_the_kiosk_within_a_heartbeat(
    hall: dict[str, Any],
) -> None:
    rig: Rig = hall["rig"]
    journey, staff = rig.kiosk.journey, hall["staff"]
    until(lambda: journey.step is Step.ATTRACT, 30, "the kiosk at rest")
    sent = staff.post(f"/halls/{hall['name']}/terminals/{hall['id']}/commands",
                      {"kind": "lock", "message": "系统维护"})  # fmt: skip
    assert sent.status_code == 201
    started = time.monotonic()
    until(lambda: journey.step is Step.LOCKED, 15, "the kiosk locked")
    assert time.monotonic() - started <= 12  # one heartbeat interval (10 s) and a little
    rig.insert_card(0)  # a person tries: nothing starts
    time.sleep(2)
    assert journey.step is Step.LOCKED
    rig.remove_card()
    command_id = sent.json()["command_id"]

    def finished(cid: str) -> str | None:
        found = [c for c in staff.state(hall["name"])["commands"] if c["command_id"] == cid]
        return found[0]["status"] if found and found[0]["status"] != "sent" else None

    assert until(lambda: finished(command_id), 15, "the result on the dashboard") == "executed"
    until(lambda: seen(hall)["availability"] == "locked", 15, "reported as locked")
    unlock = staff.post(
        f"/halls/{hall['name']}/terminals/{hall['id']}/commands", {"kind": "unlock"}
    )
    until(lambda: journey.step is Step.ATTRACT, 15, "unlocked")
    assert until(lambda: finished(unlock.json()["command_id"]), 15, "unlock result") == "executed"


def test_a_test_page_diagnostics_and_a_restart_on_command(hall: dict[str, Any]) -> None:
    rig: Rig = hall["rig"]
    staff, name = hall["staff"], hall["name"]
    restarted: list[bool] = []
    rig.kiosk.restart.hooks.append(lambda: restarted.append(True))
    sent = {
        kind: staff.post(f"/halls/{name}/terminals/{hall['id']}/commands", {"kind": kind}).json()
        for kind in ("print_test_page", "collect_diagnostics", "restart_app")
    }

    def status(kind: str) -> str | None:
        cid = sent[kind]["command_id"]
        found = [c for c in staff.state(name)["commands"] if c["command_id"] == cid]
        return (
            found[0]["status"] if found and found[0]["status"] not in ("pending", "sent") else None
        )

    for kind in sent:
        assert until(functools.partial(status, kind), 90, f"{kind} done") == "executed", kind
    assert restarted == [True]
    bundle_id = until(lambda: bundle_of(hall), 10, "the bundle listed")
    data = staff.http.get(f"/halls/{name}/diagnostics/{bundle_id}").content
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        names = tar.getnames()
        text = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())  # type: ignore[union-attr]
    assert any(n.endswith("devices.json") for n in names)
    assert PERSON.encode() not in text and CARD["name"].encode() not in text


def bundle_of(hall: dict[str, Any]) -> int | None:
    bundles = hall["staff"].state(hall["name"])["diagnostics"]
    return next((b["bundle_id"] for b in bundles if b["terminal_id"] == hall["id"]), None)


def test_audit_events_reach_the_platform_in_order(
    hall: dict[str, Any], platform: ServiceProcess
) -> None:
    rig: Rig = hall["rig"]  # the sessions above made events: login, report, print failure...

    def kinds() -> list[str]:
        with sqlite3.connect(platform.db) as db:
            return [r[0] for r in db.execute(
                "SELECT kind FROM terminal_events WHERE terminal_id = ? ORDER BY at, event_id",
                (hall["id"],),
            )]  # fmt: skip

    found = until(lambda: "print_failed" in kinds() and kinds(), 60, "events on the platform")
    assert found.index("login_started") < found.index("login_ok") < found.index("print_failed")
    shipper = rig.kiosk.shipper
    assert shipper is not None
    # the platform commits before the kiosk reads its answer: the kiosk's count follows
    until(lambda: shipper.shipped >= len(found) - 5, 30, "the kiosk counted them delivered")
