"""Hall operations on the platform (DESIGN §8), through a real `report-service serve`: heartbeats,
alerts, help calls, commands, events, opening hours and metrics, and bad input refused with
nothing written. Staff accounts, logins and their scope: `test_hall_staff_access.py`."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sqlite3
import time
from typing import Any

import httpx
import pytest

from report_service import crypto

from .hall_support import (
    ALL_DAY,
    Kiosk,
    Staff,
    add_staff,
    beat,
    cli_input,
    hall_admin,
    new_hall,
    terminal_in,
)
from .platform_client import ServiceProcess, cli

NOW_CST = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))


# a hall of the module's own, open all day, and its admin logged in (tests/hall_support.py)
hall = pytest.fixture(scope="module", name="hall")(new_hall)
staff = pytest.fixture(scope="module", name="staff")(hall_admin)


def test_a_heartbeat_shows_the_terminal_and_its_devices_in_words_and_codes(
    platform: ServiceProcess, hall: str, staff: Staff
) -> None:
    kiosk = Kiosk(platform, hall)
    assert terminal_in(staff.state(hall), kiosk.id)["status"] == "offline"  # enrolled, never seen
    answer = kiosk.heartbeat(beat(**{"devices.a4_printer.paper": "low"}))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"commands": [], "help_calls": [], "next_interval_s": 30}
    shown = terminal_in(staff.state(hall), kiosk.id)
    assert shown["status"] == "online" and shown["availability"] == "in_service"
    assert shown["devices"]["a4_printer"]["paper"] == "low"
    page = staff.http.get(f"/halls/{hall}")
    assert "纸张将尽" in page.text and "A4打印机" in page.text  # the words the page shows


def test_paper_out_raises_an_alert_that_clears_when_paper_is_back(
    platform: ServiceProcess, hall: str, staff: Staff
) -> None:
    kiosk = Kiosk(platform, hall)
    kiosk.heartbeat(beat(**{"devices.receipt_printer.paper": "out",
                            "devices.a4_printer.reasons": ["cover-open"]}))  # fmt: skip
    mine = {
        (a["kind"], a["subject"])
        for a in staff.state(hall)["alerts"]
        if a["terminal_id"] == kiosk.id
    }
    assert mine == {("paper_out", "receipt_printer"), ("cover_open", "a4_printer")}
    alert = next(a for a in staff.state(hall)["alerts"] if a["terminal_id"] == kiosk.id)
    acked = staff.post(f"/halls/{hall}/alerts/{alert['alert_id']}/acknowledge")
    assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "李主任"
    kiosk.heartbeat(beat())
    assert not [a for a in staff.state(hall)["alerts"] if a["terminal_id"] == kiosk.id]


def test_cups_reasons_alone_raise_the_paper_and_cover_alerts(
    platform: ServiceProcess, hall: str, staff: Staff
) -> None:
    """A printer whose paper field says `unknown` while its CUPS reasons say what is wrong."""
    kiosk = Kiosk(platform, hall)
    kiosk.heartbeat(beat(**{
        "devices.a4_printer.paper": "unknown",
        "devices.a4_printer.reasons": ["media-low-warning", "media-jam-error"],
        "devices.receipt_printer.paper": "unknown",
        "devices.receipt_printer.reasons": ["media-empty", "interlock-open-error"],
    }))  # fmt: skip
    mine = {(a["kind"], a["subject"]) for a in staff.state(hall)["alerts"]
            if a["terminal_id"] == kiosk.id}  # fmt: skip
    assert mine == {("paper_jam", "a4_printer"), ("paper_out", "receipt_printer"),
                    ("cover_open", "receipt_printer")}  # fmt: skip
    kiosk.heartbeat(beat(**{"devices.a4_printer.reasons": ["toner-low-warning"]}))
    assert not [a for a in staff.state(hall)["alerts"] if a["terminal_id"] == kiosk.id]


@pytest.mark.parametrize(
    "bad",
    [
        beat(**{"devices.scanner": {"state": "online"}}),
        beat(**{"devices.a4_printer.state": "on_fire"}),
        beat(**{"devices.a4_printer.paper": "plenty"}),
        beat(interval_s=1),
        beat(interval_s=100_000),
        beat(**{"queue.pending": -5}),
        beat(counters={"reports": 10**12}),
        beat(availability="dancing"),
        beat(uptime_s="long"),
        beat(**{"devices.a4_printer.reasons": ["<script>"]}),
    ],
)
def test_absurd_heartbeats_are_refused_and_nothing_is_written(
    platform: ServiceProcess, hall: str, staff: Staff, bad: dict[str, object]
) -> None:
    kiosk = Kiosk(platform, hall)
    kiosk.heartbeat(beat())
    before = terminal_in(staff.state(hall), kiosk.id)
    answer = kiosk.heartbeat(bad)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "invalid_request"
    after = terminal_in(staff.state(hall), kiosk.id)
    assert after["devices"] == before["devices"] and after["availability"] == before["availability"]


def test_a_heartbeat_as_design_words_it_is_taken(
    platform: ServiceProcess, hall: str, staff: Staff
) -> None:
    """DESIGN §8's fields with what a client naturally sends: no interval_s (default 30), seconds
    measured with a fraction, a device as devices/state.py's DeviceStatus.as_dict() gives it, a
    version with a build note, a step name of the client's own."""
    from devices.state import DeviceState, DeviceStatus, PaperState

    kiosk = Kiosk(platform, hall)
    unseen = terminal_in(staff.state(hall), kiosk.id)
    assert unseen["status"] == "offline" and unseen["last_seen"] is None
    body = beat(uptime_s=61.7, app_version="1.2.0+build.5(rc1)", **{"queue.oldest_age_s": 3.5})
    del body["interval_s"]
    printer = DeviceStatus(DeviceState.USER_ERROR, "缺纸", PaperState.OUT, reasons=("media-empty",))
    body["devices"]["a4_printer"] = printer.as_dict()
    answer = kiosk.heartbeat(body)
    assert answer.status_code == 200, answer.text
    seen = terminal_in(staff.state(hall), kiosk.id)
    assert (
        seen["devices"]["a4_printer"]["paper"] == "out"
        and seen["app_version"] == "1.2.0+build.5(rc1)"
    )
    assert seen["queue"]["oldest_age_s"] == 3 and seen["interval_s"] == 30
    assert set(seen) == set(unseen)  # one shape for every terminal of /state
    assert any(a["terminal_id"] == kiosk.id for a in staff.state(hall)["alerts"])
    assert kiosk.assist(step="choose-domains").status_code in (200, 201)
    cover = DeviceStatus(DeviceState.ONLINE, "", PaperState.FULL, cover_open=True)
    kiosk.heartbeat(beat(**{"devices.receipt_printer": cover.as_dict()}))
    kinds = {a["kind"] for a in staff.state(hall)["alerts"] if a["terminal_id"] == kiosk.id}
    assert "cover_open" in kinds, kinds
    for step in ("ID-11010519491231002X", "x110105-19491231-002X", "p13812345678"):
        leaky = kiosk.assist(step=step)  # a help call goes through; the number does not
        assert leaky.status_code in (200, 201)
        calls = staff.state(hall)["help_calls"]
        (call,) = [c for c in calls if c["call_id"] == leaky.json()["call_id"]]
        assert call["step"] == "[已删除]", call
    kiosk.heartbeat(beat(app_version="v1.0.110105.19491231.002X"))
    assert terminal_in(staff.state(hall), kiosk.id)["app_version"] == "[已删除]"
    assert kiosk.heartbeat(beat(app_version="1.0 110105 19491231 002X")).status_code == 422


