"""`report-service staff add` and `report-service halls set-hours | show`: hall operations' part of
the service command line (report_service/cli.py adds these subcommands)."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import db
from ..errors import ApiError
from ..profiles import regions
from . import HallService, models
from .hours import HoursError, describe, dump_hours, load_hours, parse_hours
from .staff import password_problem, username_problem
from .vocabulary import STAFF_ROLES

ServiceFor = Callable[[argparse.Namespace], Any]  # the platform service of the --db given


def add_commands(sub: Any, with_db: Callable[[argparse.ArgumentParser], argparse.ArgumentParser],
                 service_for: ServiceFor, creating: ServiceFor) -> None:  # fmt: skip
    """`creating` opens the database or makes it (set-up steps); `service_for` only opens it."""
    staff = sub.add_parser("staff", help="hall staff accounts").add_subparsers(
        dest="staff_command", required=True
    )
    add = with_db(
        staff.add_parser(
            "add", help="add a staff account; the password is read from standard input"
        )
    )
    add.add_argument("--hall", required=True)
    add.add_argument("--username", required=True)
    add.add_argument("--role", required=True, choices=list(STAFF_ROLES))
    add.add_argument(
        "--region",
        choices=regions(),
        help="the hall's region (needed for a hall no terminal or token names yet)",
    )
    add.add_argument("--display-name", default="", help="the name staff see on help calls")

    def staff_add(args: argparse.Namespace) -> int:
        """Everything that can be refused before the database is opened is, so that a refused
        command makes no database."""
        if problem := username_problem(args.username):
            print(f"report-service staff add: {problem}; nothing was added", file=sys.stderr)
            return 2
        file = db.sqlite_file(args.db)
        if file is not None and not Path(file).exists() and not args.region:
            print(f"report-service staff: hall {args.hall} is new and there is no database at "
                  f"{file} yet: give its --region", file=sys.stderr)  # fmt: skip
            return 2
        password = _read_password()
        problem = "the two passwords differ" if password is None else password_problem(password)
        if problem or password is None:
            print(f"report-service staff add: {problem}; nothing was added", file=sys.stderr)
            return 2
        return refusing(lambda a, s: cmd_staff_add(a, s, password))(args, creating(args))

    add.set_defaults(func=staff_add)

    halls = sub.add_parser("halls", help="service halls").add_subparsers(
        dest="halls_command", required=True
    )
    hours = with_db(halls.add_parser("set-hours", help="a hall's opening hours"))
    hours.add_argument("--hall", required=True)
    hours.add_argument(
        "--region",
        choices=regions(),
        help="the hall's region (needed for a hall no terminal or token names yet)",
    )
    hours.add_argument("--name", help="the hall's name, shown on its dashboard")
    hours.add_argument("--hours", required=True,
                       help='e.g. "mon-fri 08:30-12:00,13:30-17:30; sat 09:00-12:00"')  # fmt: skip
    hours.set_defaults(func=lambda args: refusing(cmd_set_hours)(args, creating(args)))
    show = with_db(halls.add_parser("list", help="halls with their regions and opening hours"))
    show.set_defaults(func=lambda args: cmd_list(args, service_for(args)))


class Refused(Exception):
    """A refusal for the technician: one line, exit status 2."""


def refusing(command: Callable[[argparse.Namespace, Any], int]) -> Callable[..., int]:
    def run(args: argparse.Namespace, service: Any) -> int:
        try:
            return command(args, service)
        except (Refused, HoursError) as exc:
            print(f"report-service {args.command}: {exc}", file=sys.stderr)
            return 2

    return run


def check_hall_region(service: Any, hall_id: str, region: str) -> None:
    """Refuses (Refused) a region that is not the hall's, as its row, terminals and tokens say."""
    _region(_hall(service), hall_id, region)


def _hall(service: Any) -> HallService:
    return HallService.build(service.engine, service.clock, service.auth)


