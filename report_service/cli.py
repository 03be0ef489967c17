"""`report-service`: serve, import, seed, terminals add-token | list | revoke, persons
remove-role, issue-login-qr, reports revoke, keys init, profiles show, holidays check, migrate.

Every command that opens a database takes `--keys DIR` (or $REPORT_SERVICE_KEYS); without it a
SQLite database keeps its keys in `<database file>.keys/` beside it (bootstrap.py).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from . import cli_commands as commands
from .bootstrap import SetupError
from .db import normalise_url
from .hall.cli import add_commands as add_hall_commands
from .importer import ImportFileError
from .keys import KEYS_ENV, KeyDirError
from .profiles import regions
from .ratelimit import VERIFY_PER_MINUTE
from .sessions import FAILURE_LIMIT


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="report-service", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--db", required=True, help="sqlite:///path, a file path, or postgresql://..."
        )
        p.add_argument(
            "--keys",
            metavar="DIR",
            help=f"the key directory (default ${KEYS_ENV}, else <database file>.keys beside a "
            "SQLite file, else the state directory for PostgreSQL; see README)",
        )
        return p

    serve = with_db(sub.add_parser("serve", help="run the report API"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_int_in(1, 65535), default=8080)
    serve.add_argument("--workers", type=_int_in(1, 64), default=1)
    serve.add_argument(
        "--public-url", type=_base_url,
        help="base URL printed in verification QR codes, e.g. https://credit.example.gov.cn",
    )  # fmt: skip
    serve.add_argument("--log-level", default="warning")
    serve.add_argument(
        "--body-timeout", type=_float_in(0.5, 600), default=15.0,
        help="seconds a request body may take to arrive (then 408)",
    )  # fmt: skip
    serve.add_argument(
        "--db-wait", type=_float_in(0.1, 120), default=5.0,
        help="seconds a call waits for the database before answering 503 with Retry-After",
    )  # fmt: skip
    serve.add_argument(
        "--verify-rate", type=_float_in(1, 100_000), default=float(VERIFY_PER_MINUTE),
        help="verification look-ups per client address and minute (then 429)",
    )  # fmt: skip
    serve.add_argument(
        "--auth-failure-limit", type=_int_in(1, 100_000), default=FAILURE_LIMIT,
        help="refused identity checks per terminal in 10 minutes before 429",
    )  # fmt: skip
    serve.add_argument(
        "--forwarded-allow-ips",
        help="addresses of the TLS-terminating proxy whose X-Forwarded-For is trusted "
        "(client addresses for the verification rate limit); none by default",
    )
    serve.add_argument(
        "--help-alert-after", type=_int_in(10, 3600), default=180,
        help="seconds an unanswered help call waits before it raises an alert",
    )  # fmt: skip
    serve.set_defaults(func=commands.serve)

    imp = with_db(
        sub.add_parser("import", help="load a JSON Lines file of entities, persons, records")
    )
    imp.add_argument("file")
    imp.set_defaults(func=commands.import_file)

    seed = with_db(sub.add_parser("seed", help="load deterministic synthetic data"))
    seed.add_argument("--region", required=True, choices=regions())
    seed.add_argument("--entities", type=_int_in(1, 1_000_000), default=100)
    seed.add_argument("--seed", type=int, default=1)
    seed.add_argument(
        "--records",
        type=_int_in(0, 100_000_000),
        help="aim at about this many records in total (default: about 3.3 per entity)",
    )
    seed.add_argument("--out", help="also write the generated JSON Lines here")
    seed.set_defaults(func=commands.seed)

    terminals = sub.add_parser("terminals", help="terminal management").add_subparsers(
        dest="terminals_command", required=True
    )
    token = with_db(terminals.add_parser("add-token", help="print a one-time enrollment token"))
    token.add_argument("--hall", required=True)
    token.add_argument("--region", required=True, choices=regions())
    token.add_argument("--count", type=_int_in(1, 10_000), default=1, help="tokens to print")
    token.set_defaults(func=commands.add_token)
    listing = with_db(terminals.add_parser("list", help="list enrolled terminals"))
    listing.add_argument("--json", action="store_true", help="JSON Lines instead of a table")
    listing.set_defaults(func=commands.list_terminals)
    revoke_terminal = with_db(
        terminals.add_parser("revoke", help="refuse a terminal from its next request on")
    )
    revoke_terminal.add_argument("terminal_id")
    revoke_terminal.set_defaults(func=commands.revoke_terminal)

    persons = sub.add_parser("persons", help="persons and their roles").add_subparsers(
        dest="persons_command", required=True
    )
    remove = with_db(
        persons.add_parser("remove-role", help="withdraw a person's role for an entity")
    )
    remove.add_argument(
        "--id-number", required=True, help="the person's ID number, or - to read it from stdin"
    )
    remove.add_argument("--uscc", required=True)
    remove.set_defaults(func=commands.remove_role)

    qr = with_db(sub.add_parser("issue-login-qr", help="print a platform-signed login-QR payload"))
    qr.add_argument("--id-number", required=True, help="or - to read it from standard input")
    qr.add_argument(
        "--ttl", type=_int_in(1, 86_400), default=300, help="seconds the QR stays valid"
    )
    qr.set_defaults(func=commands.issue_login_qr)

    add_hall_commands(sub, with_db, commands.open_existing, commands.open_or_create)

    reports = sub.add_parser("reports", help="report management").add_subparsers(
        dest="reports_command", required=True
    )
    revoke = with_db(reports.add_parser("revoke", help="mark a report revoked"))
    revoke.add_argument("report_id")
    revoke.set_defaults(func=commands.revoke_report)

    keys = sub.add_parser("keys", help="the platform's key directory").add_subparsers(
        dest="keys_command", required=True
    )
    init = keys.add_parser("init", help="make a new key directory (mode 0700, files 0600)")
    init.add_argument("--dir", required=True)
    init.set_defaults(func=commands.keys_init)

    profiles = sub.add_parser("profiles", help="the region profiles").add_subparsers(
        dest="profiles_command", required=True
    )
    show = profiles.add_parser(
        "show",
        help="every rule of a region with its source: the seed's words or a deployment default",
    )
    show.add_argument("region", choices=regions())
    show.add_argument("--json", action="store_true", help="JSON instead of text")
    show.set_defaults(func=commands.show_profile)

    holidays = sub.add_parser("holidays", help="the holiday calendar").add_subparsers(
        dest="holidays_command", required=True
    )
    check = holidays.add_parser(
        "check", help="a year's working-day pattern around each holiday, and its problems"
    )
    check.add_argument("year", type=_int_in(2000, 2100))
    check.add_argument(
        "--file", help="a holidays_cn.json to check instead of the installed one (an edited copy)"
    )
    check.set_defaults(func=commands.check_holidays)

    migrate = with_db(
        sub.add_parser(
            "migrate",
            help="move an older database's keys out to a key directory, delete them from the "
            "database and upgrade its tables",
        )
    )
    migrate.set_defaults(func=commands.migrate)
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


def _float_in(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low:g} and {high:g}, got {text}")
        return value

    return parse


def _base_url(text: str) -> str:
    """An absolute http(s) URL without query or fragment: it is printed on every report's QR,
    and one a phone cannot open makes every report unverifiable."""
    text = text.strip()
    try:
        url = urlsplit(text)
        url.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a URL: {text!r}") from None
    # urlsplit drops tabs and newlines and reads a bare ? or # as empty: look at the text itself
    if any(c in "?#\\" or c.isspace() or not c.isprintable() for c in text):
        raise argparse.ArgumentTypeError(
            f"no query, fragment, space or backslash in the base URL: {text!r}"
        )
    if url.scheme not in ("http", "https") or not url.hostname or url.port == 0:
        raise argparse.ArgumentTypeError(
            f"give the scheme and host, e.g. https://credit.example.gov.cn, got {text!r}"
        )
    if "@" in url.netloc:
        raise argparse.ArgumentTypeError(f"no user in the base URL: {text!r}")
    return text.rstrip("/")


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (commands.CliError, SetupError, KeyDirError) as exc:
        return _refuse(args, str(exc))
    except ImportFileError as exc:  # seed's own data refused by the importer
        return _refuse(args, f"generated data refused: {exc}")
    except SQLAlchemyError as exc:
        where = _safe_url(getattr(args, "db", ""))
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