def test_a_command_answers_with_its_kind_args_and_expiry(
    platform: ServiceProcess, hall: str, staff: Staff
) -> None:
    kiosk = Kiosk(platform, hall)
    kiosk.heartbeat(beat())
    sent = staff.post(f"/halls/{hall}/terminals/{kiosk.id}/commands",
                      {"kind": "lock", "args": {"message": "午休暂停"}, "ttl_s": 60})  # fmt: skip
    assert sent.status_code == 201, sent.text
    answer = sent.json()
    assert answer["kind"] == "lock" and answer["args"] == {"message": "午休暂停"}
    expires = dt.datetime.fromisoformat(answer["expires_at"])
    assert 55 <= (expires - dt.datetime.now(dt.UTC)).total_seconds() <= 61
    delivered = kiosk.heartbeat(beat()).json()["commands"]
    assert [(c["command_id"], c["args"]) for c in delivered] == [
        (answer["command_id"], {"message": "午休暂停"})
    ]


def test_a_terminal_speaks_only_for_itself_and_only_signed(
    platform: ServiceProcess, hall: str
) -> None:
    me, other = Kiosk(platform, hall), Kiosk(platform, hall)
    forged = me.client.request("POST", f"/v1/terminals/{other.id}/heartbeat", beat())
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "not_this_terminal"
    unsigned = me.client.http.post(f"/v1/terminals/{me.id}/heartbeat", json=beat())
    assert unsigned.status_code == 401
    assert me.client.request("POST", f"/v1/terminals/{other.id}/assistance",
                             {"call_id": "call-abcdef12", "reason": "other", "step": "attract"}).status_code == 403  # fmt: skip


