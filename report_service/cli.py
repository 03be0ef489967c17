"""`report-service`: serve, import, seed, terminals add-token, issue-login-qr, reports revoke."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence

from . import crypto, ids
from .db import make_engine
from .importer import ImportFileError, import_lines
from .profiles import REGIONS
from .service import PlatformService


def _service(url: str, public_url: str = "http://127.0.0.1:8080") -> PlatformService:
    return PlatformService(make_engine(url), public_url=public_url)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    public_url = args.public_url or f"http://{args.host}:{args.port}"
    _service(args.db, public_url)  # creates the schema and keys once, before workers start
    os.environ["REPORT_SERVICE_DB"] = args.db
    os.environ["REPORT_SERVICE_PUBLIC_URL"] = public_url
    uvicorn.run(
        "report_service.asgi:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=False,
    )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    service = _service(args.db)
    try:
        with open(args.file, encoding="utf-8") as fh:
            counts = import_lines(service, fh)
    except UnicodeDecodeError as exc:
        print(
            f"import refused: the file is not UTF-8 ({exc.reason} at byte {exc.start})",
            file=sys.stderr,
        )
        return 2
    except ImportFileError as exc:
        print("import refused, nothing was imported:", file=sys.stderr)
        for number, reason in exc.errors:
            print(f"  line {number}: {reason}", file=sys.stderr)
        return 2
    print(json.dumps(counts))
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from .synth import generate_region

    lines = [
        json.dumps(obj, ensure_ascii=False)
        for obj in generate_region(args.region, args.entities, args.seed, records=args.records)
    ]
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
    counts = import_lines(_service(args.db), lines)
    print(json.dumps(counts))
    return 0


def cmd_add_token(args: argparse.Namespace) -> int:
    print(_service(args.db).add_enrollment_token(args.hall, args.region))
    return 0


def cmd_issue_login_qr(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from .db import Person

    if not ids.is_valid_id_number(args.id_number.upper()):
        print("invalid ID number (length, birth date or check digit)", file=sys.stderr)
        return 2
    service = _service(args.db)
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
    if not _service(args.db).revoke(args.report_id):
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
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--public-url", help="base URL printed in verification QR codes")
    serve.add_argument("--log-level", default="warning")
    serve.set_defaults(func=cmd_serve)

    imp = with_db(
        sub.add_parser("import", help="load a JSON Lines file of entities, persons, records")
    )
    imp.add_argument("file")
    imp.set_defaults(func=cmd_import)

    seed = with_db(sub.add_parser("seed", help="load deterministic synthetic data"))
    seed.add_argument("--region", required=True, choices=REGIONS)
    seed.add_argument("--entities", type=int, default=100)
    seed.add_argument("--seed", type=int, default=1)
    seed.add_argument(
        "--records",
        type=int,
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
    qr.add_argument("--ttl", type=int, default=300, help="seconds the QR stays valid")
    qr.set_defaults(func=cmd_issue_login_qr)

    reports = sub.add_parser("reports", help="report management").add_subparsers(
        dest="reports_command", required=True
    )
    revoke = with_db(reports.add_parser("revoke", help="mark a report revoked"))
    revoke.add_argument("report_id")
    revoke.set_defaults(func=cmd_revoke)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
