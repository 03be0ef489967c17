"""`report-service`: serve, import, seed, terminals add-token, issue-login-qr, reports revoke."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from . import crypto, ids
from .db import make_engine, normalise_url, sqlite_file
from .hall.cli import add_commands as add_hall_commands
from .importer import MAX_ERRORS, ImportFileError, import_lines
from .profiles import REGIONS
from .service import PlatformService


class CliError(Exception):
    """A refusal for the technician: printed as one line, exit status 2."""


def _service(
    url: str, public_url: str = "http://127.0.0.1:8080", must_exist: bool = False
) -> PlatformService:
    file = sqlite_file(url)
    path = None if file is None else Path(file)
    if path is not None and not path.exists():
        if must_exist:  # a mistyped path must not become a new platform with a new key
            raise CliError(f"no database at {path} (create one with `seed` or `import`)")
        if path.parent.exists() and not path.parent.is_dir():
            raise CliError(f"cannot create the database {path}: {path.parent} is not a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"created a new database at {path} with a new platform key", file=sys.stderr)
    return PlatformService(make_engine(url), public_url=public_url)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    public_url = args.public_url or f"http://{args.host}:{args.port}"
    _service(args.db, public_url)  # creates the schema and keys once, before workers start
    os.environ["REPORT_SERVICE_DB"] = args.db
    os.environ["REPORT_SERVICE_PUBLIC_URL"] = public_url
    os.environ["REPORT_SERVICE_HELP_ALERT_S"] = str(args.help_alert_after)
    uvicorn.run(
        "report_service.asgi:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=False,
        timeout_graceful_shutdown=3,  # open dashboard streams must not hold a stop
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    data = Path(args.file).read_bytes()  # before the database: a wrong path creates nothing
    try:
        counts = import_lines(_service(args.db), _utf8_lines(data))
    except ImportFileError as exc:
        print("import refused, nothing was imported:", file=sys.stderr)
        for number, reason in exc.errors:
            print(f"  line {number}: {reason}", file=sys.stderr)
        if exc.truncated:
            print(
                f"  (stopped after {len(exc.errors)} errors; later lines not checked)",
                file=sys.stderr,
            )
        return 2
    print(json.dumps(counts))
    return 0


def _utf8_lines(data: bytes) -> list[str]:
    """The file's lines, each decoded on its own so that a bad byte is reported by line."""
    lines, errors = [], []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            errors.append((number, f"not UTF-8 ({exc.reason} at byte {exc.start + 1} of the line)"))
    if errors:
        raise ImportFileError(errors[:MAX_ERRORS], truncated=len(errors) > MAX_ERRORS)
    return lines


def cmd_seed(args: argparse.Namespace) -> int:
    from .synth import generate_region

    lines = [
        json.dumps(obj, ensure_ascii=False)
        for obj in generate_region(args.region, args.entities, args.seed, records=args.records)
    ]
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    counts = import_lines(_service(args.db), lines)
    print(json.dumps(counts))
    print(demo_people_text(lines), file=sys.stderr)
    return 0


DEMO_PEOPLE_SHOWN = 3
ROLE_WORDS = {"legal_representative": "legal representative", "agent": "agent"}


def demo_people_text(lines: Sequence[str]) -> str:
    """A few of the synthetic people, to try the platform with (`issue-login-qr --id-number`):
    one who represents several enterprises, one with a single enterprise, one agent. Only what
    trying needs is shown: the ID number, the masked name and the roles held."""
    people = [obj for obj in map(json.loads, lines) if obj["type"] == "person"]
    wanted = (
        lambda p: len(p["roles"]) > 1,
        lambda p: len(p["roles"]) == 1 and p["roles"][0]["role"] == "legal_representative",
        lambda p: any(r["role"] == "agent" for r in p["roles"]),
    )
    chosen: list[dict[str, Any]] = []
    for test in wanted:
        found = next((p for p in people if test(p) and p not in chosen), None)
        if found is not None:
            chosen.append(found)
    rows = ["synthetic people to try (e.g. issue-login-qr --id-number ...):"]
    for person in chosen[:DEMO_PEOPLE_SHOWN]:
        held = Counter(ROLE_WORDS[r["role"]] for r in person["roles"])
        roles = ", ".join(f"{word} of {n}" for word, n in sorted(held.items()))
        rows.append(f"  {person['id_number']}  {ids.mask_name(person['name'])}  {roles}")
    return "\n".join(rows)