def _region(hall: HallService, hall_id: str, given: str | None) -> str:
    """The hall's region: its own, else that of the terminals and enrollment tokens made for it
    (`terminals add-token --hall H --region R`), else --region."""
    with hall.ctx.sessions() as s:
        row = s.get(models.Hall, hall_id)
        known = set() if row is not None else _regions_of_terminals(s, hall_id)
    if row is not None:
        if given and given != row.region:
            raise Refused(f"hall {hall_id} is in region {row.region}, not {given}")
        return row.region
    if given:
        if known and given not in known:
            raise Refused(f"hall {hall_id}'s terminals are in region {'/'.join(sorted(known))}, "
                          f"not {given}")  # fmt: skip
        return given
    if len(known) == 1:
        return known.pop()
    if known:
        raise Refused(f"hall {hall_id}'s terminals are in regions {', '.join(sorted(known))}: "
                      "give its --region")  # fmt: skip
    with hall.ctx.sessions() as s:
        served = _regions_served(s)
    if len(served) == 1:  # a platform of one region: a new hall can only be in it
        region = served.pop()
        print(f"hall {hall_id} is new: region {region}, the only one this platform serves",
              file=sys.stderr)  # fmt: skip
        return region
    where = f"this platform serves {', '.join(sorted(served))}" if served else "no data yet"
    raise Refused(
        f"hall {hall_id} is new (no terminal or enrollment token names it; {where}): "
        "give its --region"
    )


def _regions_served(s: Session) -> set[str]:
    """The regions of the platform's halls, terminals, enrollment tokens and entities."""
    found: set[str] = set()
    for column in (models.Hall.region, db.Terminal.region, db.EnrollmentToken.region,
                   db.Entity.region):  # fmt: skip
        found |= set(s.scalars(select(column).distinct()))
    return found


def _regions_of_terminals(s: Session, hall_id: str) -> set[str]:
    regions_seen = set(
        s.scalars(select(db.Terminal.region).where(db.Terminal.hall_id == hall_id).distinct())
    )
    return regions_seen | set(
        s.scalars(
            select(db.EnrollmentToken.region)
            .where(db.EnrollmentToken.hall_id == hall_id)
            .distinct()
        )
    )


def _read_password() -> str | None:
    """Typed twice without echo at a terminal (None when the two differ), else one line."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("password: ")
    return password if getpass.getpass("again: ") == password else None


def cmd_staff_add(args: argparse.Namespace, service: Any, password: str) -> int:
    hall = _hall(service)
    region = _region(hall, args.hall, args.region)
    try:
        hall.staff.add(args.username, args.display_name, args.hall, region, args.role, password)
    except ApiError as exc:
        print(f"report-service staff add: {exc.message}", file=sys.stderr)
        return 2
    print(f"added {args.role} {args.username} for hall {args.hall} ({region})")
    return 0


def cmd_set_hours(args: argparse.Namespace, service: Any) -> int:
    weekly = parse_hours(args.hours)
    hall = _hall(service)
    region = _region(hall, args.hall, args.region)
    with hall.ctx.sessions.begin() as s:
        row = hall.ctx.ensure_hall(s, args.hall, region)
        row.hours = dump_hours(weekly)
        if args.name:
            row.name = args.name
        hall.ctx.bump(s, args.hall)
    print(f"{args.hall}: {describe(weekly)}（法定节假日闭厅，调休上班日按周一时间）")
    return 0


def cmd_list(args: argparse.Namespace, service: Any) -> int:
    hall = _hall(service)
    with hall.ctx.sessions() as s:
        rows = [
            {"hall_id": h.hall_id, "region": h.region, "name": h.name,
             "hours": describe(load_hours(h.hours))}
            for h in s.query(models.Hall).order_by(models.Hall.hall_id)
        ]  # fmt: skip
    print(json.dumps(rows, ensure_ascii=False, indent=2))
    return 0
