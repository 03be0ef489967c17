"""The steps of a kiosk session, one rule per step, and what the screens get to show.

`STEPS` is the one table of navigation: where Back leads, whether Home is offered, which steps the
idle countdown skips, where help is offered, the header's progress group, which devices are read,
where a message is shown by the screen itself, and where a session has ended. The journey, the
runner and the screens all derive their behaviour from it; nothing else lists steps.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .api_models import (
    DEFAULT_RECORD_TERM,
    DomainResult,
    Enterprise,
    ObjectionDeadline,
    Verification,
)
from .i18n import DEFAULT_LANGUAGE
from .periods import Bounds, Period


class Step(enum.StrEnum):
    ATTRACT = "attract"  # waiting for an ID card or a login QR
    AUTHENTICATING = "authenticating"
    CHOOSE_ENTERPRISE = "choose_enterprise"  # skipped when the person has one
    CHOOSE_SCOPE = "choose_scope"  # all domains or a few, and the period
    CHOOSE_DOMAINS = "choose_domains"  # the picker behind "a few domains"
    CONFIRM = "confirm"
    FETCHING = "fetching"
    SUMMARY = "summary"
    PRINTING = "printing"
    PRINT_FAILED = "print_failed"  # paper out, jam: reprint after staff help
    DONE = "done"
    VERIFY_SCAN = "verify_scan"
    VERIFY_RESULT = "verify_result"
    OBJECTION = "objection"
    OBJECTION_DONE = "objection_done"
    HELP = "help"
    STAFF_PIN = "staff_pin"
    STAFF = "staff"
    ENTER_USCC = "enter_uscc"  # offline: the enterprise typed as its credit code
    QUEUING = "queuing"  # offline: the request goes into the encrypted queue
    QUEUED = "queued"  # offline: queued, pickup receipt printed
    PICKUP_AUTH = "pickup_auth"  # a pickup receipt was scanned: the same person signs in
    ERROR = "error"
    OUT_OF_SERVICE = "out_of_service"
    LOCKED = "locked"  # staff paused the terminal from the dashboard (暂停服务)


class Back(enum.Enum):
    """Where Back leads when it is not one fixed step; the journey resolves it for the session."""

    CANCEL = "cancel"  # the session ends
    BEFORE_SCOPE = "before_scope"  # the credit code offline, the enterprise of several, or cancel
    REQUEST = "request"  # the request's confirm screen; a pickup has none: cancel
    RETURN = "return"  # where help was called from


class Device(enum.StrEnum):
    """The input devices the runner reads for the journey."""

    CARD = "card"
    QR = "qr"


# the header's step indicator: the label of each group, in order
PROGRESS = (
    "progress.authenticate",
    "progress.enterprise",
    "progress.scope",
    "progress.summary",
    "progress.print",
)
_AUTH, _ENTERPRISE, _SCOPE, _SUMMARY, _PRINT = PROGRESS
ENTERPRISE_GROUP, SCOPE_GROUP = _ENTERPRISE, _SCOPE  # the groups a session can skip


@dataclass(frozen=True)
class StepRule:
    screen: str  # the screens/ module and .kv file that show the step
    back: Step | Back | None = None  # what Back does; None: nothing (no way back from here)
    back_button: bool = True  # the footer shows Back where it leads to a step (help has Close)
    home: str | None = "button.home"  # the footer's Home/Cancel label; None: not offered
    leave: bool = True  # False: cancel() is refused (a job is in the printer, the kiosk is down)
    idle_exempt: bool = False  # nobody is waiting on the user: no idle countdown
    controls: bool = True  # the header's language and elderly buttons (attract has its own)
    help: bool = True  # the header's help button
    progress: str | None = None  # the header's step indicator group (a PROGRESS label)
    listens: frozenset[Device] = frozenset()  # the devices the runner reads, for the journey
    message_on_screen: bool = False  # the screen shows the message itself: no banner
    wipes: bool = False  # arriving here ends the session: everything of the user is forgotten
    staff_door: bool = False  # five taps on the unmarked corner open the staff PIN screen


_CANCEL, _BUSY = "button.cancel", "busy"
_BOTH = frozenset({Device.CARD, Device.QR})

STEPS: dict[Step, StepRule] = {
    Step.ATTRACT: StepRule(
        "attract", home=None, idle_exempt=True, controls=False, help=False, progress=_AUTH,
        listens=_BOTH, wipes=True, staff_door=True,
    ),
    Step.AUTHENTICATING: StepRule(_BUSY, home=_CANCEL, idle_exempt=True, progress=_AUTH),
    Step.CHOOSE_ENTERPRISE: StepRule("enterprise", progress=_ENTERPRISE),
    Step.CHOOSE_SCOPE: StepRule("scope", back=Back.BEFORE_SCOPE, progress=_SCOPE),
    Step.CHOOSE_DOMAINS: StepRule("domains", back=Step.CHOOSE_SCOPE, progress=_SCOPE),
    Step.CONFIRM: StepRule("confirm", back=Step.CHOOSE_SCOPE, progress=_SCOPE),
    Step.FETCHING: StepRule(_BUSY, home=_CANCEL, idle_exempt=True, progress=_SUMMARY),
    Step.SUMMARY: StepRule("summary", back=Back.REQUEST, progress=_SUMMARY),
    Step.PRINTING: StepRule(_BUSY, home=None, leave=False, idle_exempt=True, progress=_PRINT),
    Step.PRINT_FAILED: StepRule("print_failed", message_on_screen=True, progress=_PRINT),
    Step.DONE: StepRule("done", home=None, progress=_PRINT),
    Step.VERIFY_SCAN: StepRule(
        "verify_scan", back=Back.CANCEL, listens=frozenset({Device.QR})
    ),
    Step.VERIFY_RESULT: StepRule("verify_result", back=Step.VERIFY_SCAN),
    Step.OBJECTION: StepRule("objection", back=Step.SUMMARY),
    Step.OBJECTION_DONE: StepRule("objection_done"),
    Step.HELP: StepRule("help", back=Back.RETURN, back_button=False, help=False),
    Step.STAFF_PIN: StepRule("staff_pin", back=Back.CANCEL, help=False),
    Step.STAFF: StepRule("staff", back=Back.CANCEL, help=False),
    Step.ENTER_USCC: StepRule("uscc", back=Back.CANCEL, progress=_ENTERPRISE),
    Step.QUEUING: StepRule(_BUSY, home=None, idle_exempt=True, progress=_PRINT),
    Step.QUEUED: StepRule("queued", home=None, progress=_PRINT),
    Step.PICKUP_AUTH: StepRule("pickup", back=Back.CANCEL, listens=_BOTH),
    Step.ERROR: StepRule("notice", back=Back.CANCEL, message_on_screen=True, wipes=True),
    Step.OUT_OF_SERVICE: StepRule(
        "notice", home=None, leave=False, idle_exempt=True, message_on_screen=True, wipes=True,
        staff_door=True,
    ),
    Step.LOCKED: StepRule(
        "notice", home=None, leave=False, idle_exempt=True, controls=False, help=False,
        message_on_screen=True, wipes=True, staff_door=True,
    ),
}  # fmt: skip

# where a terminal rests between sessions: a new session may start only from the attract screen
RESTING = frozenset({Step.ATTRACT, Step.OUT_OF_SERVICE, Step.LOCKED})


def listening(device: Device) -> frozenset[Step]:
    """The steps at which the runner reads `device` for the journey."""
    return frozenset(step for step, rule in STEPS.items() if device in rule.listens)


@dataclass(frozen=True)
class Snapshot:
    """Everything a screen renders; a new one after every change.

    The step's rule (`STEPS`) answers the questions that depend on the step alone (`show_home`,
    `show_help`, …); `show_back` depends on the session too, so the stage works it out.
    """

    step: Step
    person: str = ""  # masked name, e.g. 张*
    hall_name: str = ""  # the hall this terminal stands in, on every screen
    login_method: str = ""  # "card" or "qr": how the person signed in ("" before)
    # the header's step bar: the groups this person goes through (one enterprise: no choice)
    progress_groups: tuple[str, ...] = PROGRESS
    enterprises: tuple[Enterprise, ...] = ()
    enterprise: Enterprise | None = None
    domains: tuple[tuple[str, str], ...] = ()  # the catalog's (code, name)
    selected_domains: frozenset[str] | None = None  # None: all domains
    period_preset: str | None = None  # None: a custom period
    period: Period | None = None
    period_bounds: Bounds | None = None  # what a period may be: the floor, the longest, today
    floor: str | None = None
    report_title: str = ""
    results: tuple[DomainResult, ...] = ()
    total_records: int = 0
    report_id: str = ""
    verification_code: str = ""
    valid_until: str = ""
    print_phase: str = ""  # "a4", "receipt"
    verification: Verification | None = None
    objection_deadline: ObjectionDeadline | None = None  # the region's, from the catalog
    objection_record: str = ""
    objection_id: str = ""  # the platform's number for a filed objection
    objection_due: str = ""
    objection_due_provisional: bool = False  # counted past the published holiday notices
    sections: tuple[tuple[str, str], ...] = ()  # (code, name): in every report, whatever domains
    record_term: str = DEFAULT_RECORD_TERM  # the region's word for a record, from the catalog
    offline: bool = False  # the platform is unreachable: this request will be queued
    ticket: str = ""  # a queued request's pickup ticket (also shown after a pickup)
    pickup_after: str = ""  # when the queued report can be picked up, "YYYY-MM-DD HH:MM"
    message_id: str = ""  # an error or notice to show
    message_args: dict[str, str] = field(default_factory=dict)
    countdown: int | None = None  # seconds left before the session is wiped, when shown
    staff_status: dict[str, str] = field(default_factory=dict)
    # help calls ("call", time, reason, status, staff) and alerts ("alert", time, code, detail)
    staff_lines: tuple[tuple[str, ...], ...] = ()
    # this session's help call: "" none, "sending", "open", "acknowledged", "resolved",
    # "undelivered" (the platform is away: the call waits in the queue)
    help_state: str = ""
    help_staff: str = ""  # who answered it
    service_desk: str = ""  # where a person finds staff (config hall.service_desk)
    show_back: bool = False  # the footer's Back leads to an earlier step of this session
    language: str = DEFAULT_LANGUAGE
    elderly: bool = False  # larger text, higher contrast, voice prompts

    @property
    def rule(self) -> StepRule:
        return STEPS[self.step]

    @property
    def show_home(self) -> bool:
        return self.rule.home is not None

    @property
    def home_label(self) -> str:
        """The message id of the footer's Home/Cancel button ("" where it is not shown)."""
        return self.rule.home or ""

    @property
    def show_help(self) -> bool:
        return self.rule.help

    @property
    def show_controls(self) -> bool:
        return self.rule.controls

    @property
    def message_on_screen(self) -> bool:
        return self.rule.message_on_screen

    @property
    def session_ended(self) -> bool:
        return self.rule.wipes

    @property
    def staff_door(self) -> bool:
        return self.rule.staff_door

    @property
    def progress(self) -> int | None:
        """The current group's place in `progress_groups` (None: no step bar here)."""
        group = self.rule.progress
        return None if group not in self.progress_groups else self.progress_groups.index(group)
