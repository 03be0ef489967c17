"""Everything the kiosk holds of the person in front of it, in one object.

Wiping a session is replacing its `Session` with a new one, so nothing of the last user can stay in
memory-held state by oversight (DESIGN §6): a field added here is wiped with the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .api_models import Enterprise, Login, Objection
from .offline import OfflineIdentity, Queued
from .periods import DEFAULT_PRESET, Period
from .ports import FetchedReport
from .steps import Step


@dataclass(repr=False)  # it holds PII: a repr must never reach a log
class Session:
    login: Login | None = None  # the platform's session, after an online login
    login_method: str = ""  # "card" or "qr": a QR login leaves no card to take away
    enterprise: Enterprise | None = None
    selected: set[str] | None = None  # the chosen domains; None: all
    period: Period | None = None
    period_preset: str | None = DEFAULT_PRESET  # None: a custom period
    report: FetchedReport | None = None
    idempotency_key: str | None = None  # the report request's key (and ticket, if queued)
    keyed_request: tuple[object, ...] | None = None  # what the key was minted for
    printing: bool = False  # a job is in the printer: the session stays until the paper is out
    reprint_from: str = "a4"  # where a reprint starts after a failure
    objection_record: str = ""
    objection: Objection | None = None  # the filed objection: its number and due date, for the slip
    return_to: Step | None = None  # where closing help goes back to
    # a card the reader checked, standing in for the platform should it drop before the report
    fallback_identity: Callable[[], OfflineIdentity] | None = None
    offline_identity: OfflineIdentity | None = None  # set only on the offline path
    queued: Queued | None = None  # the queued request, once it is on disk
    pickup_ticket: str | None = None  # a scanned pickup receipt's ticket
    help_call: str | None = None  # the id of the help call made in this session

    def __repr__(self) -> str:
        return "Session(<hidden>)"
