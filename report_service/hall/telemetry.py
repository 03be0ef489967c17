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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from identifiers import ANY_NUMBER_IN_TEXT

from ..clock import CST
from ..db import statements_commit_alone
from ..errors import conflict, forbidden, unprocessable
from ..signing import Caller, NonceLedger, PendingNonce, SignedRequest
from . import alerts, models, steady
from .context import HallContext, aware
from .schemas import Assistance, Events, Heartbeat
from .stats import MAX_DAYS

log = logging.getLogger("report_service.hall")

PII_SHAPES = re.compile(ANY_NUMBER_IN_TEXT)
REDACTED = "[已删除]"
MAX_BUNDLE_BYTES = 2 * 1024 * 1024
EVENT_PAST = dt.timedelta(days=MAX_DAYS)  # as far back as the statistics reach
EVENT_FUTURE = dt.timedelta(minutes=10)


LONG_NUMBER = re.compile(r"[0-9]{11,}")  # a mobile number's length: ID numbers are longer


def scrub_word(value: str, where: str, terminal_id: str) -> str:
    """A short machine word (a step, a version) that should hold no long number at all, whatever
    separates its digits or stands beside them: `x110105-19491231-002X` is an ID number too, and
    a credit code holds letters between its digits."""
    if LONG_NUMBER.search(re.sub(r"[-._+~()\s]", "", value)) or PII_SHAPES.search(value):
        log.warning("terminal %s sent a long number in %s; removed", terminal_id, where)
        return REDACTED
    return value


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
    def __init__(self, ctx: HallContext, nonces: NonceLedger) -> None:
        self.ctx = ctx
        self.nonces = nonces

    @contextmanager
    def _signed(self, signed: SignedRequest) -> Iterator[PendingNonce]:
        """The call's nonce, to commit with its writes (`_writing`); whatever happens inside, it
        ends up recorded: a refused call's on its own."""
        pending = PendingNonce(self.nonces, signed)
        try:
            yield pending
        except Exception:
            pending.record()  # nothing if it committed with the call's writes
            raise

    @contextmanager
    def _writing(self, pending: PendingNonce) -> Iterator[Session]:
        """A transaction that commits the request's nonce with its writes (one commit, where a
        separate nonce write would double the commits every terminal call queues for)."""
        try:
            with self.ctx.sessions.begin() as s:
                yield s
                pending.record(s.connection())
        except Exception:
            pending.rolled_back()
            raise

    # ---- heartbeat ----------------------------------------------------------------------------
    def heartbeat(self, signed: SignedRequest, terminal_id: str, beat: Heartbeat) -> dict[str, Any]:
        with self._signed(signed) as pending:
            caller = signed.caller
            own_terminal(caller, terminal_id)
            data = scrub(beat.model_dump(), "heartbeat", terminal_id)
            data["app_version"] = scrub_word(data["app_version"], "app_version", terminal_id)
            now = self.ctx.now()
            after = self.ctx.settings.offline_after_beats
            values = steady.state_values(caller.hall_id, data, now, after)
            holding = alerts.conditions(data)
            quiet = not (holding or data["command_results"])
            nothing_for_it = {"commands": [], "help_calls": [], "next_interval_s": beat.interval_s}
            if quiet and statements_commit_alone(self.ctx.engine):
                engine = self.ctx.engine
                if pending.record_by(lambda sig: steady.store_alone(engine, sig, values, now)):
                    return nothing_for_it
                quiet = False  # it declined: something changed, the full path below
            with self._writing(pending) as s:
                if quiet and steady.store_if_steady(s.connection(), terminal_id, values, now):
                    return nothing_for_it
                self.ctx.ensure_hall(s, caller.hall_id, caller.region)
                state = s.get(models.TerminalState, terminal_id)
                state, changed = self._store(s, state, caller, values, now)
                changed |= self._apply_results(s, terminal_id, data["command_results"], now)
                changed |= alerts.reconcile(s, state, now, holding)
                commands = self._commands_for(s, terminal_id, now)
                calls = self._calls_for(s, terminal_id, now)
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
        values: dict[str, Any],
        now: dt.datetime,
    ) -> tuple[models.TerminalState, bool]:
        """The terminal's state row with this heartbeat applied; whether staff would see a change."""
        if state is None:
            state = models.TerminalState(terminal_id=caller.terminal_id, **values)
            s.add(state)
            s.add(models.StatusChange(terminal_id=caller.terminal_id, at=now, link="online",
                                      availability=values["availability"]))  # fmt: skip
            return state, True
        changed = any(getattr(state, k) != values[k] for k in steady.SHOWN)
        if state.link != "online" or state.availability != values["availability"]:
            s.add(models.StatusChange(terminal_id=state.terminal_id, at=now, link="online",
                                      availability=values["availability"]))  # fmt: skip
        if state.link != "online":
            alerts.reconcile(s, state, now, (), frozenset({"offline"}))
        for key, value in values.items():
            setattr(state, key, value)
        return state, changed

    def _apply_results(
        self, s: Session, terminal_id: str, results: list[dict[str, Any]], now: dt.datetime
    ) -> bool:
        changed = False
        for result in results:
            command = s.get(models.Command, result["command_id"])
            if command is None or command.terminal_id != terminal_id:
                raise unprocessable("unknown_command", "命令结果对应的命令不存在。")
            late = command.status in ("expired", "cancelled") and command.sent_at is not None
            # a repeated result changes nothing; one that comes after the command was delivered
            # and then expired or was cancelled is the truth: the terminal did run it
            if command.status in ("pending", "sent") or late:
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
            if command.status not in ("pending", "sent"):  # its result came in this heartbeat
                continue
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

    def _calls_for(self, s: Session, terminal_id: str, now: dt.datetime) -> list[dict[str, Any]]:
        """The terminal's calls staff have not resolved, and those they resolved lately: the
        kiosk hears `resolved` in so many words (DESIGN §3 `help_calls:[{call_id, status}]`)."""
        rows = s.scalars(
            select(models.HelpCall)
            .where(models.HelpCall.terminal_id == terminal_id,
                   steady.unresolved_or_since(models.HelpCall, now - steady.RESOLVED_LISTED))
            .order_by(models.HelpCall.created_at)
        ).all()  # fmt: skip
        return [call_json(c) for c in rows]

    # ---- events -------------------------------------------------------------------------------
    def events(self, signed: SignedRequest, terminal_id: str, batch: Events) -> dict[str, int]:
        """Store a batch; an event id seen before is a redelivery and changes nothing."""
        with self._signed(signed) as pending:
            own_terminal(signed.caller, terminal_id)
            now = self.ctx.now()
            ids = [e.event_id for e in batch.events]
            if len(set(ids)) != len(ids):
                log.warning("terminal %s sent an event id twice in one batch; the first kept",
                            terminal_id)  # fmt: skip
            for attempt in (1, 2):  # a redelivery racing this one: the second pass sees its rows
                try:
                    fresh = self._store_events(pending, terminal_id, batch, ids, now)
                    break
                except IntegrityError:
                    if attempt == 2:
                        raise conflict(
                            "events_racing", "事件正在另一请求中保存，请稍后重试。"
                        ) from None
        return {"accepted": len(fresh), "duplicates": len(ids) - len(fresh)}

    def _store_events(
        self, pending: PendingNonce, terminal_id: str, batch: Events, ids: list[str],
        now: dt.datetime,
    ) -> list[Any]:  # fmt: skip
        with self._writing(pending) as s:
            seen = set(s.scalars(
                select(models.TerminalEvent.event_id).where(
                    models.TerminalEvent.terminal_id == terminal_id,
                    models.TerminalEvent.event_id.in_(ids),
                )
            ))  # fmt: skip
            fresh = []
            for event in batch.events:  # an id twice in one batch: the first one counts
                if event.event_id in seen:
                    continue  # a redelivery, however old it has grown
                if not now - EVENT_PAST <= event.at <= now + EVENT_FUTURE:
                    raise unprocessable("event_time_out_of_range", "事件时间不在允许范围内。")
                seen.add(event.event_id)
                fresh.append(event)
            for event in fresh:
                s.add(models.TerminalEvent(
                    terminal_id=terminal_id, event_id=event.event_id, kind=event.kind,
                    at=event.at.astimezone(CST), received_at=now,  # SQLite keeps no offset
                    fields=json.dumps(scrub(event.fields, f"event {event.kind}", terminal_id),
                                      ensure_ascii=False),
                ))  # fmt: skip
        return fresh

    # ---- help calls ---------------------------------------------------------------------------
    def assistance(
        self, signed: SignedRequest, terminal_id: str, call: Assistance
    ) -> dict[str, Any]:
        """Open a help call; the same call id again returns the call as it stands."""
        with self._signed(signed) as pending:
            return self._assistance(pending, signed.caller, terminal_id, call)

    def _assistance(
        self, pending: PendingNonce, caller: Caller, terminal_id: str, call: Assistance
    ) -> dict[str, Any]:
        own_terminal(caller, terminal_id)
        now = self.ctx.now()
        call = call.model_copy(update={
            "reason": scrub_word(call.reason, "assistance.reason", terminal_id),
            "step": scrub_word(call.step, "assistance.step", terminal_id),
        })  # fmt: skip
        try:
            with self._writing(pending) as s:
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
            pending.record()  # on its own (a replay racing its original is refused here)
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
        self, signed: SignedRequest, terminal_id: str, command_id: str, bundle: bytes
    ) -> dict[str, Any]:
        with self._signed(signed) as pending:
            return self._diagnostics(pending, signed.caller, terminal_id, command_id, bundle)

    def _diagnostics(
        self, pending: PendingNonce, caller: Caller, terminal_id: str, command_id: str,
        bundle: bytes,
    ) -> dict[str, Any]:  # fmt: skip
        own_terminal(caller, terminal_id)
        if not bundle.startswith(b"\x1f\x8b") or len(bundle) > MAX_BUNDLE_BYTES:
            raise unprocessable("invalid_bundle", "诊断包应为不超过2MB的tar.gz文件。")
        with self._writing(pending) as s:
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
