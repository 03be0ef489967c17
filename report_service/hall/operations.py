"""What staff do from the dashboard: answer help calls, acknowledge alerts, send commands to a
terminal, open a maintenance window. Each action is scoped to the staff member's halls, checked
before anything is written, and recorded in the staff audit log (运维留痕)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import db
from ..errors import conflict, forbidden, not_found
from . import models
from .context import HallContext
from .schemas import CommandBody, MaintenanceBody
from .staff import StaffMember
from .telemetry import new_command_id

log = logging.getLogger("report_service.hall")


class Operations:
    def __init__(self, ctx: HallContext) -> None:
        self.ctx = ctx

    def _audit(self, s: Session, who: StaffMember, hall_id: str, action: str, target: str,
               detail: dict[str, Any] | None = None) -> None:  # fmt: skip
        s.add(models.StaffAction(
            at=self.ctx.now(), username=who.username, hall_id=hall_id, action=action,
            target=target, detail=json.dumps(detail or {}, ensure_ascii=False),
        ))  # fmt: skip
        self.ctx.bump(s, hall_id)
        log.info("staff %s: %s %s in hall %s", who.username, action, target, hall_id)

    # ---- help calls ---------------------------------------------------------------------------
    def acknowledge_call(
        self, who: StaffMember, hall_id: str, call_id: str, terminal_id: str | None = None
    ) -> dict[str, Any]:
        return self._move_call(who, hall_id, call_id, terminal_id, "acknowledged")

    def resolve_call(
        self, who: StaffMember, hall_id: str, call_id: str, terminal_id: str | None = None
    ) -> dict[str, Any]:
        return self._move_call(who, hall_id, call_id, terminal_id, "resolved")

    def _move_call(
        self, who: StaffMember, hall_id: str, call_id: str, terminal_id: str | None, to: str
    ) -> dict[str, Any]:
        who.require_hall(hall_id)
        now = self.ctx.now()
        with self.ctx.sessions.begin() as s:
            query = select(models.HelpCall).where(
                models.HelpCall.hall_id == hall_id, models.HelpCall.call_id == call_id
            )
            if terminal_id is not None:
                query = query.where(models.HelpCall.terminal_id == terminal_id)
            calls = s.scalars(query).all()
            if not calls:
                raise not_found("help_call_not_found", "没有这条求助。")
            if len(calls) > 1:  # ids are unique per terminal only: never guess whose call it is
                raise conflict("help_call_ambiguous", "多台终端有同号求助，请注明终端。")
            call = calls[0]
            if call.status == "resolved" or (to == "acknowledged" and call.status == to):
                raise conflict(
                    "help_call_already",
                    f"这条求助已{'处理' if call.status == 'resolved' else '响应'}。",
                )
            if call.acknowledged_at is None:  # resolving an open call acknowledges it too
                call.acknowledged_at, call.acknowledged_by = now, who.display_name
            if to == "resolved":
                call.resolved_at, call.resolved_by = now, who.display_name
            call.status = to
            for alert in s.scalars(
                select(models.Alert).where(models.Alert.active_key.is_not(None),
                                           models.Alert.kind == "help_unanswered",
                                           models.Alert.subject == call_id,
                                           models.Alert.terminal_id == call.terminal_id)
            ):  # fmt: skip
                alert.cleared_at, alert.active_key = now, None
            self._audit(s, who, hall_id, f"help_call_{to}", call_id, {"terminal": call.terminal_id})
            answer = {"call_id": call_id, "status": call.status, "staff": call.acknowledged_by}
        self.ctx.notify_committed(s)
        return answer

    # ---- alerts -------------------------------------------------------------------------------
    def acknowledge_alert(self, who: StaffMember, hall_id: str, alert_id: int) -> dict[str, Any]:
        who.require_hall(hall_id)
        with self.ctx.sessions.begin() as s:
            alert = s.get(models.Alert, alert_id)
            if alert is None or alert.hall_id != hall_id:
                raise not_found("alert_not_found", "没有这条告警。")
            if alert.acknowledged_at is None:
                alert.acknowledged_at, alert.acknowledged_by = self.ctx.now(), who.display_name
                self._audit(s, who, hall_id, "alert_acknowledged", str(alert_id),
                            {"kind": alert.kind, "terminal": alert.terminal_id})  # fmt: skip
            answer = {"alert_id": alert_id, "acknowledged_by": alert.acknowledged_by}
        self.ctx.notify_committed(s)
        return answer

    # ---- commands -----------------------------------------------------------------------------
    def send_command(
        self, who: StaffMember, hall_id: str, terminal_id: str, body: CommandBody
    ) -> dict[str, Any]:
        who.require_hall(hall_id)
        if body.kind not in who.allowed_commands:
            raise forbidden("command_not_allowed", "您的角色不能发送这条命令，请联系大厅管理员。")
        now = self.ctx.now()
        with self.ctx.sessions.begin() as s:
            self._terminal_of_hall(s, hall_id, terminal_id)
            message = body.lock_message
            args = {"message": message} if body.kind == "lock" and message else {}
            command = models.Command(
                command_id=new_command_id(), terminal_id=terminal_id, hall_id=hall_id,
                kind=body.kind, args=json.dumps(args, ensure_ascii=False), status="pending",
                created_at=now, created_by=who.display_name,
                expires_at=now + dt.timedelta(seconds=body.ttl_s),
            )  # fmt: skip
            s.add(command)
            self._audit(s, who, hall_id, "command_sent", terminal_id,
                        {"kind": body.kind, "command_id": command.command_id})  # fmt: skip
            answer = {
                "command_id": command.command_id,
                "kind": body.kind,
                "args": args,
                "status": "pending",
                "expires_at": command.expires_at.isoformat(timespec="seconds"),
            }
        self.ctx.notify_committed(s)
        return answer

    def cancel_command(self, who: StaffMember, hall_id: str, command_id: str) -> dict[str, Any]:
        who.require_hall(hall_id)
        with self.ctx.sessions.begin() as s:
            command = s.get(models.Command, command_id)
            if command is None or command.hall_id != hall_id:
                raise not_found("command_not_found", "没有这条命令。")
            if command.status not in ("pending", "sent"):
                raise conflict("command_finished", "命令已结束，无法取消。")
            command.status, command.finished_at = "cancelled", self.ctx.now()
            self._audit(s, who, hall_id, "command_cancelled", command_id,
                        {"terminal": command.terminal_id})  # fmt: skip
            answer = {"command_id": command_id, "status": "cancelled"}
        self.ctx.notify_committed(s)
        return answer

    # ---- maintenance --------------------------------------------------------------------------
    def maintenance(
        self, who: StaffMember, hall_id: str, terminal_id: str, body: MaintenanceBody
    ) -> dict[str, Any]:
        """Alerts of a terminal in a maintenance window are shown muted (a technician is on it)."""
        who.require_hall(hall_id)
        now = self.ctx.now()
        with self.ctx.sessions.begin() as s:
            self._terminal_of_hall(s, hall_id, terminal_id)
            state = s.get(models.TerminalState, terminal_id)
            if state is None:
                raise conflict("terminal_never_seen", "该终端还没有上报过状态。")
            until = now + dt.timedelta(minutes=body.minutes) if body.minutes else None
            state.maintenance_until = until
            self._audit(s, who, hall_id, "maintenance", terminal_id, {"minutes": body.minutes})
            answer = {
                "terminal_id": terminal_id,
                "maintenance_until": until.isoformat(timespec="seconds") if until else None,
            }
        self.ctx.notify_committed(s)
        return answer

    @staticmethod
    def _terminal_of_hall(s: Session, hall_id: str, terminal_id: str) -> db.Terminal:
        terminal = s.get(db.Terminal, terminal_id)
        if terminal is None or terminal.revoked or terminal.hall_id != hall_id:
            raise not_found("terminal_not_found", "本大厅没有这台终端。")
        return terminal
