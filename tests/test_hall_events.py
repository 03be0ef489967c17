"""Terminal events (DESIGN §3, §8): idempotent by event id, however old the event has grown."""

from __future__ import annotations

import datetime as dt
import secrets
import time

import pytest

from .hall_support import Kiosk, new_hall
from .platform_client import ServiceProcess

hall = pytest.fixture(scope="module", name="hall")(new_hall)


def test_an_event_stored_then_aged_out_of_the_range_is_still_a_duplicate(
    platform: ServiceProcess, hall: str
) -> None:
    """Stored just inside the 366 days, then sent again once it has aged out of them (its answer
    lost, then a long outage): a duplicate, not a 422 that would make the kiosk dead-letter it.
    A new event at that time is refused."""
    kiosk = Kiosk(platform, hall)
    edge = dt.datetime.now(dt.UTC) - dt.timedelta(days=366) + dt.timedelta(seconds=4)
    aging = {"event_id": "ev-" + secrets.token_hex(6), "kind": "print_done",
             "at": edge.isoformat(), "fields": {}}  # fmt: skip
    assert kiosk.events([aging]).json() == {"accepted": 1, "duplicates": 0}
    aged_out = edge + dt.timedelta(days=366, seconds=0.5)
    time.sleep(max(0.0, (aged_out - dt.datetime.now(dt.UTC)).total_seconds()))
    assert kiosk.events([aging]).json() == {"accepted": 0, "duplicates": 1}
    new = dict(aging, event_id="ev-" + secrets.token_hex(6))
    refused = kiosk.events([new])
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "event_time_out_of_range"
