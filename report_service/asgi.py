"""ASGI entry point for uvicorn workers; configuration comes from the environment `serve` sets."""

from __future__ import annotations

import gc
import logging
import os
import sys

from fastapi import FastAPI

from .app import Settings, create_app
from .bootstrap import open_platform
from .hall import HallSettings
from .ratelimit import VERIFY_PER_MINUTE
from .sessions import FAILURE_LIMIT

SWITCH_INTERVAL_S = 0.001


def app_from_env() -> FastAPI:
    if not logging.getLogger().handlers:  # a spawned worker: log as the serve process does
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    env = os.environ
    settings = Settings(
        db_wait_s=float(env.get("REPORT_SERVICE_DB_WAIT", "5")),
        body_timeout_s=float(env.get("REPORT_SERVICE_BODY_TIMEOUT", "15")),
        verify_per_minute=float(env.get("REPORT_SERVICE_VERIFY_RATE", VERIFY_PER_MINUTE)),
    )
    service = open_platform(
        env["REPORT_SERVICE_DB"],
        env.get("REPORT_SERVICE_KEYS"),
        public_url=env.get("REPORT_SERVICE_PUBLIC_URL", "http://127.0.0.1:8080"),
        create=False,
        wait_s=settings.db_wait_s,
        failure_limit=int(env.get("REPORT_SERVICE_AUTH_FAILURES", FAILURE_LIMIT)),
    )
    hall = HallSettings(help_ack_alert_s=int(env.get("REPORT_SERVICE_HELP_ALERT_S", "180")))
    app = create_app(service, settings, hall)
    # What start-up made lives as long as the process: out of the collector's sight, a full
    # collection no longer walks it (those were 50-145 ms pauses every ~10 s under the fleet
    # benchmark, every request in the process held up, and the write lock with them)
    gc.collect()
    gc.freeze()
    # A database thread holding the write gate waits for the GIL after each statement, behind
    # the event loop's render: 1 ms turns instead of 5 shorten that wait for every writer (the
    # fleet benchmark's runs with and without it: benchmarks/RESULTS.md, 2026-12-06 08:00)
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return app
