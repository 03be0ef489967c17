"""The screen classes, by the name kiosk.steps.STEPS gives each step's screen, and their .kv files."""

from __future__ import annotations

from kiosk.steps import STEPS, Step

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

# every screen class, by the name of its module (and .kv file): kiosk.steps.STEPS names the one
# that shows each step
SCREEN_CLASSES: dict[str, type[KioskScreen]] = {
    cls.__module__.rsplit(".", 1)[1]: cls
    for cls in (
        AttractScreen,
        BusyScreen,
        ConfirmScreen,
        DomainsScreen,
        DoneScreen,
        EnterpriseScreen,
        HelpScreen,
        NoticeScreen,
        ObjectionScreen,
        ObjectionDoneScreen,
        PickupScreen,
        PrintFailedScreen,
        QueuedScreen,
        ScopeScreen,
        StaffScreen,
        StaffPinScreen,
        SummaryScreen,
        UsccScreen,
        VerifyResultScreen,
        VerifyScanScreen,
    )
}

# one .kv per screen module, named like it
KV_FILES = tuple(sorted(SCREEN_CLASSES))


def screen_class(step: Step) -> type[KioskScreen]:
    return SCREEN_CLASSES[STEPS[step].screen]
