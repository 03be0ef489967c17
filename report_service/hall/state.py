"""A hall as its staff see it (`GET /halls/{hall_id}/state`), and the sweep that notices what only
the passing of time shows: terminals gone quiet, help calls nobody answered, commands expired."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import db
from . import alerts, models
from .context import HallContext, aware
from .steady import unresolved_or_since
from .vocabulary import ALERT_KINDS

log = logging.getLogger("report_service.hall")

RECENT_COMMANDS = 50
RESOLVED_SHOWN = dt.timedelta(hours=2)  # resolved calls stay on the page this long


def terminal_status(ctx: HallContext, state: models.TerminalState | None, hall_open: bool,
                    now: dt.datetime) -> str:  # fmt: skip
    """`online` while heartbeats come; else `closed` outside opening hours, `offline` inside."""
    if state is not None and state.link == "online" and not _quiet(ctx, state, now):
        return "online"
    return "offline" if hall_open else "closed"


def _quiet(ctx: HallContext, state: models.TerminalState, now: dt.datetime) -> bool:
    limit = dt.timedelta(seconds=ctx.settings.offline_after_beats * state.interval_s)
    return now - aware(state.last_seen) > limit


def in_maintenance(state: models.TerminalState | None, now: dt.datetime) -> bool:
    return bool(state and state.maintenance_until and aware(state.maintenance_until) > now)


def hall_state(ctx: HallContext, hall_id: str) -> dict[str, Any]:
    now = ctx.now()
    with ctx.sessions() as s:
        hall_open = ctx.hall_open(s, hall_id, now)
        enrolled = s.scalars(
            select(db.Terminal).where(db.Terminal.hall_id == hall_id, db.Terminal.revoked.is_(False))
            .order_by(db.Terminal.id)
        ).all()  # fmt: skip
        states = {
            t.terminal_id: t
            for t in s.scalars(
                select(models.TerminalState).where(models.TerminalState.hall_id == hall_id)
            )
        }
        terminals = [_terminal(ctx, t.id, states.get(t.id), hall_open, now) for t in enrolled]
        calls = s.scalars(
            select(models.HelpCall)
            .where(models.HelpCall.hall_id == hall_id,
                   unresolved_or_since(models.HelpCall, now - RESOLVED_SHOWN))
            .order_by(models.HelpCall.created_at.desc())
        ).all()  # fmt: skip
        active = s.scalars(
            select(models.Alert)
            .where(models.Alert.hall_id == hall_id, models.Alert.active_key.is_not(None))
            .order_by(models.Alert.raised_at.desc())
        ).all()
        commands = s.scalars(
            select(models.Command)
            .where(models.Command.hall_id == hall_id)
            .order_by(models.Command.created_at.desc())
            .limit(RECENT_COMMANDS)
        ).all()
        bundles = s.execute(
            select(models.DiagnosticBundle.id, models.DiagnosticBundle.terminal_id,
                   models.DiagnosticBundle.command_id, models.DiagnosticBundle.received_at,
                   models.DiagnosticBundle.sha256)
            .where(models.DiagnosticBundle.terminal_id.in_([t.id for t in enrolled]))
            .order_by(models.DiagnosticBundle.received_at.desc()).limit(20)
        ).all()  # fmt: skip
        version = s.get(models.HallVersion, hall_id)
        return {
            "hall_id": hall_id,
            "open": hall_open,
            "version": version.version if version else 0,
            "generated_at": now.isoformat(timespec="seconds"),
            "terminals": terminals,
            "help_calls": [_call(c) for c in _open_first(calls)],
            "alerts": [_alert(a, in_maintenance(states.get(a.terminal_id), now)) for a in active],
            "commands": [_command(c) for c in commands],
            "diagnostics": [
                {
                    "bundle_id": b.id,
                    "terminal_id": b.terminal_id,
                    "command_id": b.command_id,
                    "received_at": _iso(b.received_at),
                    "sha256": b.sha256,
                }
                for b in bundles
            ],
        }


def _open_first(calls: Any) -> list[models.HelpCall]:
    order = {"open": 0, "acknowledged": 1, "resolved": 2}
    return sorted(calls, key=lambda c: order.get(c.status, 3))


def _terminal(ctx: HallContext, terminal_id: str, state: models.TerminalState | None,
              hall_open: bool, now: dt.datetime) -> dict[str, Any]:  # fmt: skip
    base: dict[str, Any] = {
        "terminal_id": terminal_id,
        "status": terminal_status(ctx, state, hall_open, now),
        "availability": None,
        "reason": None,
        "devices": {},
        "queue": None,
        "counters": {},
        "last_seen": None,
        "app_version": None,
        "uptime_s": None,
        "last_error": None,
        "interval_s": None,
        "maintenance_until": None,
    }  # every terminal has every key, whether it has beaten yet or not
    if state is None:
        return base
    return base | {
        "availability": state.availability,
        "reason": state.reason,
        "devices": json.loads(state.devices),
        "queue": json.loads(state.queue),
        "counters": json.loads(state.counters),
        "last_seen": aware(state.last_seen).isoformat(timespec="seconds"),
        "app_version": state.app_version,
        "uptime_s": state.uptime_s,
        "last_error": state.last_error,
        "interval_s": state.interval_s,
        "maintenance_until": _iso(state.maintenance_until) if in_maintenance(state, now) else None,
    }


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else aware(value).isoformat(timespec="seconds")


def _call(c: models.HelpCall) -> dict[str, Any]:
    return {
        "call_id": c.call_id, "terminal_id": c.terminal_id, "reason": c.reason, "step": c.step,
        "status": c.status, "created_at": _iso(c.created_at),
        "acknowledged_at": _iso(c.acknowledged_at), "acknowledged_by": c.acknowledged_by,
        "resolved_at": _iso(c.resolved_at), "resolved_by": c.resolved_by,
    }  # fmt: skip


def _alert(a: models.Alert, muted: bool) -> dict[str, Any]:
    return {
        "alert_id": a.id, "terminal_id": a.terminal_id, "kind": a.kind, "subject": a.subject,
        "severity": ALERT_KINDS[a.kind].severity, "detail": a.detail,
        "raised_at": _iso(a.raised_at), "acknowledged_at": _iso(a.acknowledged_at),
        "acknowledged_by": a.acknowledged_by, "muted": muted,
    }  # fmt: skip


def _command(c: models.Command) -> dict[str, Any]:
    return {
        "command_id": c.command_id, "terminal_id": c.terminal_id, "kind": c.kind,
        "args": json.loads(c.args), "status": c.status, "created_at": _iso(c.created_at),
        "created_by": c.created_by, "expires_at": _iso(c.expires_at),
        "sent_at": _iso(c.sent_at), "finished_at": _iso(c.finished_at), "detail": c.detail,
    }  # fmt: skip


# ---- the sweep --------------------------------------------------------------------------------
def sweep(ctx: HallContext) -> set[str]:
    """One pass; returns the halls that changed. Every process sweeps: each step is a conditional
    update, so two processes doing the same pass change things once."""
    try:
        with ctx.sessions.begin() as s:
            changed = _sweep(ctx, s, ctx.now())
            for hall_id in changed:
                ctx.bump(s, hall_id)
    except IntegrityError:  # another process raised the same alert a moment ago
        return set()
    ctx.notify_committed(s)
    return changed


def _sweep(ctx: HallContext, s: Session, now: dt.datetime) -> set[str]:
    changed: set[str] = set()
    open_by_hall: dict[str, bool] = {}

    def hall_open(hall_id: str) -> bool:
        if hall_id not in open_by_hall:
            open_by_hall[hall_id] = ctx.hall_open(s, hall_id, now)
        return open_by_hall[hall_id]

    for state in s.scalars(
        select(models.TerminalState).where(models.TerminalState.link == "online",
                                           models.TerminalState.offline_at <= now)
    ).all():  # fmt: skip
        state.link = "offline"
        s.add(models.StatusChange(terminal_id=state.terminal_id, at=now, link="offline",
                                  availability=state.availability))  # fmt: skip
        log.info("terminal %s offline: no heartbeat since %s", state.terminal_id,
                 aware(state.last_seen).isoformat(timespec="seconds"))  # fmt: skip
        changed.add(state.hall_id)
    for state in s.scalars(
        select(models.TerminalState).where(models.TerminalState.link == "offline")
    ).all():
        holding = (
            [alerts.Condition("offline", "", f"最后在线 {aware(state.last_seen):%H:%M:%S}")]
            if hall_open(state.hall_id)
            else []
        )
        if alerts.reconcile(s, state, now, holding, frozenset({"offline"})):
            changed.add(state.hall_id)
    changed |= _unanswered_calls(ctx, s, now)
    for command in s.scalars(
        select(models.Command).where(models.Command.status.in_(("pending", "sent")),
                                     models.Command.expires_at <= now)
    ).all():  # fmt: skip
        command.status, command.finished_at = "expired", now
        changed.add(command.hall_id)
    return changed


def _unanswered_calls(ctx: HallContext, s: Session, now: dt.datetime) -> set[str]:
    late = now - dt.timedelta(seconds=ctx.settings.help_ack_alert_s)
    changed: set[str] = set()
    for call in s.scalars(
        select(models.HelpCall).where(models.HelpCall.status == "open",
                                      models.HelpCall.created_at <= late)
    ).all():  # fmt: skip
        key = alerts.active_key(call.terminal_id, "help_unanswered", call.call_id)
        exists = s.scalars(select(models.Alert.id).where(models.Alert.active_key == key)).first()
        if exists is None:
            s.add(models.Alert(
                terminal_id=call.terminal_id, hall_id=call.hall_id, kind="help_unanswered",
                subject=call.call_id, detail=f"求助已等待超过{ctx.settings.help_ack_alert_s // 60}分钟",
                raised_at=now, active_key=key,
            ))  # fmt: skip
            changed.add(call.hall_id)
    return changed
