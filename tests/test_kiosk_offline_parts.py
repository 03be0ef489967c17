"""The offline path's parts: the offline login-QR check, the credit-code check, tickets, the
[offline] config section, and the drain's delivery rules against a scripted platform over a real
httpx transport with a real encrypted store."""

from __future__ import annotations

import asyncio
import json
import random
import string
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from identifiers import USCC_CHARSET, uscc_problem
from kiosk.api import ApiSettings, ReportApi
from kiosk.config import load_config
from kiosk.drain import OutboxDrainer
from kiosk.errors import ConfigInvalid
from kiosk.login_qr import LoginQrRefused, check_login_qr
from kiosk.offline import REPORT_REQUEST, OfflineIdentity, QueuedRequest
from kiosk.periods import Period
from kiosk.scanned import classify
from kiosk.signing import TerminalCredentials
from kiosk.tickets import TICKET, new_ticket, ticket_from
from offline_cache import FileKeyProvider, ItemState, OfflineStore
from report_service import crypto, ids
from report_service.reports import IDEMPOTENCY_KEY

from .casebook import uscc
from .kiosk_fakes import Card
from .test_kiosk_config import GOOD

# --- login QR checked offline ------------------------------------------------------------------
KEY = crypto.SigningKey.generate()


def issued(ttl: int = 300, key: crypto.SigningKey = KEY, now: int | None = None) -> str:
    return crypto.issue_login_qr(key, "P123", "李*", now or int(time.time()), ttl)


def test_a_platform_signed_login_qr_passes_offline() -> None:
    claims = check_login_qr(issued(), KEY.public_key(), time.time())
    assert claims.name_masked == "李*" and claims.subject == "P123"
    assert "P123" not in repr(claims)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (lambda: issued(ttl=60, now=int(time.time()) - 120), "expired"),
        (lambda: issued(key=crypto.SigningKey.generate()), "bad_signature"),
        (lambda: issued()[:-8] + "AAAAAAAA", "bad_signature"),
        (lambda: "KQR1.e30." + "A" * 86, "bad_signature"),
        (lambda: "KQR1.not-a-payload", "malformed"),
        (lambda: "KQR1." + "A" * 2000, "malformed"),
    ],
)
def test_a_forged_expired_or_broken_login_qr_is_refused(payload: object, reason: str) -> None:
    with pytest.raises(LoginQrRefused) as refused:
        check_login_qr(payload(), KEY.public_key(), time.time())  # type: ignore[operator]
    assert refused.value.reason == reason
    expected = "error.login_qr_expired" if reason == "expired" else "error.login_qr_invalid"
    assert refused.value.message_id == expected


def test_a_tampered_claim_is_refused_even_with_a_fresh_expiry() -> None:
    body, _, sig = issued().rpartition(".")
    claims = json.loads(crypto.b64url_decode(body[5:]))
    claims["sub"] = "SOMEONE-ELSE"
    forged = "KQR1." + crypto.b64url_encode(json.dumps(claims).encode()) + "." + sig
    with pytest.raises(LoginQrRefused):
        check_login_qr(forged, KEY.public_key(), time.time())


# --- credit codes and tickets ------------------------------------------------------------------
def test_the_kiosk_and_the_platform_agree_on_credit_codes() -> None:
    rng = random.Random(5)
    good = [uscc("gansu", n) for n in range(50)]
    for code in good:
        assert uscc_problem(code) is None
    alphabet = USCC_CHARSET + "IOSVZ" + string.ascii_lowercase[:3]
    for _ in range(2000):
        base = rng.choice(good)
        pos = rng.randrange(18)
        mutated = base[:pos] + rng.choice(alphabet) + base[pos + 1 :]
        assert (uscc_problem(mutated) is None) == ids.is_valid_uscc(mutated), mutated


def test_tickets_are_unique_readable_and_valid_idempotency_keys() -> None:
    tickets = {new_ticket() for _ in range(500)}
    assert len(tickets) == 500
    for ticket in tickets:
        assert TICKET.match(ticket) and IDEMPOTENCY_KEY.match(ticket)
        assert classify(ticket).kind == "pickup" and classify(ticket).value == ticket
        assert ticket_from(" " + ticket.lower() + "\n") == ticket
    assert classify("ABCDEFGHJK12").kind == "verify"  # a verification code is not a ticket


