"""A credit repair dated after the import day is refused: a report would print it as done."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from report_service import db
from report_service.bootstrap import open_platform
from report_service.clock import CST
from report_service.importer import ImportFileError, import_lines
from report_service.service import PlatformService

from .casebook import company_and_person, id_number, penalty, uscc

IMPORT_DAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=CST)


@pytest.fixture()
def service(tmp_path: Path) -> PlatformService:
    return open_platform(str(tmp_path / "p.db"), clock=lambda: IMPORT_DAY)


def lines_with_repair(repaired_on: str) -> list[str]:
    company, person = uscc("heihe", 7401), id_number("heihe", 741)
    rows = company_and_person("heihe", company, "黑河修复测试有限公司", person, "周九", "agent")
    record = penalty("REP-1", company, "市场监管", "2025-06-01", repaired_on=repaired_on)
    return [*rows, json.dumps(record, ensure_ascii=False)]


def count(service: PlatformService, table: type) -> int:
    with service.sessions() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


def test_repair_after_the_import_day_refuses_the_file(service: PlatformService) -> None:
    with pytest.raises(ImportFileError) as exc:
        import_lines(service, lines_with_repair("2026-03-03"))
    assert exc.value.errors == [
        (3, "'repaired_on' 2026-03-03 is in the future: the repair has not happened yet")
    ]
    assert "line 3" in str(exc.value)
    assert count(service, db.Entity) == count(service, db.Record) == 0  # nothing imported


def test_repair_on_the_import_day_is_accepted(service: PlatformService) -> None:
    counts = import_lines(service, lines_with_repair("2026-03-02"))
    assert counts == {"entities": 1, "persons": 1, "records": 1}
    with service.sessions() as s:
        record = s.get(db.Record, "REP-1")
        assert record is not None and record.repaired_on == dt.date(2026, 3, 2)
