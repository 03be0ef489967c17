"""Which screen class shows which journey step, and the .kv file of each."""

from __future__ import annotations

from kiosk.steps import Step

from .attract import AttractScreen
from .base import KioskScreen
from .busy import BusyScreen
from .confirm import ConfirmScreen
from .domains import DomainsScreen
from .done import DoneScreen
from .enterprise import EnterpriseScreen
from .help import HelpScreen
from .notice import NoticeScreen
from .objection import ObjectionScreen
from .objection_done import ObjectionDoneScreen
from .pickup import PickupScreen
from .print_failed import PrintFailedScreen
from .queued import QueuedScreen
from .scope import ScopeScreen
from .staff import StaffScreen
from .staff_pin import StaffPinScreen
from .summary import SummaryScreen
from .uscc import UsccScreen
from .verify_result import VerifyResultScreen
from .verify_scan import VerifyScanScreen

SCREENS: dict[Step, type[KioskScreen]] = {
    Step.ATTRACT: AttractScreen,
    Step.AUTHENTICATING: BusyScreen,
    Step.CHOOSE_ENTERPRISE: EnterpriseScreen,
    Step.CHOOSE_SCOPE: ScopeScreen,
    Step.CHOOSE_DOMAINS: DomainsScreen,
    Step.CONFIRM: ConfirmScreen,
    Step.FETCHING: BusyScreen,
    Step.SUMMARY: SummaryScreen,
    Step.PRINTING: BusyScreen,
    Step.PRINT_FAILED: PrintFailedScreen,
    Step.DONE: DoneScreen,
    Step.VERIFY_SCAN: VerifyScanScreen,
    Step.VERIFY_RESULT: VerifyResultScreen,
    Step.OBJECTION: ObjectionScreen,
    Step.OBJECTION_DONE: ObjectionDoneScreen,
    Step.HELP: HelpScreen,
    Step.STAFF_PIN: StaffPinScreen,
    Step.STAFF: StaffScreen,
    Step.ENTER_USCC: UsccScreen,
    Step.QUEUING: BusyScreen,
    Step.QUEUED: QueuedScreen,
    Step.PICKUP_AUTH: PickupScreen,
    Step.ERROR: NoticeScreen,
    Step.OUT_OF_SERVICE: NoticeScreen,
}

# one .kv per screen module, named like it
KV_FILES = tuple(sorted({cls.__module__.rsplit(".", 1)[1] for cls in SCREENS.values()}))


def screen_class(step: Step) -> type[KioskScreen]:
    return SCREENS[step]
