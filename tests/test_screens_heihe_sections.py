"""Heihe's arrears are parts of every report, not domains (issue 18): the confirm screen says they
are included whatever domains were chosen, and the summary neither counts them as domains nor
drops them. Heihe's seed: “专用信用报告内容包括……企业参保欠缴、住房公积金欠缴……等信息”."""

from __future__ import annotations

from . import kivy_env  # noqa: F401  # isort: skip  (sets up Kivy before it is imported)

import dataclasses

from kiosk.api_models import DomainResult, RecordLine
from kiosk.steps import Step

from .kiosk_fakes import RegionServices, report
from .kivy_env import KioskTestCase

ARREARS = RecordLine(
    "HH-1", "social_insurance_arrears", "2025-03-01", "黑河市社保中心", "", "欠缴", None
)


class HeiheServices(RegionServices):
    """The fake platform with Heihe's real catalog and a report of one chosen domain, clean, and
    the two sections, one of them with a record."""

    def __init__(self) -> None:
        super().__init__("heihe")
        assert self.region_catalog.sections, "Heihe's catalog names its sections"
        first, second = self.region_catalog.sections[:2]
        base = report(records=0)
        meta = dataclasses.replace(
            base.meta,
            domains=(
                DomainResult("transport", "交通运输", clean=True, records=()),
                DomainResult(first.code, first.name, clean=False, records=(ARREARS,), section=True),
                DomainResult(second.code, second.name, clean=True, records=(), section=True),
            ),
            total_records=1,
        )
        self.report_answer = dataclasses.replace(base, meta=meta)


class HeiheSectionsTest(KioskTestCase):
    def test_the_arrears_are_announced_then_reported_apart_from_the_domains(self) -> None:
        services = HeiheServices()
        first, second = (s.name for s in services.region_catalog.sections[:2])
        self.start(services)
        self.card_to_confirm()
        confirm = "\n".join(self.texts())
        self.assertIn(f"另含：{first}、{second}", confirm)
        self.tap(self.button("生成报告"))
        self.wait_for_step(Step.SUMMARY)
        texts = self.texts()
        # one record, in a section: no domain has records, and the one chosen domain is clean
        self.assertIn(f"共1条记录，涉及{first}", texts)
        self.assertIn("其余1个领域均无违法记录", texts)  # the seed's word, not 违法违规记录
        self.assertIn(f"无{second}信息", texts)
        self.assertFalse([t for t in texts if "涉及1个领域" in t or "其余3个领域" in t], texts)
