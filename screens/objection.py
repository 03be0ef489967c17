"""Object to one record: a reason button and a phone number typed on the keypad."""

from __future__ import annotations

from kivy.properties import ListProperty, StringProperty

from kiosk.api_models import ObjectionDeadline
from kiosk.side_trips import OBJECTION_REASONS
from kiosk.steps import Snapshot

from .base import KioskScreen, Translator
from .widgets import keyed

PHONE_MAX = 12  # a landline with a four-digit area code


class ObjectionScreen(KioskScreen):
    headline_id = "objection.title"
    record_label = StringProperty("")
    record_text = StringProperty("")
    deadline_text = StringProperty("")  # the answer's deadline, and whether the region sets it
    reason_label = StringProperty("")
    reason_texts = ListProperty([""] * len(OBJECTION_REASONS))
    reasons = ListProperty(list(OBJECTION_REASONS))
    reason = StringProperty("")  # the chosen key of OBJECTION_REASONS
    contact_label = StringProperty("")
    phone = StringProperty("")
    submit_text = StringProperty("")
    delete_text = StringProperty("")
    clear_text = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._record = ""

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        if snapshot.objection_record != self._record:  # a new objection starts empty
            self.reason = ""
            self.phone = ""
            self._record = snapshot.objection_record
        self.record_label = t("objection.record")
        self.record_text = ""
        for domain in snapshot.results:
            for record in domain.records:
                if record.record_id == snapshot.objection_record:
                    self.record_text = (
                        f"{domain.name}  {record.date}  {record.title}\n"
                        f"{record.agency}  {record.document_no}"
                    )
        self.deadline_text = deadline_text(snapshot.objection_deadline, t)
        self.reason_label = t("objection.reason")
        self.reason_texts = [t(f"objection.reason.{key}") for key in self.reasons]
        self.contact_label = t("objection.contact")
        self.submit_text = t("objection.submit")
        self.delete_text = t("keypad.delete")
        self.clear_text = t("keypad.clear")

    def choose_reason(self, reason: str) -> None:
        self.reason = reason

    def key(self, key: str) -> None:
        self.phone = keyed(self.phone, key, PHONE_MAX)

    def clear(self) -> None:
        self.reason = self.phone = self.record_text = self._record = self.deadline_text = ""


def deadline_text(deadline: ObjectionDeadline | None, t: Translator) -> str:
    """The deadline as the platform's catalog gives it: the region's rule in its own words, or
    the platform's default labelled as such; then how working days are counted in a year whose
    holiday notice is not out yet (以官方公布为准). Nothing from a platform that does not say."""
    if deadline is None:
        return ""
    if deadline.basis == "seed":
        rule = t("objection.deadline.seed", days=deadline.working_days, source=deadline.source)
    else:
        rule = t("objection.deadline.default", days=deadline.working_days)
    return f"{rule}\n{t('objection.deadline.calendar')}"