# --- the [offline] config section ------------------------------------------------------------------
def write(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(GOOD + extra, encoding="utf-8")
    return path


def test_offline_defaults_live_in_the_state_dir(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.offline_db == tmp_path / "state" / "offline.db"
    assert config.offline_key == tmp_path / "state" / "offline.key"
    assert config.offline.drain_backoff_cap_s == 300.0


def test_offline_settings_are_read(tmp_path: Path) -> None:
    extra = """
[offline]
cache_file = "/var/lib/kiosk/queue.db"
key_file = "/etc/kiosk/queue.key"
reprint_ttl_s = 600
drain_backoff_base_s = 1
drain_backoff_cap_s = 60
pickup_after_min = 30
"""
    config = load_config(write(tmp_path, extra))
    assert config.offline_db == Path("/var/lib/kiosk/queue.db")
    assert config.offline_key == Path("/etc/kiosk/queue.key")
    assert (config.offline.reprint_ttl_s, config.offline.pickup_after_min) == (600.0, 30)
    assert (config.offline.drain_backoff_base_s, config.offline.drain_backoff_cap_s) == (1.0, 60.0)


def test_bad_offline_settings_are_all_named(tmp_path: Path) -> None:
    extra = """
[offline]
cache_file = "same"
key_file = "same"
reprint_ttl_s = -1
drain_backoff_base_s = 100
drain_backoff_cap_s = 50
colour = "blue"
"""
    with pytest.raises(ConfigInvalid) as bad:
        load_config(write(tmp_path, extra))
    text = "\n".join(bad.value.problems)
    for key in ("offline.key_file", "offline.reprint_ttl_s", "offline.drain_backoff_base_s"):
        assert key in text
    assert "offline.colour: unknown key" in text


# --- the drain against a scripted platform ---------------------------------------------------------
class Script:
    """The platform's answers by path, in order; records every call."""

    def __init__(self) -> None:
        self.answers: dict[str, list[httpx.Response]] = {}
        self.calls: list[tuple[str, str]] = []

    def add(self, path: str, *responses: httpx.Response) -> None:
        self.answers.setdefault(path, []).extend(responses)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.url.path, request.headers.get("Idempotency-Key", "")))
        queue = self.answers.get(request.url.path)
        if not queue:
            return httpx.Response(503, json={"error": {"code": "x", "message": "down"}})
        return queue.pop(0) if len(queue) > 1 else queue[0]


SESSION = {
    "session_token": "t" * 43,
    "expires_at": "2099-01-01T00:00:00+08:00",
    "person": {"id": "P1", "name": "张*"},
    "enterprises": [],
}
REPORT = {
    "report_id": "R20261122ABCDEFGHJK",
    "verification_code": "ABCDEFGHJK12",
    "issued_at": "2026-11-22T10:00:00+08:00",
    "valid_until": "2026-12-22",
    "summary": {"domains": [], "total_records": 0},
    "sha256": "0" * 64,
    "signature": "c2ln",
}


def error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": "refused"}})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[OfflineStore]:
    with OfflineStore.open(
        tmp_path / "q.db", FileKeyProvider(tmp_path / "q.key", create=True)
    ) as s:
        yield s


def drainer_for(store: OfflineStore, script: Script) -> OutboxDrainer:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    api = ReportApi(
        ApiSettings("http://platform.test", retries=0, backoff_s=0.0),
        TerminalCredentials("T1", Ed25519PrivateKey.generate()),
        transport=httpx.MockTransport(script),
    )
    return OutboxDrainer(store, api, base=0.5, cap=1.0, rand=lambda: 0.0)