def test_a_heartbeat_gets_the_same_answer_with_or_without_the_framework(
    platform: ServiceProcess, hall: str
) -> None:
    """A plainly labelled well-formed heartbeat is answered beside the framework in one database
    call; a label with parameters takes the FastAPI route. Same answers, refusals included."""
    fast = _heartbeat_answers(platform, hall, "application/json")
    assert [status for status, _ in fast] == [200, 200, 200, 401, 401, 403, 422], fast
    calm = {"commands": [], "help_calls": [], "next_interval_s": 30}
    assert fast[0][1] == fast[1][1] == fast[2][1] == calm
    codes = [answer["error"]["code"] for _, answer in fast[3:]]
    assert codes == ["replayed_nonce", "bad_signature", "not_this_terminal", "invalid_request"]
    assert _heartbeat_answers(platform, hall, "application/json; charset=utf-8") == fast


def _heartbeat_answers(platform: ServiceProcess, hall: str, label: str) -> list[tuple[int, Any]]:
    """A fresh terminal's answers: steady, paper out, a nonce then its replay, a body changed
    after signing, another terminal's path, an interval out of bounds."""
    me, other = Kiosk(platform, hall), Kiosk(platform, hall)
    mine = f"/v1/terminals/{me.id}/heartbeat"

    def send(path: str, body: dict[str, Any], nonce: str | None = None,
             tamper: bool = False) -> tuple[int, Any]:  # fmt: skip
        raw = json.dumps(body).encode()
        headers = me.client.signed_headers("POST", path, raw, nonce=nonce)
        sent = raw.replace(b'"uptime_s": 60', b'"uptime_s": 61') if tamper else raw
        answer = me.client.http.post(path, content=sent, headers={**headers, "Content-Type": label})
        return answer.status_code, answer.json()

    nonce = crypto.b64url_encode(secrets.token_bytes(16))
    return [
        send(mine, beat()),
        send(mine, beat(**{"devices.a4_printer.paper": "out"})),
        send(mine, beat(), nonce=nonce),
        send(mine, beat(), nonce=nonce),
        send(mine, beat(), tamper=True),
        send(f"/v1/terminals/{other.id}/heartbeat", beat()),
        send(mine, beat(interval_s=5)),
    ]


def test_a_replayed_terminal_call_is_refused_whether_it_was_answered_or_refused(
    platform: ServiceProcess, hall: str
) -> None:
    """The nonce is written with the call's own writes; a refused call's nonce is kept too."""
    kiosk, other = Kiosk(platform, hall), Kiosk(platform, hall)
    mine = f"/v1/terminals/{kiosk.id}"
    foreign = [{"command_id": "C0000000000000000", "status": "executed"}]
    event = {"event_id": "ev-" + secrets.token_hex(6), "kind": "session_started",
             "at": NOW_CST.isoformat(timespec="seconds"), "fields": {}}  # fmt: skip
    stale = dict(event, event_id="ev-" + secrets.token_hex(6), at="2020-01-01T00:00:00+08:00")
    help_call = {
        "call_id": "call-" + secrets.token_hex(6),
        "reason": "user_request",
        "step": "summary",
    }
    calls = [
        (mine + "/heartbeat", beat(), 200),
        (mine + "/heartbeat", beat(command_results=foreign), 422),
        (f"/v1/terminals/{other.id}/heartbeat", beat(), 403),
        (mine + "/events", {"events": [event]}, 200),
        (mine + "/events", {"events": [stale]}, 422),
        (mine + "/assistance", help_call, 200),
    ]
    for path, body, status in calls:
        nonce = crypto.b64url_encode(secrets.token_bytes(16))
        first = kiosk.client.request("POST", path, body, nonce=nonce)
        assert first.status_code == status, (path, first.text)
        again = kiosk.client.request("POST", path, body, nonce=nonce)
        assert again.status_code == 401, (path, again.text)
        assert again.json()["error"]["code"] == "replayed_nonce"


