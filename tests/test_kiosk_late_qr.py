"""An offline request made with a login QR survives an outage longer than the QR's life (DESIGN
§5, issue 14): the kiosk's real drain, encrypted queue and API client against a real platform."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.api import ApiSettings, ReportApi
from kiosk.drain import OutboxDrainer
from kiosk.offline import REPORT_REQUEST, OfflineIdentity, QueuedRequest
from kiosk.periods import Period
from kiosk.signing import TerminalCredentials, public_key_b64
from offline_cache import ItemState, OfflineStore
from offline_cache.keys import FileKeyProvider

from .casebook import company_and_person, id_number, uscc
from .conftest import import_jsonl
from .platform_client import ServiceProcess, cli

COMPANY = uscc("gansu", 8861)
PERSON = id_number("gansu", 886)
CST = dt.timezone(dt.timedelta(hours=8))


def test_a_qr_queued_request_is_delivered_after_the_qr_expired(
    platform: ServiceProcess, tmp_path: Path
) -> None:
    lines = company_and_person(
        "gansu", COMPANY, "甘肃迟到码测试有限公司", PERSON, "迟到码人", "agent"
    )
    import_jsonl(platform, tmp_path / "p.jsonl", lines)
    token = cli(
        "terminals", "add-token", "--db", platform.db, "--hall", "hall-late", "--region", "gansu"
    ).stdout.strip()
    key = Ed25519PrivateKey.generate()

    async def session(api: ReportApi, fn: Any) -> Any:
        try:
            return await fn(api)
        finally:
            await api.aclose()

    settings = ApiSettings(platform.base_url, retries=0, backoff_s=0.01)
    enrollment = asyncio.run(
        session(
            ReportApi(settings),
            lambda api: api.enroll(token, public_key_b64(key), {"model": "test"}),
        )
    )
    credentials = TerminalCredentials(enrollment.terminal_id, key)
    payload = cli(
        "issue-login-qr", "--db", platform.db, "--id-number", PERSON, "--ttl", "4"
    ).stdout.strip()
    expires = json.loads(base64.urlsafe_b64decode(payload.split(".")[1] + "=="))["exp"]

    # queued while the QR was valid (the kiosk checked it offline), as OfflineDesk.enqueue does
    identity = OfflineIdentity.from_qr(payload, "迟***")
    queued_at = dt.datetime.now(CST).replace(microsecond=0)
    ticket = "late-qr-" + str(int(time.time()))
    period = Period(dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    body = QueuedRequest.of(identity, COMPANY, None, period, queued_at).to_payload()
    with OfflineStore.open(
        tmp_path / "q.db", FileKeyProvider(tmp_path / "q.key", create=True)
    ) as store:
        store.outbox.enqueue(REPORT_REQUEST, ticket, body, pii=True)
        assert queued_at.timestamp() < expires  # queued while the QR was valid
        time.sleep(max(expires - time.time(), 0) + 0.5)  # back after the QR ran out
        api = ReportApi(settings, credentials)
        drainer = OutboxDrainer(store, api, base=0.5, cap=1.0, rand=lambda: 0.0)
        asyncio.run(session(api, lambda _: drainer.drain()))
        item = store.outbox.find(REPORT_REQUEST, ticket)
        assert item is not None and item.state is ItemState.DELIVERED, item

    async def pickup(api: ReportApi) -> Any:
        login = await api.login_id_card(PERSON, "迟到码人", None)
        return await api.report_by_ticket(login.session_token, ticket)

    report = asyncio.run(session(ReportApi(settings, credentials), pickup))
    assert report.report_id
