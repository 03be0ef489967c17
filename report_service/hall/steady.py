"""The common heartbeat, stored in one statement.

Nearly every heartbeat says what the one before said: the terminal is online, nothing staff see
has changed, no command waits for it, no alert or help call is open (or lately resolved). Such a
heartbeat changes only when the terminal was last seen and its counters, so it needs no ORM
session and no hall version bump: one conditional update, in the transaction that records its
nonce; on PostgreSQL, where every statement is a round trip, one statement that also records the
nonce, without a transaction (store_alone). Anything else takes the full path in
telemetry.py, which stays the reference: this path only ever declines.
(Measured: the full path cost ~2.4 ms of CPU a heartbeat, a province's 100 a second a fifth of a
core before any report.)
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, exists, or_, update
from sqlalchemy.engine import Connection, Engine

from ..db import single_statements
from ..signing import SignedRequest, nonce_for_each, nonce_params
from . import models

# what staff see of a terminal's state: a change in any of these takes the full path
SHOWN = ("availability", "reason", "devices", "queue", "app_version", "last_error", "link")
# what a steady heartbeat writes
QUIET = ("last_seen", "interval_s", "counters", "uptime_s", "offline_at")

# a call resolved this long ago is still in the heartbeat's answer, as `resolved`
RESOLVED_LISTED = dt.timedelta(minutes=10)


def unresolved_or_since(calls: Any, since: Any) -> ColumnElement[bool]:
    """Help calls not resolved, or resolved at `since` or later (a datetime or a bind parameter);
    `calls` the model or its table's columns."""
    return or_(calls.status != "resolved", calls.resolved_at >= since)


_TS = models.TerminalState.__table__.c
_AL = models.Alert.__table__.c
_CMD = models.Command.__table__.c
_HC = models.HelpCall.__table__.c
_TID: BindParameter[str] = bindparam("tid", type_=_TS.terminal_id.type)
# One statement: the quiet columns are written only where every shown one is as the heartbeat
# says and nothing waits for the terminal. link = 'online': a terminal the sweep has just marked
# offline takes the full path, which logs its return; hall_id: a terminal moved to another hall.
_TOUCH = (
    update(models.TerminalState)
    .where(
        _TS.terminal_id == _TID,
        _TS.hall_id == bindparam("hall"),
        *(_TS[k].is_not_distinct_from(bindparam("was_" + k, type_=_TS[k].type)) for k in SHOWN),
        ~exists().where(_AL.terminal_id == _TID, _AL.active_key.is_not(None)),
        ~exists().where(_CMD.terminal_id == _TID, _CMD.status.in_(("pending", "sent"))),
        ~exists().where(
            _HC.terminal_id == _TID,
            unresolved_or_since(_HC, bindparam("since", type_=_HC.resolved_at.type)),
        ),
    )
    .values({_TS[k]: bindparam("new_" + k, type_=_TS[k].type) for k in QUIET})
)
# The same, and the request's nonce recorded if it stored: one statement, no transaction.
_TOUCH_AND_NONCE = nonce_for_each(_TOUCH.returning(_TS.terminal_id).cte("touched"))


def state_values(
    hall_id: str, data: dict[str, Any], now: dt.datetime, offline_after_beats: int
) -> dict[str, Any]:
    """The terminal_state columns a (validated, scrubbed) heartbeat sets."""
    return {
        "hall_id": hall_id,
        "last_seen": now,
        "interval_s": data["interval_s"],
        "availability": data["availability"],
        "reason": data["reason"],
        "devices": json.dumps({k: v for k, v in data["devices"].items() if v is not None}),
        "queue": json.dumps(data["queue"]),
        "counters": json.dumps(data["counters"]),
        "app_version": data["app_version"],
        "uptime_s": data["uptime_s"],
        "last_error": data["last_error"],
        "link": "online",
        "offline_at": now + dt.timedelta(seconds=offline_after_beats * data["interval_s"]),
    }


def store_if_steady(
    conn: Connection, terminal_id: str, values: dict[str, Any], now: dt.datetime
) -> bool:
    """Store a heartbeat that raises no alert and reports no command result (the caller knows)
    if nothing else changed either, in conn's transaction; False, with nothing written, if not."""
    return conn.execute(_TOUCH, _params(terminal_id, values, now)).rowcount == 1


def store_alone(
    engine: Engine, signed: SignedRequest, values: dict[str, Any], now: dt.datetime
) -> bool:
    """PostgreSQL: as store_if_steady, with the request's nonce recorded in the same statement if
    it stores; outside any transaction, so one round trip where BEGIN, update, nonce and COMMIT
    took four (SQLite has no data-modifying CTE, and its transactions cost no round trip).
    A replayed nonce raises IntegrityError, with nothing written."""
    params = _params(signed.caller.terminal_id, values, now) | nonce_params(signed)
    with single_statements(engine) as conn:
        return conn.execute(_TOUCH_AND_NONCE, params).first() is not None


def _params(terminal_id: str, values: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return (
        {"tid": terminal_id, "hall": values["hall_id"], "since": now - RESOLVED_LISTED}
        | {"was_" + k: values[k] for k in SHOWN}
        | {"new_" + k: values[k] for k in QUIET}
    )