def test_help_call_acknowledged_by_staff_reaches_the_next_heartbeat(
    platform: ServiceProcess, hall: str, staff: Staff
) -> None:
    kiosk = Kiosk(platform, hall)
    call = kiosk.assist("paper_out", "print_failed", call_id="call-" + secrets.token_hex(6))
    assert call.status_code == 200 and call.json()["status"] == "open"
    again = kiosk.assist("paper_out", "print_failed", call_id=call.json()["call_id"])
    assert again.json() == call.json()  # the same call id is the same call
    calls = [c for c in staff.state(hall)["help_calls"] if c["terminal_id"] == kiosk.id]
    assert len(calls) == 1 and calls[0]["status"] == "open"
    waiting = kiosk.heartbeat().json()
    assert waiting["next_interval_s"] <= 5  # a person waits: the kiosk asks more often
    call_id = call.json()["call_id"]
    assert staff.post(f"/halls/{hall}/help-calls/{call_id}/acknowledge").status_code == 200
    seen = kiosk.heartbeat().json()["help_calls"]
    assert seen == [{"call_id": call_id, "status": "acknowledged", "staff": "李主任"}]
    assert staff.post(f"/halls/{hall}/help-calls/{call_id}/resolve").status_code == 200
    told = kiosk.heartbeat().json()  # DESIGN §3's status, resolved in so many words
    assert told["help_calls"] == [{"call_id": call_id, "status": "resolved", "staff": "李主任"}]
    assert told["next_interval_s"] == 30  # nobody waits any more
    assert staff.post(f"/halls/{hall}/help-calls/{call_id}/resolve").status_code == 409
    actions = staff.http.get(f"/halls/{hall}/audit").json()["actions"]
    assert {"help_call_acknowledged", "help_call_resolved"} <= {a["action"] for a in actions}


def test_commands_are_delivered_until_their_result_comes_back(
    platform: ServiceProcess, hall: str, staff: Staff
) -> None:
    kiosk = Kiosk(platform, hall)
    kiosk.heartbeat()
    sent = staff.post(
        f"/halls/{hall}/terminals/{kiosk.id}/commands", {"kind": "lock", "message": "午休"}
    )
    assert sent.status_code == 201
    command_id = sent.json()["command_id"]
    delivered = kiosk.heartbeat().json()["commands"]
    assert [(c["command_id"], c["kind"], c["args"]) for c in delivered] == [
        (command_id, "lock", {"message": "午休"})
    ]
    assert kiosk.heartbeat().json()["commands"][0]["command_id"] == command_id  # no result yet
    done = beat(
        availability="locked", command_results=[{"command_id": command_id, "status": "executed"}]
    )
    assert kiosk.heartbeat(done).json()["commands"] == []
    shown = next(c for c in staff.state(hall)["commands"] if c["command_id"] == command_id)
    assert shown["status"] == "executed" and shown["created_by"] == "李主任"
    assert terminal_in(staff.state(hall), kiosk.id)["availability"] == "locked"
    foreign = beat(command_results=[{"command_id": "C0000000000000000", "status": "executed"}])
    assert kiosk.heartbeat(foreign).status_code == 422


def test_a_result_that_outran_its_commands_expiry_is_recorded(
    platform: ServiceProcess, hall: str, staff: Staff
) -> None:
    kiosk = Kiosk(platform, hall)
    kiosk.heartbeat()
    sent = staff.post(f"/halls/{hall}/terminals/{kiosk.id}/commands", {"kind": "print_test_page"})
    command_id = sent.json()["command_id"]
    assert kiosk.heartbeat().json()["commands"][0]["command_id"] == command_id
    with sqlite3.connect(platform.db) as db:  # its expiry passes while the page prints
        db.execute("UPDATE terminal_commands SET expires_at = '2020-01-01 00:00:00.000000' "
                   "WHERE command_id = ?", (command_id,))  # fmt: skip
    assert kiosk.heartbeat().json()["commands"] == []

    def shown() -> dict[str, Any]:
        return next(c for c in staff.state(hall)["commands"] if c["command_id"] == command_id)

    assert shown()["status"] == "expired"
    late = [{"command_id": command_id, "status": "executed", "detail": None}]
    assert kiosk.heartbeat(beat(command_results=late)).status_code == 200
    assert shown()["status"] == "executed"  # the page did print


