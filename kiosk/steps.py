"""The steps of a kiosk session and what the screens get to show (no PII beyond masked names)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .api_models import DomainResult, Enterprise, Verification
from .periods import Period


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


# the header's step indicator: (label message id, steps shown under it)
PROGRESS: tuple[tuple[str, frozenset[Step]], ...] = (
    ("progress.authenticate", frozenset({Step.ATTRACT, Step.AUTHENTICATING})),
    ("progress.enterprise", frozenset({Step.CHOOSE_ENTERPRISE, Step.ENTER_USCC})),
    ("progress.scope", frozenset({Step.CHOOSE_SCOPE, Step.CHOOSE_DOMAINS, Step.CONFIRM})),
    ("progress.summary", frozenset({Step.FETCHING, Step.SUMMARY})),
    (
        "progress.print",
        frozenset({Step.PRINTING, Step.PRINT_FAILED, Step.DONE, Step.QUEUING, Step.QUEUED}),
    ),
)

# steps where nobody is waiting on the user: no idle countdown
IDLE_EXEMPT = frozenset(
    {
        Step.ATTRACT,
        Step.OUT_OF_SERVICE,
        Step.AUTHENTICATING,
        Step.FETCHING,
        Step.PRINTING,
        Step.QUEUING,
    }
)


def progress_index(step: Step) -> int | None:
    for index, (_, steps) in enumerate(PROGRESS):
        if step in steps:
            return index
    return None


@dataclass(frozen=True)
class Snapshot:
    """Everything a screen renders; a new one after every change."""

    step: Step
    person: str = ""  # masked name, e.g. 张*
    enterprises: tuple[Enterprise, ...] = ()
    enterprise: Enterprise | None = None
    domains: tuple[tuple[str, str], ...] = ()  # the catalog's (code, name)
    selected_domains: frozenset[str] | None = None  # None: all domains
    period_preset: str | None = None  # None: a custom period
    period: Period | None = None
    floor: str | None = None
    report_title: str = ""
    results: tuple[DomainResult, ...] = ()
    total_records: int = 0
    report_id: str = ""
    verification_code: str = ""
    valid_until: str = ""
    print_phase: str = ""  # "a4", "receipt"
    verification: Verification | None = None
    objection_record: str = ""
    objection_due: str = ""
    offline: bool = False  # the platform is unreachable: this request will be queued
    ticket: str = ""  # a queued request's pickup ticket (also shown after a pickup)
    pickup_after: str = ""  # when the queued report can be picked up, "YYYY-MM-DD HH:MM"
    message_id: str = ""  # an error or notice to show
    message_args: dict[str, str] = field(default_factory=dict)
    countdown: int | None = None  # seconds left before the session is wiped, when shown
    staff_status: dict[str, str] = field(default_factory=dict)
    can_go_back: bool = False
    language: str = "zh_CN"
    elderly: bool = False  # larger text, higher contrast, voice prompts

    @property
    def progress(self) -> int | None:
        return progress_index(self.step)
