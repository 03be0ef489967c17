"""The kiosk core end to end on real parts, without the screens: card on the reader → printed report
on the CUPS queue and a receipt on the ESC/POS simulator."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.demo_rig import DEMO_STAFF_PIN, Rig, build_rig
from kiosk.steps import Step

from .casebook import company_and_person, id_number, uscc
from .conftest import import_jsonl
from .platform_client import ServiceProcess, cli

COMPANY = uscc("gansu", 9301)
PERSON = id_number("gansu", 931)
CARD = {
    "name": "端到端测试人",
    "sex": "男",
    "nation": "汉",
    "birth_date": "1980-01-01",
    "address": "甘肃省兰州市测试路1号",
    "id_number": PERSON,
    "authority": "兰州市公安局",
    "valid_from": "2020-01-01",
    "valid_until": "2040-01-01",
}


@pytest.fixture(scope="module")
def rig(platform: ServiceProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    workdir = tmp_path_factory.mktemp("e2e")
    lines = company_and_person(
        "gansu", COMPANY, "端到端测试科技有限公司", PERSON, CARD["name"], "legal_representative"
    )
    import_jsonl(platform, workdir / "people.jsonl", lines)
    token = cli(
        "terminals", "add-token", "--db", platform.db, "--hall", "hall-e2e", "--region", "gansu"
    )
    built = build_rig(workdir, platform.base_url, token.stdout, [CARD])
    built.kiosk.runner.start()
    try:
        yield built
    finally:
        built.close()


def test_card_to_printed_report_and_receipt(rig: Rig) -> None:
    journey, runner = rig.kiosk.journey, rig.kiosk.runner
    rig.kiosk.devices["id_card"].simulator.insert(0)
    rig.wait_for(lambda: journey.step is Step.CHOOSE_SCOPE)
    assert journey.snapshot.enterprise is not None and journey.snapshot.enterprise.uscc == COMPANY
    runner.submit(lambda j: j.scope_done()).result(5)
    runner.submit(lambda j: j.confirm()).result(30)
    assert journey.step is Step.SUMMARY, journey.snapshot.message_id
    code = journey.snapshot.verification_code
    runner.submit(lambda j: j.print_report()).result(60)
    assert journey.step is Step.DONE, journey.snapshot.message_id

    rig.wait_for(lambda: rig.a4_output.exists() and rig.a4_output.stat().st_size > 1000)
    text = subprocess.run(
        ["pdftotext", str(rig.a4_output), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "端到端测试科技有限公司" in text and code in text
    receipt = rig.receipts.wait_for_receipts(1)[-1]
    printed = "\n".join(receipt.texts)
    assert code in printed and "端到端测试科技有限公司" in printed
    assert receipt.qr_payloads and receipt.qr_payloads[0].endswith("/v1/verify/" + code)
    assert receipt.cut is not None
    assert PERSON not in printed and CARD["name"] not in printed


def test_login_qr_shown_to_the_camera(rig: Rig, platform: ServiceProcess) -> None:
    journey, runner = rig.kiosk.journey, rig.kiosk.runner
    runner.submit(lambda j: j.reset()).result(5)
    rig.kiosk.devices["id_card"].simulator.remove()
    payload = cli("issue-login-qr", "--db", platform.db, "--id-number", PERSON).stdout.strip()
    rig.camera.show(payload)  # the looping sequence shows the code next round
    try:
        rig.wait_for(lambda: journey.step is Step.CHOOSE_SCOPE)
        assert journey.snapshot.enterprise is not None
        assert journey.snapshot.enterprise.uscc == COMPANY
    finally:
        rig.camera.clear()
        runner.submit(lambda j: j.cancel()).result(5)


def test_staff_screen_shows_device_states(rig: Rig) -> None:
    runner, journey = rig.kiosk.runner, rig.kiosk.journey
    runner.submit(lambda j: j.reset()).result(5)
    runner.submit(lambda j: j.open_staff()).result(5)
    runner.submit(lambda j: j.enter_staff_pin(DEMO_STAFF_PIN)).result(5)
    assert journey.step is Step.STAFF
    status = journey.snapshot.staff_status
    assert status["a4_printer"] == "online" and status["receipt_printer"] == "online"


def test_nothing_the_kiosk_wrote_holds_the_id_number_or_name(rig: Rig) -> None:
    state: Path = rig.kiosk.config.state_dir
    files = [p for p in state.rglob("*") if p.is_file()]
    assert any(p.name == "audit.jsonl" for p in files)
    for path in files:
        data = path.read_bytes()
        assert PERSON.encode() not in data, path
        assert CARD["name"].encode() not in data, path


def test_a_card_taken_away_during_a_session_is_read_again_next_time(rig: Rig) -> None:
    journey, runner = rig.kiosk.journey, rig.kiosk.runner
    runner.submit(lambda j: j.reset()).result(5)
    rig.remove_card()
    time.sleep(1.0)
    rig.insert_card(0)
    rig.wait_for(lambda: journey.step is Step.CHOOSE_SCOPE)
    rig.remove_card()  # the person takes the card while choosing; the reader is not read now
    time.sleep(1.0)
    rig.insert_card(0)  # the next person (here: the same card) puts a card down
    runner.submit(lambda j: j.cancel()).result(5)
    rig.wait_for(lambda: journey.step is Step.CHOOSE_SCOPE, timeout=10)
    runner.submit(lambda j: j.cancel()).result(5)