def test_help_reasons_past_designs_list_and_null_details_are_taken(
    platform: ServiceProcess, hall: str, staff: Staff
) -> None:
    """DESIGN §8's reasons end with "…" and leave `detail` untyped; free text stays out (it could
    carry a name)."""
    kiosk = Kiosk(platform, hall)
    call = kiosk.assist(reason="printer_smoking")
    assert call.status_code == 200, call.text
    (shown,) = [
        c for c in staff.state(hall)["help_calls"] if c["call_id"] == call.json()["call_id"]
    ]
    assert shown["reason"] == "printer_smoking" and shown["status"] == "open"
    for leaky in ("id_110105194912310021", "tel_13812345678", "c_91350100m000100y43"):
        sent = kiosk.assist(reason=leaky)  # a code may be read; a number in it never is
        assert sent.status_code == 200, sent.text
        (held,) = [c for c in staff.state(hall)["help_calls"]
                   if c["call_id"] == sent.json()["call_id"]]  # fmt: skip
        assert held["reason"] == "[已删除]", held
    refused = kiosk.assist(reason="A4 printer is smoking")
    assert refused.status_code == 422 and "格式不正确" in refused.json()["error"]["message"]
    assert kiosk.heartbeat(beat(**{"devices.a4_printer.detail": None})).status_code == 200
    published = httpx.get(platform.base_url + "/openapi.json", timeout=30).json()["components"]
    for model in ("DeviceReport", "CommandResult"):  # the schema says so too
        assert {"type": "null"} in published["schemas"][model]["properties"]["detail"]["anyOf"]


def test_events_are_stored_once_and_personal_data_never(
    platform: ServiceProcess, hall: str
) -> None:
    kiosk = Kiosk(platform, hall)
    planted = ("620102198506120035", "916201020009900016", "13912345678", "USA620180010100",
               "91350100m000100y43")  # fmt: skip
    events = [
        {"event_id": "ev-" + secrets.token_hex(6), "kind": "print_done",
         "at": dt.datetime.now(dt.UTC).isoformat(), "fields": {"phase": "a4", "note": f"for {p}"}}
        for p in planted
    ]  # fmt: skip
    assert kiosk.events(events).json() == {"accepted": 5, "duplicates": 0}
    assert kiosk.events(events).json() == {"accepted": 0, "duplicates": 5}
    assert kiosk.events([]).json() == {"accepted": 0, "duplicates": 0}
    kiosk.heartbeat(beat(last_error=f"card {planted[0]} refused",
                         **{"devices.a4_printer.detail": planted[1]}))  # fmt: skip
    kiosk.assist()
    stale = [dict(events[0], event_id="ev-" + secrets.token_hex(6), at="2020-01-01T00:00:00+08:00")]
    assert kiosk.events(stale).status_code == 422  # older than any statistics
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=200)).isoformat()
    twice = dict(events[0], event_id="ev-" + secrets.token_hex(6), at=old)  # kept offline long
    assert kiosk.events([twice, twice]).json() == {"accepted": 1, "duplicates": 1}
    china_now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(tzinfo=None)
    naive = [dict(events[0], event_id="ev-" + secrets.token_hex(6), at=china_now.isoformat())]
    assert kiosk.events(naive).json() == {"accepted": 1, "duplicates": 0}  # the hall's time
    utc_as_if_china = [dict(naive[0], event_id="ev-" + secrets.token_hex(6),
                            at=(china_now + dt.timedelta(hours=8)).isoformat())]  # fmt: skip
    assert kiosk.events(utc_as_if_china).status_code == 422  # 8 h ahead: in the future
    with sqlite3.connect(platform.db) as db:
        for table in ("terminal_events", "terminal_state", "help_calls", "alerts"):
            dump = "\n".join(str(row) for row in db.execute(f"SELECT * FROM {table}"))
            for value in planted:
                assert value not in dump, (table, value)


def test_closed_outside_opening_hours_offline_inside(platform: ServiceProcess) -> None:
    name = "hall-hours-" + secrets.token_hex(3)
    add_staff(platform, name, "h-" + name)
    kiosk = Kiosk(platform, name)
    staff = Staff(platform, "h-" + name)
    past = (NOW_CST - dt.timedelta(hours=3)).strftime("%H:%M")
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[NOW_CST.weekday()]
    start = (NOW_CST - dt.timedelta(hours=4)).strftime("%H:%M")
    if start < past:  # not across midnight: a window that ended three hours ago
        cli(
            "halls",
            "set-hours",
            "--db",
            platform.db,
            "--hall",
            name,
            "--hours",
            f"{day} {start}-{past}",
        )
        assert terminal_in(staff.state(name), kiosk.id)["status"] == "closed"
        assert staff.state(name)["open"] is False
    cli("halls", "set-hours", "--db", platform.db, "--hall", name, "--hours", ALL_DAY)
    assert terminal_in(staff.state(name), kiosk.id)["status"] == "offline"
    bad = cli_input(
        "", "halls", "set-hours", "--db", platform.db, "--hall", name, "--hours", "mon 18:00-09:00"
    )
    assert bad.returncode == 2 and "ends before it starts" in bad.stderr