def queue(store: OfflineStore, identity: OfflineIdentity) -> str:
    import datetime as dt

    ticket = new_ticket()
    request = QueuedRequest.of(
        identity, uscc("gansu", 1), None, Period(dt.date(2024, 1, 1), dt.date(2025, 1, 1)),
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    payload = request.to_payload()
    store.outbox.enqueue(REPORT_REQUEST, ticket, payload, pii=True)
    return ticket


def test_delivery_opens_a_session_and_posts_with_the_ticket(store: OfflineStore) -> None:
    script = Script()
    script.add("/v1/sessions/id-card", httpx.Response(200, json=SESSION))
    script.add("/v1/reports", httpx.Response(201, json=REPORT))
    ticket = queue(store, OfflineIdentity.from_card(Card()))
    asyncio.run(drainer_for(store, script).drain())
    found = store.outbox.find(REPORT_REQUEST, ticket)
    assert found is not None and found.state is ItemState.DELIVERED and found.payload is None
    assert script.calls == [("/v1/sessions/id-card", ""), ("/v1/reports", ticket)]


def test_an_unreachable_platform_means_later_and_a_refusal_means_never(
    store: OfflineStore,
) -> None:
    script = Script()  # nothing scripted: 503 everywhere
    later = queue(store, OfflineIdentity.from_card(Card()))
    wait = asyncio.run(drainer_for(store, script).drain())
    found = store.outbox.find(REPORT_REQUEST, later)
    assert found is not None and found.state is ItemState.PENDING
    assert found.last_error == "api.unavailable" and found.payload is not None
    assert 0.0 <= wait <= 60.0

    script.add("/v1/sessions/id-card", httpx.Response(200, json=SESSION))
    script.add("/v1/reports", error(403, "not_authorized_for_entity"))
    asyncio.run(drainer_for(store, script).drain())
    found = store.outbox.find(REPORT_REQUEST, later)
    assert found is not None and found.state is ItemState.DEAD_LETTER
    assert found.last_error == "api.not_authorized_for_entity"


def test_a_login_qr_session_is_reused_when_the_report_call_is_retried(
    store: OfflineStore,
) -> None:
    script = Script()
    script.add("/v1/sessions/qr", httpx.Response(200, json=SESSION), error(401, "login_qr_used"))
    script.add("/v1/reports", httpx.Response(503, text="busy"), httpx.Response(201, json=REPORT))
    ticket = queue(store, OfflineIdentity.from_qr(issued(), "李*"))
    drainer = drainer_for(store, script)
    asyncio.run(drainer.drain())  # session opened, report call failed: retry later
    time.sleep(0.1)  # past the (zero-jitter) retry time
    asyncio.run(drainer.drain())
    found = store.outbox.find(REPORT_REQUEST, ticket)
    assert found is not None and found.state is ItemState.DELIVERED
    assert [path for path, _ in script.calls].count("/v1/sessions/qr") == 1


def test_the_terminal_refused_is_retried_not_given_up(store: OfflineStore) -> None:
    script = Script()
    script.add("/v1/sessions/id-card", error(401, "stale_timestamp"))
    ticket = queue(store, OfflineIdentity.from_card(Card()))
    asyncio.run(drainer_for(store, script).drain())
    found = store.outbox.find(REPORT_REQUEST, ticket)
    assert found is not None and found.state is ItemState.PENDING  # the clock gets fixed


def test_a_picked_up_pdf_that_fails_its_check_alerts_staff(store: OfflineStore) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.api_models import Login
    from kiosk.errors import IntegrityFailure
    from kiosk.offline_desk import OfflineDesk

    ticket = new_ticket()
    script = Script()
    script.add(f"/v1/reports/by-ticket/{ticket}", httpx.Response(200, json=REPORT))
    pdf_path = f"/v1/reports/{REPORT['report_id']}/pdf"
    script.add(pdf_path, httpx.Response(200, content=b"%PDF-1.7 not the signed bytes"))
    api = ReportApi(
        ApiSettings("http://platform.test", retries=0, backoff_s=0.0),
        TerminalCredentials("T1", Ed25519PrivateKey.generate()),
        transport=httpx.MockTransport(script),
    )
    alerts: list[tuple[str, str]] = []
    desk = OfflineDesk(
        store,
        api,
        Ed25519PrivateKey.generate().public_key(),
        None,  # type: ignore[arg-type]  # nothing is printed here
        alert=lambda code, detail: alerts.append((code, detail)),
    )
    login = Login.from_json(SESSION)
    with pytest.raises(IntegrityFailure):
        asyncio.run(desk.pickup(login, ticket))
    assert [code for code, _ in alerts] == ["report.integrity"]


# --- the queued request ------------------------------------------------------------------------
def test_a_queued_request_is_written_and_read_back_as_one_type() -> None:
    import datetime as dt

    identity = OfflineIdentity.from_card(Card())
    period = Period(dt.date(2024, 1, 1), dt.date(2025, 1, 1))
    at = dt.datetime(2026, 1, 1, 9, 30, tzinfo=dt.UTC)
    request = QueuedRequest.of(identity, uscc("gansu", 1), ("D01", "D02"), period, at)
    payload = request.to_payload()
    assert payload == {  # the format docs/offline.md names: version 1
        "v": 1,
        "login": "id_card",
        "credentials": identity.credentials,
        "uscc": uscc("gansu", 1),
        "domains": ["D01", "D02"],
        "period": {"from": "2024-01-01", "to": "2025-01-01"},
        "queued_at": "2026-01-01T09:30:00+00:00",
    }
    assert QueuedRequest.from_payload(json.loads(json.dumps(payload))) == request
    everything = QueuedRequest.of(identity, uscc("gansu", 1), None, period, at)
    assert everything.to_payload()["domains"] == "all"
    assert QueuedRequest.from_payload(everything.to_payload()).domains is None
    assert Card().id_number not in repr(request) and Card().name not in repr(request)
    same_person = QueuedRequest.of(identity, uscc("gansu", 2), None, period, at)
    assert same_person.session_key == request.session_key


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"login": "fingerprint"},
        {"period": "2024"},
        {"credentials": None},
        {"queued_at": "yesterday"},
    ],
)
def test_anything_but_a_version_1_request_is_refused(change: dict[str, object]) -> None:
    import datetime as dt

    identity = OfflineIdentity.from_qr("KQR1.x.y", "李*")
    period = Period(dt.date(2024, 1, 1), dt.date(2025, 1, 1))
    good = QueuedRequest.of(identity, uscc("gansu", 1), None, period, dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        QueuedRequest.from_payload({**good.to_payload(), **change})
    with pytest.raises(ValueError):
        QueuedRequest.from_payload(["not", "a", "dict"])
