"""The kiosk core without screens, as a process the fault test kills: the real composition pieces
(enrollment, the encrypted store, OfflineDesk, OutboxDrainer, the real API client) against a real
`report-service serve`.

    python tests/offline_kiosk_child.py STATE_DIR PLATFORM_URL enroll|work|finish   < job.json

The job on stdin (never on disk: it holds the people's card fields): `{"people": [{card fields,
"uscc"}], "requests": N, "acked": [index, ...], "pace_s": [low, high]}`. Request i is person
i % len(people) asking for their enterprise's report, as the journey queues it offline.

Lines on stdout: `READY` once the store is open; `ACK i ticket` after `enqueue` returned for
request i (what a pickup receipt would tell the person); `ENQUEUED` when every request is
acknowledged; `DONE pending in_flight delivered dead` when finish mode has drained the queue.
Log lines go to stderr.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
import sys
from pathlib import Path
from typing import Any

from kiosk.api import ApiSettings, ReportApi
from kiosk.compose import build_drainer, ensure_enrolled, open_offline_store
from kiosk.config import KioskConfig, OfflineConfig
from kiosk.offline import OfflineIdentity
from kiosk.offline_desk import OfflineDesk
from kiosk.periods import DEFAULT_PRESET, Bounds, preset_period
from kiosk.signing import load_platform_key

FLOOR = dt.date(2021, 1, 1)  # gansu's floor date


class Card:
    """The fields the reader hands over; only what the offline identity needs."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.id_number = str(fields["id_number"])
        self.name = str(fields["name"])
        until = fields.get("valid_until")
        self.valid_until = None if until is None else dt.date.fromisoformat(str(until))


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def config_for(state: Path, url: str) -> KioskConfig:
    return KioskConfig(
        platform_url=url,
        state_dir=state,
        hall_name="崩溃测试大厅",
        devices={},
        # the rig's quick retries: a platform that comes back is seen within seconds
        offline=OfflineConfig(drain_backoff_base_s=0.2, drain_backoff_cap_s=2.0),
        enrollment_token_file=state.parent / "enrollment.token",
    )


async def work(config: KioskConfig, job: dict[str, Any], finish: bool) -> None:
    settings = ApiSettings(config.platform_url)
    enrollment, credentials = ensure_enrolled(config, settings)
    api = ReportApi(settings, credentials)
    store = open_offline_store(config)
    drainer = build_drainer(config, store, api)
    desk = OfflineDesk(
        store,
        api,
        load_platform_key(enrollment.platform_public_key),
        printing=None,  # type: ignore[arg-type]  # nothing is printed here; ACK stands for it
        wake=drainer.wake,
    )
    out("READY")
    draining = asyncio.get_running_loop().create_task(drainer.run())
    people = [(Card(p), str(p["uscc"])) for p in job["people"]]
    period = preset_period(DEFAULT_PRESET, Bounds(FLOOR, 5, dt.date.today()))
    acked = set(job["acked"])
    low, high = job["pace_s"]
    rng = random.Random()
    for index in range(int(job["requests"])):
        if index in acked:
            continue
        card, uscc = people[index % len(people)]
        queued = desk.enqueue(OfflineIdentity.from_card(card), uscc, None, period)
        out(f"ACK {index} {queued.ticket}")
        # people arrive one after another; meanwhile the drain task delivers
        await asyncio.sleep(0 if finish else rng.uniform(low, high))
    out("ENQUEUED")
    while True:
        counts = store.outbox.counts()
        if finish and counts.pending == 0 and counts.in_flight == 0:
            break
        await asyncio.sleep(0.05)
    draining.cancel()
    await asyncio.gather(draining, return_exceptions=True)
    await api.aclose()
    store.close()
    out(f"DONE {counts.pending} {counts.in_flight} {counts.delivered} {counts.dead_letter}")


def main() -> None:
    state, url, mode = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    config = config_for(state, url)
    if mode == "enroll":
        ensure_enrolled(config, ApiSettings(url))
        out("ENROLLED")
        return
    job = json.loads(sys.stdin.read())
    asyncio.run(work(config, job, finish=mode == "finish"))


if __name__ == "__main__":
    main()
