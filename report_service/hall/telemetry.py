"""What terminals tell the platform about themselves: heartbeats, events, help calls, diagnostics.

Every call is signed by the terminal (DESIGN §3) and may speak only for that terminal. Nothing a
terminal sends may carry personal data: strings that look like an ID number, a credit code or a
phone number are replaced before anything is stored, and the replacement is logged (without it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identifiers import OLD_FOREIGN_NUMBER_IN_TEXT

from ..clock import CST
from ..errors import conflict, forbidden, unprocessable
from ..signing import Caller
from . import alerts, models
from .context import HallContext, aware
from .schemas import Assistance, Events, Heartbeat

log = logging.getLogger("report_service.hall")

# an 18-character ID number or credit code, a 15-character old ID number, a mobile number, the
# 2017 foreigner card's number
PII_SHAPES = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9]{17}[0-9Xx]|[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}"
    r"|[0-9]{15}|1[3-9][0-9]{9})(?![0-9A-Za-z])|" + OLD_FOREIGN_NUMBER_IN_TEXT
)
REDACTED = "[已删除]"
MAX_BUNDLE_BYTES = 2 * 1024 * 1024
EVENT_PAST = dt.timedelta(days=31)  # the outbox keeps events about this long
EVENT_FUTURE = dt.timedelta(minutes=10)


def scrub(value: Any, where: str, terminal_id: str) -> Any:
    """The value with anything shaped like personal data replaced (strings, nested)."""
    if isinstance(value, str):
        cleaned, n = PII_SHAPES.subn(REDACTED, value)
        if n:
            log.warning(
                "terminal %s sent personal-data-like text in %s; removed", terminal_id, where
            )
        return cleaned
    if isinstance(value, dict):
        return {k: scrub(v, f"{where}.{k}", terminal_id) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, where, terminal_id) for v in value]
    return value


def own_terminal(caller: Caller, terminal_id: str) -> None:
    if caller.terminal_id != terminal_id:
        raise forbidden("not_this_terminal", "终端只能报告自己的状态。")


class Telemetry:
    def __init__(self, ctx: HallContext) -> None:
        self.ctx = ctx

    # ---- heartbeat ----------------------------------------------------------------------------
    def heartbeat(self, caller: Caller, terminal_id: str, beat: Heartbeat) -> dict[str, Any]:
        own_terminal(caller, terminal_id)
        data = scrub(beat.model_dump(), "heartbeat", terminal_id)
        now = self.ctx.now()
        with self.ctx.sessions.begin() as s:
            self.ctx.ensure_hall(s, caller.hall_id, caller.region)
            state = s.get(models.TerminalState, terminal_id)
            changed = self._store(s, state, caller, data, now)
            state = s.get(models.TerminalState, terminal_id)
            assert state is not None
            changed |= self._apply_results(s, terminal_id, data["command_results"], now)
            changed |= alerts.reconcile(s, state, now, alerts.conditions(data))
            commands = self._commands_for(s, terminal_id, now)
            calls = self._calls_for(s, terminal_id)
            if changed:
                self.ctx.bump(s, caller.hall_id)
        self.ctx.notify_committed(s)
        open_call = any(c["status"] != "resolved" for c in calls)
        return {
            "commands": commands,
            "help_calls": calls,
            # while a person waits for staff the kiosk asks more often (DESIGN §8: within 5 s)
            "next_interval_s": self.ctx.settings.help_poll_s if open_call else beat.interval_s,
        }

    def _store(
        self,
        s: Session,
        state: models.TerminalState | None,
        caller: Caller,
        data: dict[str, Any],
        now: dt.datetime,
    ) -> bool:
        devices = json.dumps({k: v for k, v in data["devices"].items() if v is not None})
        values = {
            "hall_id": caller.hall_id,
            "last_seen": now,
            "interval_s": data["interval_s"],
            "availability": data["availability"],
            "reason": data["reason"],
            "devices": devices,
            "queue": json.dumps(data["queue"]),
            "counters": json.dumps(data["counters"]),
            "app_version": data["app_version"],
            "uptime_s": data["uptime_s"],
            "last_error": data["last_error"],
            "link": "online",
            "offline_at": now
            + dt.timedelta(seconds=self.ctx.settings.offline_after_beats * data["interval_s"]),
        }
        if state is None:
            s.add(models.TerminalState(terminal_id=caller.terminal_id, **values))
            s.add(models.StatusChange(terminal_id=caller.terminal_id, at=now, link="online",
                                      availability=data["availability"]))  # fmt: skip
            return True
        shown = ("availability", "reason", "devices", "queue", "app_version", "last_error", "link")
        changed = any(getattr(state, k) != values[k] for k in shown)
        if state.link != "online" or state.availability != data["availability"]:
            s.add(models.StatusChange(terminal_id=state.terminal_id, at=now, link="online",
                                      availability=data["availability"]))  # fmt: skip
        if state.link != "online":
            alerts.reconcile(s, state, now, (), frozenset({"offline"}))
        for key, value in values.items():
            setattr(state, key, value)
        return changed

    def _apply_results(
        self, s: Session, terminal_id: str, results: list[dict[str, Any]], now: dt.datetime
    ) -> bool:
        changed = False
        for result in results:
            command = s.get(models.Command, result["command_id"])
            if command is None or command.terminal_id != terminal_id:
                raise unprocessable("unknown_command", "命令结果对应的命令不存在。")
            if command.status in ("pending", "sent"):  # a repeated result changes nothing
                command.status, command.finished_at = result["status"], now
                command.detail = result["detail"] or None
                changed = True
        return changed

    def _commands_for(self, s: Session, terminal_id: str, now: dt.datetime) -> list[dict[str, Any]]:
        """Unfinished commands, until the terminal reports each one's result (at least once: the
        kiosk runs a command id once, so a lost answer only repeats the delivery)."""
        rows = s.scalars(
            select(models.Command)
            .where(models.Command.terminal_id == terminal_id,
                   models.Command.status.in_(("pending", "sent")))
            .order_by(models.Command.created_at)
        ).all()  # fmt: skip
        out = []
        for command in rows:
            if aware(command.expires_at) <= now:
                command.status, command.finished_at = "expired", now
                continue
            if command.status == "pending":
                command.status, command.sent_at = "sent", now
            out.append({
                "command_id": command.command_id,
                "kind": command.kind,
                "args": json.loads(command.args),
                "expires_at": aware(command.expires_at).isoformat(timespec="seconds"),
            })  # fmt: skip
        return out

    def _calls_for(self, s: Session, terminal_id: str) -> list[dict[str, Any]]:
        rows = s.scalars(
            select(models.HelpCall)
            .where(models.HelpCall.terminal_id == terminal_id,
                   models.HelpCall.status != "resolved")
            .order_by(models.HelpCall.created_at)
        ).all()  # fmt: skip
        return [call_json(c) for c in rows]

    # ---- events -------------------------------------------------------------------------------
    def events(self, caller: Caller, terminal_id: str, batch: Events) -> dict[str, int]:
        """Store a batch; an event id seen before is a redelivery and changes nothing."""
        own_terminal(caller, terminal_id)
        now = self.ctx.now()
        for event in batch.events:
            if not now - EVENT_PAST <= event.at <= now + EVENT_FUTURE:
                raise unprocessable("event_time_out_of_range", "事件时间不在允许范围内。")
        ids = [e.event_id for e in batch.events]
        if len(set(ids)) != len(ids):
            raise unprocessable("duplicate_event_id", "同一批事件中有重复的事件编号。")
        for attempt in (1, 2):  # a redelivery racing this one: the second pass sees its rows
            try:
                fresh = self._store_events(terminal_id, batch, ids, now)
                break
            except IntegrityError:
                if attempt == 2:
                    raise conflict(
                        "events_racing", "事件正在另一请求中保存，请稍后重试。"
                    ) from None
        return {"accepted": len(fresh), "duplicates": len(ids) - len(fresh)}

    def _store_events(
        self, terminal_id: str, batch: Events, ids: list[str], now: dt.datetime
    ) -> list[Any]:
        with self.ctx.sessions.begin() as s:
            seen = set(s.scalars(
                select(models.TerminalEvent.event_id).where(
                    models.TerminalEvent.terminal_id == terminal_id,
                    models.TerminalEvent.event_id.in_(ids),
                )
            ))  # fmt: skip
            fresh = [e for e in batch.events if e.event_id not in seen]
            for event in fresh:
                s.add(models.TerminalEvent(
                    terminal_id=terminal_id, event_id=event.event_id, kind=event.kind,
                    at=event.at.astimezone(CST), received_at=now,  # SQLite keeps no offset
                    fields=json.dumps(scrub(event.fields, f"event {event.kind}", terminal_id),
                                      ensure_ascii=False),
                ))  # fmt: skip
        return fresh

    # ---- help calls ---------------------------------------------------------------------------
    def assistance(self, caller: Caller, terminal_id: str, call: Assistance) -> dict[str, Any]:
        """Open a help call; the same call id again returns the call as it stands."""
        own_terminal(caller, terminal_id)
        now = self.ctx.now()
        try:
            with self.ctx.sessions.begin() as s:
                row = self._call(s, terminal_id, call.call_id)
                if row is None:
                    self.ctx.ensure_hall(s, caller.hall_id, caller.region)
                    row = models.HelpCall(
                        terminal_id=terminal_id, call_id=call.call_id, hall_id=caller.hall_id,
                        reason=call.reason, step=call.step, status="open", created_at=now,
                    )  # fmt: skip
                    s.add(row)
                    self.ctx.bump(s, caller.hall_id)
                    log.info("help call %s from terminal %s: %s", call.call_id, terminal_id,
                             call.reason)  # fmt: skip
                elif (row.reason, row.step) != (call.reason, call.step):
                    raise conflict("call_id_reused", "求助编号已用于另一次求助。")
                answer = call_json(row)
        except IntegrityError:  # the same call raced in from a retry: it exists now
            with self.ctx.sessions() as s:
                row = self._call(s, terminal_id, call.call_id)
                assert row is not None
                answer = call_json(row)
        self.ctx.notify_committed(s)
        return answer

    @staticmethod
    def _call(s: Session, terminal_id: str, call_id: str) -> models.HelpCall | None:
        return s.scalars(
            select(models.HelpCall).where(
                models.HelpCall.terminal_id == terminal_id, models.HelpCall.call_id == call_id
            )
        ).first()

    # ---- diagnostics --------------------------------------------------------------------------
    def diagnostics(
        self, caller: Caller, terminal_id: str, command_id: str, bundle: bytes
    ) -> dict[str, Any]:
        own_terminal(caller, terminal_id)
        if not bundle.startswith(b"\x1f\x8b") or len(bundle) > MAX_BUNDLE_BYTES:
            raise unprocessable("invalid_bundle", "诊断包应为不超过2MB的tar.gz文件。")
        with self.ctx.sessions.begin() as s:
            command = s.get(models.Command, command_id)
            if (
                command is None
                or command.terminal_id != terminal_id
                or command.kind != "collect_diagnostics"
            ):
                raise unprocessable("unknown_command", "诊断包对应的命令不存在。")
            digest = hashlib.sha256(bundle).hexdigest()
            s.add(models.DiagnosticBundle(
                terminal_id=terminal_id, command_id=command_id, received_at=self.ctx.now(),
                sha256=digest, data=bundle,
            ))  # fmt: skip
            self.ctx.bump(s, command.hall_id)
        self.ctx.notify_committed(s)
        return {"sha256": digest, "bytes": len(bundle)}


def call_json(call: models.HelpCall) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "status": call.status,
        "staff": call.acknowledged_by,
    }


def new_command_id() -> str:
    return "C" + secrets.token_hex(8).upper()
