"""Statistics per terminal and hall by day (DESIGN §8): reports, pickups, verifications,
objections, help calls and the time to acknowledge them, availability during opening hours.

Counts come from the platform's own rows where it has them (reports, help calls) and from the
terminals' events otherwise (EVENT_COUNTS). Availability is the share of the hall's opening time in
which a terminal was online and serving (in service, or taking requests into its offline queue).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import statistics
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import db
from ..clock import CST
from ..errors import not_found
from . import models
from .context import HallContext, aware
from .hours import load_hours, open_intervals

EVENT_COUNTS = {  # statistic -> the kiosk's event kind
    "reports_printed": "print_done",
    "pickups": "pickup_fetched",
    "verifications": "verify_done",
    "objections": "objection_filed",
}
MAX_DAYS = 366  # how far back the statistics reach (and events are taken)
SERVING = frozenset({"in_service", "offline_queueing"})
COLUMNS = (
    ("date", "日期"),
    ("terminal_id", "终端"),
    ("reports", "出具报告"),
    ("reports_printed", "打印报告"),
    ("pickups", "离线取件"),
    ("verifications", "核验"),
    ("objections", "异议"),
    ("help_calls", "求助"),
    ("ack_median_s", "响应时间中位数（秒）"),
    ("ack_max_s", "最长响应时间（秒）"),
    ("availability_pct", "营业时间可用率（%）"),
    ("open_hours", "营业时长（小时）"),
)
ALL = "ALL"


def hall_stats(ctx: HallContext, hall_id: str, days: int) -> dict[str, Any]:
    now = ctx.now().astimezone(CST)
    first = now.date() - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time.min, CST)
    with ctx.sessions() as s:
        terminals = list(s.scalars(select(db.Terminal.id).where(db.Terminal.hall_id == hall_id)))
        rows: dict[tuple[str, str], dict[str, Any]] = defaultdict(_empty)
        _reports(s, terminals, start, rows)
        _events(s, terminals, start, rows)
        acks = _help_calls(s, hall_id, start, rows)
        hall = s.get(models.Hall, hall_id)
        weekly = load_hours(hall.hours) if hall is not None else None
        _availability(ctx, s, terminals, weekly, start, now, rows)
    for day in {day for day, _ in list(rows)}:  # every day with figures has its hall total
        rows[(day, ALL)]
    for (day, terminal), waits in acks.items():
        rows[(day, terminal)]["ack_median_s"] = round(statistics.median(waits), 1)
        rows[(day, terminal)]["ack_max_s"] = round(max(waits), 1)
    for (day, terminal), row in list(rows.items()):
        if row["_open_s"]:
            row["availability_pct"] = round(100 * row["_serving_s"] / row["_open_s"], 1)
        if terminal != ALL:
            rows[(day, ALL)]["_open_s_sum"] += row["_open_s"]
            rows[(day, ALL)]["_serving_s_sum"] += row["_serving_s"]
        row["open_hours"] = round(row["_open_s"] / 3600, 2)
    for (_day, terminal), row in rows.items():
        if terminal == ALL and row["_open_s_sum"]:
            row["availability_pct"] = round(100 * row["_serving_s_sum"] / row["_open_s_sum"], 1)
    out = [
        {"date": day, "terminal_id": terminal}
        | {k: v for k, v in row.items() if not k.startswith("_")}
        for (day, terminal), row in sorted(rows.items())
    ]
    return {
        "hall_id": hall_id,
        "from": first.isoformat(),
        "to": now.date().isoformat(),
        "rows": out,
    }


def _empty() -> dict[str, Any]:
    return {
        "reports": 0, "reports_printed": 0, "pickups": 0, "verifications": 0, "objections": 0,
        "help_calls": 0, "ack_median_s": None, "ack_max_s": None, "availability_pct": None,
        "open_hours": 0.0, "_open_s": 0.0, "_serving_s": 0.0, "_open_s_sum": 0.0,
        "_serving_s_sum": 0.0,
    }  # fmt: skip


def _day(value: dt.datetime) -> str:
    return aware(value).astimezone(CST).date().isoformat()


def _reports(s: Session, terminals: list[str], start: dt.datetime, rows: dict[Any, Any]) -> None:
    for terminal, issued in s.execute(
        select(db.Report.terminal_id, db.Report.issued_at).where(
            db.Report.terminal_id.in_(terminals), db.Report.issued_at >= start
        )
    ):
        rows[(_day(issued), terminal)]["reports"] += 1
        rows[(_day(issued), ALL)]["reports"] += 1


def _events(s: Session, terminals: list[str], start: dt.datetime, rows: dict[Any, Any]) -> None:
    by_kind = {kind: stat for stat, kind in EVENT_COUNTS.items()}
    query = (
        select(models.TerminalEvent.terminal_id, models.TerminalEvent.kind, models.TerminalEvent.at,
               func.count())
        .where(models.TerminalEvent.terminal_id.in_(terminals), models.TerminalEvent.at >= start,
               models.TerminalEvent.kind.in_(by_kind))
        .group_by(models.TerminalEvent.terminal_id, models.TerminalEvent.kind, models.TerminalEvent.at)
    )  # fmt: skip
    for terminal, kind, at, n in s.execute(query):
        rows[(_day(at), terminal)][by_kind[kind]] += n
        rows[(_day(at), ALL)][by_kind[kind]] += n


def _help_calls(
    s: Session, hall_id: str, start: dt.datetime, rows: dict[Any, Any]
) -> dict[tuple[str, str], list[float]]:
    acks: dict[tuple[str, str], list[float]] = defaultdict(list)
    for call in s.scalars(
        select(models.HelpCall).where(models.HelpCall.hall_id == hall_id,
                                      models.HelpCall.created_at >= start)
    ):  # fmt: skip
        day = _day(call.created_at)
        for key in ((day, call.terminal_id), (day, ALL)):
            rows[key]["help_calls"] += 1
            if call.acknowledged_at is not None:
                wait = (aware(call.acknowledged_at) - aware(call.created_at)).total_seconds()
                acks[key].append(max(0.0, wait))
    return acks


def _availability(ctx: HallContext, s: Session, terminals: list[str], weekly: Any,
                  start: dt.datetime, now: dt.datetime, rows: dict[Any, Any]) -> None:  # fmt: skip
    opening = list(open_intervals(weekly, ctx.calendar, start, now))
    for terminal in terminals:
        before: list[models.StatusChange] = list(s.scalars(
            select(models.StatusChange).where(models.StatusChange.terminal_id == terminal,
                                              models.StatusChange.at < start)
            .order_by(models.StatusChange.at.desc()).limit(1)
        ))  # fmt: skip
        changes = before + list(s.scalars(
            select(models.StatusChange).where(models.StatusChange.terminal_id == terminal,
                                              models.StatusChange.at >= start)
            .order_by(models.StatusChange.at, models.StatusChange.id)
        ))  # fmt: skip
        spans = []  # (from, to, serving)
        for i, change in enumerate(changes):
            lo = max(aware(change.at), start)
            hi = aware(changes[i + 1].at) if i + 1 < len(changes) else now
            serving = change.link == "online" and change.availability in SERVING
            spans.append((lo, hi, serving))
        if not changes:
            continue
        known_from = aware(changes[0].at)  # before its first report a terminal is not counted
        for lo, hi in opening:
            lo = max(lo, known_from)
            if lo >= hi:
                continue
            day = lo.date().isoformat()
            row = rows[(day, terminal)]
            row["_open_s"] += (hi - lo).total_seconds()
            for a, b, serving in spans:
                overlap = (min(b, hi) - max(a, lo)).total_seconds()
                if serving and overlap > 0:
                    row["_serving_s"] += overlap


def to_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"{zh} {en}" for en, zh in COLUMNS])
    for row in data["rows"]:
        writer.writerow(["全部 ALL" if row[k] == ALL else ("" if row[k] is None else row[k])
                         for k, _ in COLUMNS])  # fmt: skip
    return out.getvalue()


def staff_actions(ctx: HallContext, hall_id: str, limit: int = 200) -> list[dict[str, Any]]:
    with ctx.sessions() as s:
        return [
            {"at": aware(a.at).isoformat(timespec="seconds"), "username": a.username,
             "action": a.action, "target": a.target, "detail": json.loads(a.detail or "{}")}
            for a in s.scalars(
                select(models.StaffAction).where(models.StaffAction.hall_id == hall_id)
                .order_by(models.StaffAction.at.desc()).limit(limit)
            )
        ]  # fmt: skip


def diagnostic_bundle(ctx: HallContext, hall_id: str, bundle_id: int) -> models.DiagnosticBundle:
    with ctx.sessions() as s:
        bundle = s.get(models.DiagnosticBundle, bundle_id)
        terminal = s.get(db.Terminal, bundle.terminal_id) if bundle else None
        if bundle is None or terminal is None or terminal.hall_id != hall_id:
            raise not_found("bundle_not_found", "没有这个诊断包。")
        return bundle
