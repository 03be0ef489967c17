"""The report's summary: clean domains in one line, each record with its objection button."""

from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.api_models import RecordLine
from kiosk.steps import Snapshot

from .base import KioskScreen, Translator, term
from .widgets import Pool, Text


class RecordCard(BoxLayout):
    """One record of a domain: what, when, who, and "object to this record"."""

    record_id = StringProperty("")
    heading = StringProperty("")
    detail = StringProperty("")
    objection_text = StringProperty("")


class DomainHeading(Text):
    pass


def record_card(record: RecordLine, t: Translator, pool: Pool) -> RecordCard:
    kind = term(t, f"record.kind.{record.kind}", record.kind)
    lines = [f"{record.agency}  {record.document_no}"]
    if record.repaired_on:
        lines.append(t("summary.repaired", date=record.repaired_on))
    return pool.take(
        RecordCard,
        record_id=record.record_id,
        heading=f"{record.date}  {kind}  {record.title}",
        detail="\n".join(lines),
        objection_text=t("summary.objection"),
    )


class SummaryScreen(KioskScreen):
    headline_id = "summary.title"
    overview = StringProperty("")
    report_text = StringProperty("")
    print_text = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[object, ...] = ()
        self._pool = Pool()

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        results = snapshot.results
        with_records = [d for d in results if d.records]
        chosen = [d for d in results if not d.section]  # a section is no domain: counted apart
        clean = sum(1 for d in chosen if not d.records)
        if with_records:
            n = sum(1 for d in with_records if not d.section)
            where = [t("count.domains", count=n)] if n else []
            where += [d.name for d in with_records if d.section]
            self.overview = t(
                "summary.records",
                count=snapshot.total_records,
                domains=t("list.separator").join(where),
            )
        else:
            self.overview = t("summary.clean", count=len(chosen), term=snapshot.record_term)
        self.report_text = (
            t("summary.report_id", report_id=snapshot.report_id) if snapshot.report_id else ""
        )
        self.print_text = t("summary.print")
        key = (results, snapshot.language)
        if key == self._shown:
            return
        body = self.ids.records
        self._pool.release(body)
        for domain in with_records:
            body.add_widget(self._pool.take(DomainHeading, text=domain.name))
            for record in domain.records:
                body.add_widget(record_card(record, t, self._pool))
        if with_records and clean:
            text = t("summary.others_clean", count=clean, term=snapshot.record_term)
            body.add_widget(self._pool.take(DomainHeading, text=text))
        for section in results:
            if section.section and not section.records:
                text = t("summary.section_clean", name=section.name)
                body.add_widget(self._pool.take(DomainHeading, text=text))
        self._shown = key

    def speech(self) -> str:
        return f"{self.headline} {self.overview}"

    def clear(self) -> None:
        self._pool.release(self.ids.records)
        self._shown = ()
        self.overview = self.report_text = ""
