"""The common heartbeat's one-statement path (report_service/hall/steady.py) on both databases: it
stores a heartbeat that says what the last one said, and declines, writing nothing, whenever the
full path has something to do (a change staff would see, an alert, a command, a help call)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from report_service import db
from report_service.hall import models, steady

from .hall_support import beat
from .postgres_server import pg_bin, postgres_server

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
TERMINAL, HALL = "T-STEADY-1", "hall-steady"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = db.make_engine(f"sqlite:///{tmp_path / 'p.db'}")
        db.init_db(made)
        yield made
        made.dispose()
        return
    if pg_bin() is None:
        pytest.skip(reason="PostgreSQL not installed: `make test` installs it; this machine cannot")
    with postgres_server() as url:
        made = db.make_engine(url)
        db.init_db(made)
        yield made
        made.dispose()


def values(at: dt.datetime, **changes: Any) -> dict[str, Any]:
    data = {"reason": None, "last_error": None, **beat(**changes)}
    return steady.state_values(HALL, data, at, 3)


def store(engine: Engine, at: dt.datetime, new: dict[str, Any]) -> bool:
    with engine.begin() as conn:
        return steady.store_if_steady(conn, TERMINAL, new, at)


def last_seen(engine: Engine) -> dt.datetime:
    with engine.connect() as conn:
        seen = conn.execute(select(models.TerminalState.last_seen)).scalar_one()
    return seen if seen.tzinfo else seen.replace(tzinfo=dt.UTC)


def test_a_beat_like_the_last_is_stored_and_any_news_declined(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            models.TerminalState.__table__.insert(), values(NOW) | {"terminal_id": TERMINAL}
        )
    later = NOW + dt.timedelta(seconds=30)
    assert not store(engine, later, values(later, uptime_s=99) | {"hall_id": "hall-other"})
    assert store(engine, later, values(later, uptime_s=99))  # only the quiet columns differ
    assert last_seen(engine) == later

    latest = later + dt.timedelta(seconds=30)
    news = [
        values(latest, **{"devices.a4_printer.paper": "low"}),
        values(latest, availability="out_of_service", reason="a4_printer"),
        values(latest, last_error="a4.paper_out"),
        values(latest, app_version="1.0.1"),
    ]
    for changed in news:
        assert not store(engine, latest, changed)
    assert last_seen(engine) == later  # nothing written by any of them

    def call(status: str, resolved_ago: dt.timedelta | None = None) -> models.HelpCall:
        resolved = latest - resolved_ago if resolved_ago else None
        return models.HelpCall(terminal_id=TERMINAL, call_id="c1", hall_id=HALL, reason="other",
                               step="summary", status=status, created_at=NOW,
                               resolved_at=resolved)  # fmt: skip

    def command(status: str) -> models.Command:
        return models.Command(command_id="C0000000000STEADY", terminal_id=TERMINAL, hall_id=HALL,
                              kind="lock", args="{}", status=status, created_at=NOW,
                              created_by="t", expires_at=NOW + dt.timedelta(hours=1))  # fmt: skip

    alert = models.Alert(terminal_id=TERMINAL, hall_id=HALL, kind="paper_low", raised_at=NOW,
                         active_key="x")  # fmt: skip
    waiting = [alert, command("pending"), command("sent"), call("open"), call("acknowledged"),
               call("resolved", dt.timedelta(minutes=9))]  # fmt: skip
    for row in waiting:
        with db.session_factory(engine).begin() as s:
            s.add(row)
        assert not store(engine, latest, values(latest))  # the full path has work to do
        with db.session_factory(engine).begin() as s:
            s.delete(s.merge(row))
    cleared = models.Alert(terminal_id=TERMINAL, hall_id=HALL, kind="paper_low", raised_at=NOW,
                           cleared_at=later, active_key=None)  # fmt: skip
    done = [command("executed"), call("resolved", dt.timedelta(minutes=11)), cleared]
    with db.session_factory(engine).begin() as s:
        s.add_all(done)
    assert store(engine, latest, values(latest))  # what is over does not hold the path back
    assert last_seen(engine) == latest

    with engine.begin() as conn:  # the sweep marked it offline (no alert outside opening hours)
        conn.execute(models.TerminalState.__table__.update().values(link="offline"))
    assert not store(engine, latest + dt.timedelta(seconds=30), values(latest))
