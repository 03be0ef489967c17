"""The trips off the way to a report: verifying a printed report by its QR, an objection against a
record of the summary, a call for help, and the staff screen behind its PIN.

The journey's intents of the same names call these; they share the journey's `Stage`.
"""

from __future__ import annotations

import logging
import time

from identifiers import is_phone_number

from .errors import KioskError
from .ports import PrintFailure, Services
from .stage import Stage
from .steps import STEPS, Step
from .tickets import new_call_id

log = logging.getLogger(__name__)

# reason category -> the text the platform's staff read (always Chinese, whatever the UI language)
OBJECTION_REASONS = {
    "record_wrong": "记录内容有误",
    "not_our_record": "该记录不属于本企业",
    "already_repaired": "已完成信用修复或整改",
    "publicity_ended": "记录已超过公示期限",
    "other": "其他原因，请与本企业联系",
}
ACTIVE_CALL = frozenset({"sending", "undelivered", "open", "acknowledged"})


class SideTrips:
    def __init__(self, stage: Stage, services: Services) -> None:
        self.stage = stage
        self.services = services

    # --- verification --------------------------------------------------------------------------
    def start_verify(self) -> None:
        if self.stage.step in (Step.ATTRACT, Step.VERIFY_RESULT):
            self.stage.show(Step.VERIFY_SCAN)

    async def verify(self, code: str) -> None:
        """A report's verify QR at the camera, on the verify screen."""
        stage = self.stage
        gen = stage.begin(Step.VERIFY_SCAN)
        try:
            result = await self.services.verify(code)
        except KioskError as exc:
            if stage.current(gen):
                stage.fail(exc, back_to=Step.VERIFY_SCAN)
            return
        if stage.current(gen):
            self.services.audit("verify_done", status=result.status)
            stage.show(Step.VERIFY_RESULT, verification=result)

    # --- objection -----------------------------------------------------------------------------
    def start_objection(self, record_id: str) -> None:
        report = self.stage.session.report
        if self.stage.step is not Step.SUMMARY or report is None:
            return
        ids = {r.record_id for d in report.meta.domains for r in d.records}
        if record_id in ids:
            self.stage.session.objection_record = record_id
            self.stage.show(Step.OBJECTION)

    async def submit_objection(self, reason: str, contact: str) -> None:
        stage, session = self.stage, self.stage.session
        if stage.step is not Step.OBJECTION or session.report is None or session.login is None:
            return
        if reason not in OBJECTION_REASONS:
            stage.show(Step.OBJECTION, message_id="objection.pick_reason")
            return
        contact = contact.replace(" ", "")
        if not is_phone_number(contact):
            stage.show(Step.OBJECTION, message_id="objection.bad_phone")
            return
        gen = stage.generation
        try:
            result = await self.services.file_objection(
                session.login,
                session.report.meta.report_id,
                session.objection_record,
                OBJECTION_REASONS[reason],
                contact,
            )
        except KioskError as exc:
            if stage.current(gen):
                stage.fail(exc, back_to=Step.OBJECTION)
            return
        if stage.current(gen):
            self.services.audit("objection_filed")
            session.objection = result
            await self.print_objection_slip()

    async def print_objection_slip(self) -> None:
        """The slip with the objection's number, due date and how to follow up; shown on screen
        too, so a slip that did not print loses nothing (and can be printed again)."""
        stage, session = self.stage, self.stage.session
        objection, report = session.objection, session.report
        if stage.step not in (Step.OBJECTION, Step.OBJECTION_DONE) or objection is None:
            return
        assert report is not None
        record = next(
            (
                f"{r.document_no} {r.title}".strip()
                for d in report.meta.domains
                for r in d.records
                if r.record_id == session.objection_record
            ),
            session.objection_record,  # the record's own id, should the report not name it
        )
        gen = stage.begin(Step.OBJECTION_DONE, print_phase="slip")
        session.printing = True  # the idle clock waits for the paper
        try:
            await self.services.print_objection_slip(objection, report.meta.report_id, record)
        except PrintFailure as exc:
            self.services.audit("print_failed", phase="objection_slip", code=exc.code)
            if stage.current(gen):
                stage.show(Step.OBJECTION_DONE, message_id="objection_done.slip_failed")
            return
        finally:
            session.printing = False
        self.services.audit("objection_slip_printed")
        if stage.current(gen):
            stage.show(Step.OBJECTION_DONE)

    def back_to_summary(self) -> None:
        if self.stage.step in (Step.OBJECTION, Step.OBJECTION_DONE) and self.stage.session.report:
            self.stage.show(Step.SUMMARY)

    # --- help ----------------------------------------------------------------------------------
    async def call_help(self) -> None:
        """The help button: the help screen, which follows the call (sent, answered by whom)."""
        step, session = self.stage.step, self.stage.session
        if step is Step.HELP:
            return
        session.return_to = step
        call_id = self._open_call("user_request")
        session.help_call = call_id  # also from the attract screen: the help screen follows it
        self.stage.show(Step.HELP)
        await self._send_call(call_id, "user_request", step)

    async def raise_call(self, reason: str) -> None:
        """A call the kiosk makes by itself (paper out, a print failed, a card it cannot read),
        shown on the screen where it happened. One open call per reason at a time."""
        step = self.stage.step
        active = [c for c, s in self.stage.help_calls.items()
                  if s.reason == reason and s.status in ACTIVE_CALL]  # fmt: skip
        call_id = active[-1] if active else self._open_call(reason)
        if not STEPS[step].wipes:  # the screen follows the call: nobody's session at attract
            self.stage.session.help_call = call_id
            snapshot = self.stage.snapshot
            self.stage.show(
                step, message_id=snapshot.message_id, message_args=snapshot.message_args
            )
        if not active:
            await self._send_call(call_id, reason, step)

    def _open_call(self, reason: str) -> str:
        call_id = new_call_id()
        self.stage.new_call(call_id, reason)
        if not STEPS[self.stage.step].wipes:  # nobody's session at the attract screen
            self.stage.session.help_call = call_id
        self.services.audit("help_called", step=self.stage.step.value, reason=reason)
        return call_id

    async def _send_call(self, call_id: str, reason: str, step: Step) -> None:
        try:
            state = await self.services.call_help(call_id, reason, step.value)
        except KioskError as exc:  # the screen says where to find staff instead
            log.warning("help call not delivered: %s", exc.code)
            self.stage.help_update(call_id, "undelivered")
            return
        self.stage.help_update(call_id, state.status, state.staff)

    def close_help(self) -> None:
        if self.stage.step is Step.HELP:
            self.stage.show(self.stage.session.return_to or Step.ATTRACT)

    # --- staff ---------------------------------------------------------------------------------
    def staff_lines(self) -> tuple[tuple[str, ...], ...]:
        """The help calls (newest first) as ("call", time, reason, status, staff) and the alerts
        as ("alert", time, code, detail): codes only, the staff screen words them."""
        calls: list[tuple[str, ...]] = [
            ("call", time.strftime("%H:%M:%S", time.localtime(c.at)), c.reason, c.status,
             c.staff or "")
            for c in reversed(self.stage.help_calls.values())
        ]  # fmt: skip
        alerts: list[tuple[str, ...]] = [
            ("alert", a.get("at", ""), a["code"], a["detail"])
            for a in reversed(self.services.staff_alerts())
        ]
        return tuple(calls[:10] + alerts[:10])

    def open_staff(self) -> None:
        if STEPS[self.stage.step].staff_door:
            self.stage.show(Step.STAFF_PIN)

    def enter_staff_pin(self, pin: str) -> None:
        stage = self.stage
        if stage.step is not Step.STAFF_PIN:
            return
        if self.services.check_staff_pin(pin):
            self.services.audit("staff_unlocked")
            stage.show(Step.STAFF, staff_status=self.services.staff_status(),
                       staff_lines=self.staff_lines())  # fmt: skip
            return
        minutes = self.services.staff_locked_minutes()
        if minutes:  # too many wrong PINs: say for how long
            self.services.audit("staff_pin_locked")
            args = {"minutes": str(minutes)}
            stage.show(Step.STAFF_PIN, message_id="staff.locked", message_args=args)
        else:
            self.services.audit("staff_pin_refused")
            stage.show(Step.STAFF_PIN, message_id="staff.pin_refused")