def cmd_add_token(args: argparse.Namespace) -> int:
    print(_service(args.db).add_enrollment_token(args.hall, args.region))
    return 0


def cmd_issue_login_qr(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from .db import Person

    if not ids.is_valid_card_number(args.id_number.upper()):
        print("invalid ID number (length, birth date or check digit)", file=sys.stderr)
        return 2
    service = _service(args.db, must_exist=True)
    with service.sessions() as s:
        person = s.scalars(
            select(Person).where(Person.id_hash == service.id_hash(args.id_number))
        ).first()
    if person is None:
        print("no person with that ID number on the platform", file=sys.stderr)
        return 1
    print(
        crypto.issue_login_qr(
            service.platform_key,
            person.public_id,
            ids.mask_name(person.name),
            int(time.time()),
            args.ttl,
        )
    )
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    if not _service(args.db, must_exist=True).revoke(args.report_id):
        print(f"no report {args.report_id}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="report-service", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--db", required=True, help="sqlite:///path, a file path, or postgresql://..."
        )
        return p

    serve = with_db(sub.add_parser("serve", help="run the report API"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_int_in(1, 65535), default=8080)
    serve.add_argument("--workers", type=_int_in(1, 64), default=1)
    serve.add_argument("--public-url", help="base URL printed in verification QR codes")
    serve.add_argument("--log-level", default="warning")
    serve.add_argument(
        "--help-alert-after",
        type=_int_in(10, 3600),
        default=180,
        help="seconds an unanswered help call waits before it raises an alert",
    )
    serve.set_defaults(func=cmd_serve)

    imp = with_db(
        sub.add_parser("import", help="load a JSON Lines file of entities, persons, records")
    )
    imp.add_argument("file")
    imp.set_defaults(func=cmd_import)

    seed = with_db(sub.add_parser("seed", help="load deterministic synthetic data"))
    seed.add_argument("--region", required=True, choices=REGIONS)
    seed.add_argument("--entities", type=_int_in(1, 1_000_000), default=100)
    seed.add_argument("--seed", type=int, default=1)
    seed.add_argument(
        "--records",
        type=_int_in(0, 100_000_000),
        help="aim at about this many records in total (default: about 3.3 per entity)",
    )
    seed.add_argument("--out", help="also write the generated JSON Lines here")
    seed.set_defaults(func=cmd_seed)

    terminals = sub.add_parser("terminals", help="terminal management").add_subparsers(
        dest="terminals_command", required=True
    )
    token = with_db(terminals.add_parser("add-token", help="print a one-time enrollment token"))
    token.add_argument("--hall", required=True)
    token.add_argument("--region", required=True, choices=REGIONS)
    token.set_defaults(func=cmd_add_token)

    qr = with_db(sub.add_parser("issue-login-qr", help="print a platform-signed login-QR payload"))
    qr.add_argument("--id-number", required=True)
    qr.add_argument(
        "--ttl", type=_int_in(1, 86_400), default=300, help="seconds the QR stays valid"
    )
    qr.set_defaults(func=cmd_issue_login_qr)

    add_hall_commands(sub, with_db, lambda args: _service(args.db, must_exist=True))

    reports = sub.add_parser("reports", help="report management").add_subparsers(
        dest="reports_command", required=True
    )
    revoke = with_db(reports.add_parser("revoke", help="mark a report revoked"))
    revoke.add_argument("report_id")
    revoke.set_defaults(func=cmd_revoke)
    return parser


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        return _refuse(args, str(exc))
    except ImportFileError as exc:  # seed's own data refused by the importer
        return _refuse(args, f"generated data refused: {exc}")
    except SQLAlchemyError as exc:
        where = _safe_url(args.db)
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return _refuse(args, f"database {where}: {reason}")
    except OSError as exc:
        return _refuse(args, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))


def _safe_url(url: str) -> str:
    """The database URL without its password, for a message."""
    try:
        return make_url(normalise_url(url)).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "(unparsable URL)"


def _refuse(args: argparse.Namespace, message: str) -> int:
    print(f"report-service {args.command}: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
