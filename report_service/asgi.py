"""ASGI entry point for uvicorn workers; configuration comes from the environment `serve` sets."""

from __future__ import annotations

import os

from fastapi import FastAPI

from .app import create_app
from .db import make_engine
from .hall import HallSettings
from .service import PlatformService


def app_from_env() -> FastAPI:
    service = PlatformService(
        make_engine(os.environ["REPORT_SERVICE_DB"]),
        public_url=os.environ.get("REPORT_SERVICE_PUBLIC_URL", "http://127.0.0.1:8080"),
    )
    settings = HallSettings(
        help_ack_alert_s=int(os.environ.get("REPORT_SERVICE_HELP_ALERT_S", "180"))
    )
    return create_app(service, settings)
