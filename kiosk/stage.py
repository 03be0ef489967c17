"""The mechanics every part of the session state machine shares (docs/architecture.md):

- the current `Session`, replaced whole when a session ends (a step whose rule `wipes`, or reset);
- the generation counter: a slow call notes it when it starts, and a result that comes back after
  cancel, back or the idle timeout belongs to a wiped session and is dropped (`current`);
- the Snapshots published to the screens, built from the session, the catalog and the step's rule;
- the idle clock, and the way a failure is shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable

from .api_models import DEFAULT_RECORD_TERM, Catalog
from .availability import Fault
from .errors import ApiError, KioskError
from .messages import ANSWERED_ON_ATTRACT, DEAD_ENDS, TERMINAL_FAULT_CODES
from .periods import Bounds
from .session import Session
from .steps import ENTERPRISE_GROUP, PROGRESS, RESTING, SCOPE_GROUP, STEPS, Back, Snapshot, Step

log = logging.getLogger(__name__)

KEEP_CALLS = 20  # the help calls the staff screen lists (and the heartbeat updates)


@dataclasses.dataclass(frozen=True)
class CallState:
    """A help call of this terminal as the kiosk last heard of it."""

    reason: str
    status: str  # "sending", "undelivered", "open", "acknowledged", "resolved"
    staff: str | None = None
    at: float = dataclasses.field(default_factory=time.time)


class Stage:
    def __init__(
        self,
        audit: Callable[..., None],
        *,
        clock: Callable[[], float],
        language: str,
        elderly: bool,
        idle_timeout_s: float,
        countdown_s: float,
        service_desk: str = "",
        today: Callable[[], dt.date] = dt.date.today,
        hall_name: str = "",
        report_title: str = "",
    ) -> None:
        self._audit = audit
        self._clock = clock
        self._today = today
        self.hall_name = hall_name
        self.report_title = report_title  # the region's term, from the enrollment, until a catalog
        self.default_language = language  # the hall's: each person starts from these
        self.default_elderly = elderly
        self.language = language
        self.elderly = elderly
        self.idle_timeout_s = idle_timeout_s
        self.countdown_s = countdown_s
        self.session = Session()
        self.generation = 0
        self.catalog: Catalog | None = None  # the region's, not the person's: kept across sessions
        self.held_message = ""  # set: out of service until the kiosk is restarted
        self.service_desk = service_desk
        self.locked_message: str | None = None  # set: staff locked the terminal (with a note)
        self.fault: Fault | None = None  # a required device that cannot serve
        self.help_calls: dict[str, CallState] = {}  # this terminal's recent calls, oldest first
        self.last_activity = clock()
        self._listeners: list[Callable[[Snapshot], None]] = []
        self._snapshot = self._build(Step.ATTRACT)  # the hall and the title from the first

    # --- observation -------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Snapshot], None]) -> None:
        self._listeners.append(listener)
        listener(self._snapshot)

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def step(self) -> Step:
        return self._snapshot.step

    # --- moving between steps ------------------------------------------------------------------
    def begin(self, step: Step, **extra: object) -> int:
        """Show `step` for a slow call; returns the generation to check its result against."""
        self.show(step, **extra)
        return self.generation

    def current(self, generation: int) -> bool:
        return generation == self.generation

    def show(self, step: Step, **extra: object) -> None:
        if STEPS[step].wipes:
            self.session = Session()
        self.last_activity = self._clock()
        self.publish(dataclasses.replace(self._build(step), **extra))  # type: ignore[arg-type]

    def reset(self, step: Step = Step.ATTRACT, message_id: str = "") -> None:
        """End the session: a new generation, nothing of the user kept, the hall's defaults.
        Going back to the attract screen rests where the terminal must rest instead (resting)."""
        args: dict[str, str] = {}
        if step is Step.ATTRACT:
            step, message_id, args = self.resting()
        self.generation += 1
        self.session = Session()
        self.language = self.default_language
        self.elderly = self.default_elderly
        self.show(step, message_id=message_id, message_args=args)

    def resting(self) -> tuple[Step, str, dict[str, str]]:
        """Where the terminal waits between sessions: out of service (a broken offline store,
        then a required device in error), locked by staff, or the attract screen."""
        desk = {"desk": self.service_desk}
        if self.held_message:
            return Step.OUT_OF_SERVICE, self.held_message, {}
        if self.fault is not None:
            return Step.OUT_OF_SERVICE, f"out_of_service.{self.fault.device}", desk
        if self.locked_message is not None:
            return Step.LOCKED, "locked.title", {"message": self.locked_message, **desk}
        return Step.ATTRACT, "", {}

    def rest_changed(self) -> None:
        """The lock or a device changed: a terminal at rest shows the new resting screen now; a
        session in progress finishes first (its end rests there)."""
        snapshot = self._snapshot
        at_rest = snapshot.step in RESTING and (
            snapshot.step is not Step.OUT_OF_SERVICE
            or snapshot.message_id.startswith("out_of_service.")
        )
        if not at_rest:
            return
        step, message_id, args = self.resting()
        if (step, message_id, args) != (snapshot.step, snapshot.message_id, snapshot.message_args):
            self.reset()

    @property
    def idle(self) -> bool:
        """Nobody is being served: a restart or a command may act now."""
        return self.step in RESTING and not self.session.printing

    # --- help calls ----------------------------------------------------------------------------
    def help_update(self, call_id: str, status: str, staff: str | None = None) -> None:
        """What the platform (or the delivery attempt) says of a call; shown if it is this
        session's."""
        known = self.help_calls.get(call_id)
        if known is None:
            return
        if (known.status, known.staff) == (status, staff):
            return
        self.help_calls[call_id] = dataclasses.replace(known, status=status, staff=staff)
        if self.session.help_call == call_id:
            self.publish(
                dataclasses.replace(self._snapshot, help_state=status, help_staff=staff or "")
            )

    def new_call(self, call_id: str, reason: str) -> None:
        self.help_calls[call_id] = CallState(reason, "sending")
        while len(self.help_calls) > KEEP_CALLS:
            self.help_calls.pop(next(iter(self.help_calls)))

    def out_of_service(self, message_id: str, *, until_restart: bool = False) -> None:
        """Nobody can be served. `until_restart`: leaving the staff screen comes back here rather
        than to the attract screen (the offline store is unusable)."""
        if until_restart:
            self.held_message = message_id
        self.reset(Step.OUT_OF_SERVICE, message_id=message_id)

    def fail(self, exc: KioskError, back_to: Step) -> None:
        """Show a failure where the user can act on it: `back_to` with the message, or the error
        screen (which ends the session) when `back_to` is the attract screen."""
        log.warning("step %s failed: %s %s", self.step.value, exc.code, exc.detail)
        self._audit("error", step=self.step.value, code=exc.code)
        if isinstance(exc, ApiError) and exc.code in TERMINAL_FAULT_CODES:
            self.out_of_service(exc.message_id)
        elif isinstance(exc, ApiError) and exc.message_id == "error.session_expired":
            self.reset(Step.ERROR, message_id=exc.message_id)
        elif back_to is Step.ATTRACT and exc.message_id in ANSWERED_ON_ATTRACT:
            self.show(Step.ATTRACT, message_id=exc.message_id)  # where a login QR works at once
        elif back_to is Step.ATTRACT or exc.message_id in DEAD_ENDS:
            self.show(Step.ERROR, message_id=exc.message_id)
        else:
            self.show(back_to, message_id=exc.message_id)

    def back_target(self, step: Step) -> Step | Back | None:
        """Where Back leads from `step` in this session: a step, Back.CANCEL, or None (nowhere)."""
        back, session = STEPS[step].back, self.session
        if back is Back.BEFORE_SCOPE:
            if session.offline_identity is not None:
                return Step.ENTER_USCC
            if session.login is not None and len(session.login.enterprises) > 1:
                return Step.CHOOSE_ENTERPRISE
            return Back.CANCEL
        if back is Back.REQUEST:
            return Back.CANCEL if session.pickup_ticket is not None else Step.CONFIRM
        if back is Back.RETURN:
            return session.return_to or Back.CANCEL
        return back

    # --- the idle clock ----------------------------------------------------------------------
    def activity(self) -> None:
        self.last_activity = self._clock()
        if self._snapshot.countdown is not None:
            self.publish(dataclasses.replace(self._snapshot, countdown=None))

    def tick(self) -> None:
        if STEPS[self.step].idle_exempt or self.session.printing:
            return
        left = self.idle_timeout_s - (self._clock() - self.last_activity)
        if left <= 0:
            self._audit("session_timeout", step=self.step.value)
            self.reset()
        elif left <= self.countdown_s:
            shown = int(left + 0.999)
            if shown != self._snapshot.countdown:
                self.publish(dataclasses.replace(self._snapshot, countdown=shown))

    # --- what the session's screens show -------------------------------------------------------
    def bounds(self) -> Bounds:
        catalog = self.catalog
        assert catalog is not None
        return Bounds(
            catalog.earliest_date,
            catalog.max_period_years,
            self._today(),
            from_floor=catalog.max_period_from_floor,
        )

    def progress_groups(self) -> tuple[str, ...]:
        """The step bar's groups for this person: a step they skip is not listed."""
        s, skipped = self.session, set()
        if s.pickup_ticket is not None:  # a pickup has its request already: no choices
            skipped = {ENTERPRISE_GROUP, SCOPE_GROUP}
        elif s.offline_identity is None and s.login is not None and len(s.login.enterprises) < 2:
            skipped = {ENTERPRISE_GROUP}
        return tuple(group for group in PROGRESS if group not in skipped)

    # --- snapshots ---------------------------------------------------------------------------
    def publish(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        for listener in self._listeners:
            listener(snapshot)

    def _build(self, step: Step) -> Snapshot:
        s, catalog = self.session, self.catalog
        login, report, identity, queued = s.login, s.report, s.offline_identity, s.queued
        person = login.person_name_masked if login else identity.masked_name if identity else ""
        call = self.help_calls.get(s.help_call) if s.help_call else None
        objection = s.objection
        return Snapshot(
            step=step,
            person=person,
            hall_name=self.hall_name,
            login_method=s.login_method,
            progress_groups=self.progress_groups(),
            enterprises=login.enterprises if login else (),
            enterprise=s.enterprise,
            domains=tuple((d.code, d.name) for d in catalog.domains) if catalog else (),
            selected_domains=None if s.selected is None else frozenset(s.selected),
            period_preset=s.period_preset,
            period=s.period,
            period_bounds=self.bounds() if catalog else None,
            floor=catalog.earliest_date.isoformat() if catalog and catalog.earliest_date else None,
            report_title=catalog.report_title if catalog else self.report_title,
            results=report.meta.domains if report else (),
            total_records=report.meta.total_records if report else 0,
            report_id=report.meta.report_id if report else "",
            verification_code=report.meta.verification_code if report else "",
            objection_deadline=catalog.objection_deadline if catalog else None,
            valid_until=report.meta.valid_until.isoformat() if report else "",
            objection_record=s.objection_record,
            objection_id=objection.objection_id if objection else "",
            objection_due=objection.due_by.isoformat() if objection else "",
            objection_due_provisional=objection.provisional if objection else False,
            sections=tuple((d.code, d.name) for d in catalog.sections) if catalog else (),
            record_term=catalog.record_term if catalog else DEFAULT_RECORD_TERM,
            offline=identity is not None,
            ticket=queued.ticket if queued else s.pickup_ticket or "",
            pickup_after=queued.pickup_after.strftime("%Y-%m-%d %H:%M") if queued else "",
            show_back=STEPS[step].back_button and isinstance(self.back_target(step), Step),
            help_state=call.status if call else "",
            help_staff=(call.staff or "") if call else "",
            service_desk=self.service_desk,
            language=self.language,
            elderly=self.elderly,
        )
