"""The common heartbeat's one-statement path (report_service/hall/steady.py) on both databases, and
on PostgreSQL also as one statement with the request's nonce outside any transaction: it stores a
heartbeat that says what the last one said, and declines, writing nothing (nor the nonce), whenever
the full path has something to do (a change staff would see, an alert, a command, a help call)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from report_service import db
from report_service.hall import models, steady
from report_service.signing import Caller, SignedRequest

from .hall_support import beat
from .postgres_server import pg_bin, postgres_server, statements_run

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
TERMINAL, HALL = "T-STEADY-1", "hall-steady"


Store = Callable[[Engine, dt.datetime, dict[str, Any]], bool]


def in_a_transaction(engine: Engine, at: dt.datetime, new: dict[str, Any]) -> bool:
    with engine.begin() as conn:
        return steady.store_if_steady(conn, TERMINAL, new, at)


def alone(engine: Engine, at: dt.datetime, new: dict[str, Any]) -> bool:
    """The PostgreSQL statement, whose nonce is recorded exactly when the heartbeat is stored."""
    signed = signed_at(at)
    with statements_run(engine) as sent:
        stored = steady.store_alone(engine, signed, new, at)
    assert [outside for _, outside in sent] == [True]  # one statement, no BEGIN or COMMIT
    assert nonces(engine, signed.nonce) == int(stored)
    return stored


def signed_at(at: dt.datetime) -> SignedRequest:
    return SignedRequest(
        Caller(TERMINAL, HALL, "gansu"), secrets.token_urlsafe(16), int(at.timestamp())
    )


def nonces(engine: Engine, nonce: str) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(db.Nonce.nonce == nonce)).scalar_one()


@contextmanager
def new_engine(kind: str, tmp_path: Path) -> Iterator[Engine]:
    if kind == "sqlite":
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


@pytest.fixture(
    params=[
        pytest.param(("sqlite", in_a_transaction), id="sqlite"),
        pytest.param(("postgres", in_a_transaction), id="postgres", marks=pytest.mark.postgres),
        pytest.param(("postgres", alone), id="postgres-alone", marks=pytest.mark.postgres),
    ]
)
def way(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Store]]:
    kind, store = request.param
    with new_engine(kind, tmp_path) as engine:
        yield engine, store


def values(at: dt.datetime, **changes: Any) -> dict[str, Any]:
    data = {"reason": None, "last_error": None, **beat(**changes)}
    return steady.state_values(HALL, data, at, 3)


def last_seen(engine: Engine) -> dt.datetime:
    with engine.connect() as conn:
        seen = conn.execute(select(models.TerminalState.last_seen)).scalar_one()
    return seen if seen.tzinfo else seen.replace(tzinfo=dt.UTC)


def test_a_beat_like_the_last_is_stored_and_any_news_declined(way: tuple[Engine, Store]) -> None:
    engine, store = way
    with engine.begin() as conn:
        conn.execute(insert(models.TerminalState), values(NOW) | {"terminal_id": TERMINAL})
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
        conn.execute(update(models.TerminalState).values(link="offline"))
    assert not store(engine, latest + dt.timedelta(seconds=30), values(latest))


@pytest.mark.postgres
def test_a_replayed_nonce_stores_nothing_in_the_one_statement(tmp_path: Path) -> None:
    with new_engine("postgres", tmp_path) as engine:
        with engine.begin() as conn:
            conn.execute(insert(models.TerminalState), values(NOW) | {"terminal_id": TERMINAL})
        later = NOW + dt.timedelta(seconds=30)
        signed = signed_at(later)
        assert steady.store_alone(engine, signed, values(later), later)
        latest = later + dt.timedelta(seconds=30)
        with pytest.raises(IntegrityError):  # the request path answers it as replayed_nonce
            steady.store_alone(engine, signed, values(latest), latest)
        assert last_seen(engine) == later
        assert nonces(engine, signed.nonce) == 1
