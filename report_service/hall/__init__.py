"""Hall operations (DESIGN §8): terminals report to the platform, help calls reach a person, and
staff watch and act on their hall's terminals from a live dashboard.

`HallService` is the one object the app builds; docs/hall-operations.md is the staff's guide.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from ..db import session_factory
from ..signing import NonceLedger
from .context import HallContext, HallSettings
from .feed import HallFeed
from .operations import Operations
from .staff import StaffAccounts
from .telemetry import Telemetry


@dataclass
class HallService:
    ctx: HallContext
    feed: HallFeed
    telemetry: Telemetry
    operations: Operations
    staff: StaffAccounts

    @classmethod
    def build(
        cls,
        engine: Engine,
        clock: Callable[[], dt.datetime],
        nonces: NonceLedger,
        settings: HallSettings | None = None,
    ) -> HallService:
        """`nonces` records signed terminal calls' nonces (signing.RequestAuth)."""
        feed = HallFeed(engine)
        ctx = HallContext(
            engine,
            session_factory(engine),
            clock,
            settings or HallSettings(),
            on_change=feed.publish,
        )
        return cls(ctx, feed, Telemetry(ctx, nonces), Operations(ctx), StaffAccounts(ctx))


__all__ = ["HallService", "HallSettings"]
