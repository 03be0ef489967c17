"""What every part of hall operations shares: the database, the clock, the holiday calendar, the
change feed and the settings a deployment may tune."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..clock import aware
from ..profiles import holiday_calendar
from ..workdays import HolidayCalendar
from . import models
from .feed import notify_on_commit
from .hours import is_open, load_hours


@dataclass(frozen=True)
class HallSettings:
    offline_after_beats: int = 3  # DESIGN §8: three missed heartbeats
    help_ack_alert_s: int = 180  # an open help call older than this raises an alert
    help_poll_s: int = 3  # the heartbeat interval the kiosk should use while a call is open
    staff_session_s: int = 8 * 3600  # one shift
    sweep_s: float = 1.0  # how often each process looks for terminals gone quiet


@dataclass
class HallContext:
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], dt.datetime]
    settings: HallSettings = field(default_factory=HallSettings)
    calendar: HolidayCalendar = field(default_factory=holiday_calendar)
    on_change: Callable[[str], None] = field(default=lambda hall_id: None)

    def now(self) -> dt.datetime:
        return self.clock()

    def hall_open(self, s: Session, hall_id: str, when: dt.datetime | None = None) -> bool:
        hall = s.get(models.Hall, hall_id)
        weekly = load_hours(hall.hours) if hall is not None else None
        return is_open(weekly, self.calendar, when or self.now())

    def bump(self, s: Session, hall_id: str) -> None:
        """Mark the hall changed, in the caller's transaction (the dashboards' feed reads it)."""
        now = self.now()
        done = s.execute(
            update(models.HallVersion)
            .where(models.HallVersion.hall_id == hall_id)
            .values(version=models.HallVersion.version + 1, changed_at=now)
        )
        if done.rowcount == 0:  # type: ignore[attr-defined]
            s.add(models.HallVersion(hall_id=hall_id, version=1, changed_at=now))
        if hall_id not in s.info.setdefault("changed_halls", set()):
            notify_on_commit(s, hall_id)
            s.info["changed_halls"].add(hall_id)

    def notify_committed(self, s: Session) -> None:
        """After commit: wake this process's (and, on PostgreSQL, every process's) dashboards."""
        for hall_id in s.info.pop("changed_halls", set()):
            self.on_change(hall_id)

    def ensure_hall(self, s: Session, hall_id: str, region: str) -> models.Hall:
        hall = s.get(models.Hall, hall_id)
        if hall is None:
            hall = models.Hall(hall_id=hall_id, region=region, name="", hours="")
            s.add(hall)
        return hall


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None


def hall_ids(s: Session) -> list[str]:
    return list(s.scalars(select(models.Hall.hall_id)))


__all__ = ["HallContext", "HallSettings", "aware", "hall_ids", "loads"]