def test_a_terminal_goes_offline_after_three_missed_heartbeats_and_comes_back(
    platform: ServiceProcess, hall: str, staff: Staff
) -> None:
    kiosk = Kiosk(platform, hall)
    kiosk.heartbeat(beat(interval_s=10))
    started = time.monotonic()
    time.sleep(20)
    assert terminal_in(staff.state(hall), kiosk.id)["status"] == "online"  # two missed: not yet
    while terminal_in(staff.state(hall), kiosk.id)["status"] == "online":
        assert time.monotonic() - started < 60, "still online a minute after its last heartbeat"
        time.sleep(0.5)
    assert time.monotonic() - started >= 30

    def alerts() -> list[str]:
        return [a["kind"] for a in staff.state(hall)["alerts"] if a["terminal_id"] == kiosk.id]

    deadline = time.monotonic() + 5  # the sweep runs every second in each serve process
    while alerts() != ["offline"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alerts() == ["offline"]  # the hall is open all day
    kiosk.heartbeat(beat(interval_s=10))
    assert terminal_in(staff.state(hall), kiosk.id)["status"] == "online"
    assert not [a for a in staff.state(hall)["alerts"] if a["terminal_id"] == kiosk.id]


def test_metrics_for_monitoring(platform: ServiceProcess, hall: str) -> None:
    Kiosk(platform, hall).heartbeat(beat())
    text = httpx.get(platform.base_url + "/metrics", timeout=10).text
    assert f'kiosk_terminals{{hall="{hall}",status="online"}}' in text
    assert "report_service_request_seconds_bucket" in text


def test_short_call_ids_nested_error_counters_and_help_calls_in_the_metrics(
    platform: ServiceProcess,
) -> None:
    """What a terminal other than ours might send: a call id of two letters, errors by kind as
    an object; and the metrics following the call from open to acknowledged to resolved."""
    name = "hall-metrics-" + secrets.token_hex(3)
    add_staff(platform, name, "m-" + name)
    staff, kiosk = Staff(platform, "m-" + name), Kiosk(platform, name)
    answer = kiosk.heartbeat(beat(counters={"receipts": 3, "errors": {"paper_out": 2}}))
    assert answer.status_code == 200, answer.text
    counters = terminal_in(staff.state(name), kiosk.id)["counters"]
    assert counters == {"receipts": 3, "errors.paper_out": 2}
    assert kiosk.assist(call_id="c1").status_code == 200

    def gauges() -> tuple[str, str]:
        text = httpx.get(platform.base_url + "/metrics", timeout=10).text
        return tuple(  # type: ignore[return-value]
            next(line.split()[-1] for line in text.splitlines()
                 if line.startswith(f'kiosk_help_calls_{status}{{hall="{name}"}}'))
            for status in ("open", "acknowledged")
        )  # fmt: skip

    assert gauges() == ("1", "0")
    assert staff.post(f"/halls/{name}/help-calls/c1/acknowledge").status_code == 200
    assert gauges() == ("0", "1")
    assert staff.post(f"/halls/{name}/help-calls/c1/resolve").status_code == 200
    assert gauges() == ("0", "0")
    other = Kiosk(platform, name)  # a second terminal numbering its calls the same way
    assert kiosk.assist(call_id="c2").status_code == 200
    assert other.assist(call_id="c2").status_code == 200
    ambiguous = staff.post(f"/halls/{name}/help-calls/c2/acknowledge")
    assert (
        ambiguous.status_code == 409 and ambiguous.json()["error"]["code"] == "help_call_ambiguous"
    )
    named = staff.post(f"/halls/{name}/help-calls/c2/acknowledge?terminal_id={other.id}")
    assert named.status_code == 200
    statuses = {(c["terminal_id"], c["status"]) for c in staff.state(name)["help_calls"]
                if c["call_id"] == "c2"}  # fmt: skip
    assert statuses == {(kiosk.id, "open"), (other.id, "acknowledged")}
