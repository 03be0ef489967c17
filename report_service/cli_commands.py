"""The `report-service` commands (cli.py builds the parser): each takes the parsed arguments and
returns the exit status; a refusal is a CliError, printed as one line."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from . import crypto, db, ids, serving
from .bootstrap import key_dir_for, open_platform
from .hall.cli import Refused, check_hall_region
from .importer import MAX_ERRORS, ImportFileError, import_lines
from .keys import init_key_dir
from .service import PlatformService


class CliError(Exception):
    """A refusal for the technician: printed as one line, exit status 2."""


def _service(
    args: argparse.Namespace, public_url: str = "http://127.0.0.1:8080", must_exist: bool = False
) -> PlatformService:
    file = db.sqlite_file(args.db)
    path = None if file is None else Path(file)
    if path is not None and not path.exists():
        if must_exist:  # a mistyped path must not become a new platform with new keys
            raise CliError(f"no database at {path} (create one with `seed` or `import`)")
        if path.parent.exists() and not path.parent.is_dir():
            raise CliError(f"cannot create the database {path}: {path.parent} is not a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"created a new database at {path}", file=sys.stderr)
    return open_platform(args.db, args.keys, public_url=public_url, create=not must_exist)


def open_existing(args: argparse.Namespace) -> PlatformService:
    """The platform of an existing database (a typo must not make a new one)."""
    return _service(args, must_exist=True)


def open_or_create(args: argparse.Namespace) -> PlatformService:
    """The platform of the database, made first if there is none (a set-up step, as add-token)."""
    return _service(args)


def _id_number(text: str) -> str:
    """An ID number from the command line, or from standard input for "-" (kept out of the
    process list and shell history)."""
    value = sys.stdin.readline().strip() if text == "-" else text.strip()
    if not ids.is_valid_card_number(value.upper()):
        raise CliError("invalid ID number (length, birth date or check digit)")
    return value.upper()


def default_public_url(host: str, port: int) -> str:
    """The platform's own address for verification URLs when none is given: the host it listens
    on, or, listening on every address (0.0.0.0, ::), the one its outgoing traffic leaves from."""
    if host in ("", "0.0.0.0", "::"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                probe.connect(("192.0.2.1", 9))  # a route lookup only: nothing is sent
                host = probe.getsockname()[0]
        except OSError:  # no route at all: the machine's name
            host = socket.gethostname()
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(args: argparse.Namespace) -> int:
    if args.workers > 1:  # before the schema and keys: a second platform by mistake opens nothing
        try:
            serving.check_free(args.host, args.port)
        except serving.PortInUse as exc:
            raise CliError(str(exc)) from None
    public_url = args.public_url or default_public_url(args.host, args.port)
    if not args.public_url:
        print(f"verification QR codes carry {public_url}/v1/verify/…; give --public-url for the "
              "address people's phones reach", file=sys.stderr)  # fmt: skip
    # the schema and keys are made once here, before the workers start and open them
    _service(args, public_url).engine.dispose()
    keys = key_dir_for(args.db, args.keys).path.resolve()
    os.environ.update(
        {
            "REPORT_SERVICE_DB": args.db,
            "REPORT_SERVICE_KEYS": str(keys),
            "REPORT_SERVICE_PUBLIC_URL": public_url,
            "REPORT_SERVICE_BODY_TIMEOUT": str(args.body_timeout),
            "REPORT_SERVICE_DB_WAIT": str(args.db_wait),
            "REPORT_SERVICE_VERIFY_RATE": str(args.verify_rate),
            "REPORT_SERVICE_AUTH_FAILURES": str(args.auth_failure_limit),
            "REPORT_SERVICE_HELP_ALERT_S": str(args.help_alert_after),
        }
    )
    options = {
        "log_level": args.log_level,
        "access_log": False,  # ours (http_guard.py) leaves secrets and personal data out
        "proxy_headers": bool(args.forwarded_allow_ips),
        "forwarded_allow_ips": args.forwarded_allow_ips,
        "timeout_graceful_shutdown": 3,  # open dashboard streams must not hold a stop
    }
    return serving.serve(
        "report_service.asgi:app_from_env", args.host, args.port, args.workers, options
    )


def import_file(args: argparse.Namespace) -> int:
    data = Path(args.file).read_bytes()  # before the database: a wrong path creates nothing
    notes: list[tuple[int, str]] = []
    try:
        counts = import_lines(_service(args), _utf8_lines(data), notes)
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
    if notes:
        print(f"imported; {len(notes)} line(s) to look at:", file=sys.stderr)
        for number, reason in notes[:MAX_ERRORS]:
            print(f"  line {number}: {reason}", file=sys.stderr)
        if len(notes) > MAX_ERRORS:
            codes = sorted({reason.split(":", 1)[0] for _, reason in notes})
            print(f"  … and {len(notes) - MAX_ERRORS} more ({', '.join(codes)})", file=sys.stderr)
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


def seed(args: argparse.Namespace) -> int:
    from .synth import generate_region

    lines = [
        json.dumps(obj, ensure_ascii=False)
        for obj in generate_region(args.region, args.entities, args.seed, records=args.records)
    ]
    if args.out:
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    counts = import_lines(_service(args), lines)
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


def add_token(args: argparse.Namespace) -> int:
    service = _service(args)
    try:  # a hall is in one region (its staff's and region admins' scope): say so, not refuse
        check_hall_region(service, args.hall, args.region)
    except Refused as exc:
        print(f"report-service terminals add-token: warning: {exc}", file=sys.stderr)
    terminals = service.terminals
    for _ in range(args.count):  # one a line: a batch of terminals for a hall at once
        print(terminals.add_enrollment_token(args.hall, args.region))
    return 0


def list_terminals(args: argparse.Namespace) -> int:
    terminals = _service(args, must_exist=True).terminals.list()
    if args.json:
        for t in terminals:
            row = {
                "terminal_id": t.terminal_id,
                "hall_id": t.hall_id,
                "region": t.region,
                "enrolled_at": t.enrolled_at.isoformat(),
                "revoked": t.revoked,
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            print(json.dumps(row, ensure_ascii=False))
        return 0
    print(f"{'terminal':<18} {'hall':<20} {'region':<8} {'enrolled':<19} status")
    for t in terminals:
        status = "revoked" if t.revoked else "active"
        if t.revoked_at:
            status += " " + t.revoked_at.strftime("%Y-%m-%d %H:%M")
        enrolled = t.enrolled_at.strftime("%Y-%m-%d %H:%M")
        print(f"{t.terminal_id:<18} {t.hall_id:<20} {t.region:<8} {enrolled:<19} {status}")
    return 0


def revoke_terminal(args: argparse.Namespace) -> int:
    already = _service(args, must_exist=True).terminals.revoke(args.terminal_id)
    if already is None:
        print(f"no terminal {args.terminal_id}", file=sys.stderr)
        return 1
    when = "was revoked before" if already else "revoked: refused from its next request on"
    print(f"terminal {args.terminal_id} {when}")
    return 0


def remove_role(args: argparse.Namespace) -> int:
    id_number = _id_number(args.id_number)
    service = _service(args, must_exist=True)
    if not service.remove_role(id_number, args.uscc.strip().upper()):
        print("no such role: that person holds none for that entity", file=sys.stderr)
        return 1
    print(f"role for {args.uscc.strip().upper()} withdrawn, open sessions included")
    return 0


def issue_login_qr(args: argparse.Namespace) -> int:
    id_number = _id_number(args.id_number)
    service = _service(args, must_exist=True)
    with service.engine.connect() as conn:
        person = conn.execute(
            select(db.Person.public_id, db.Person.id_hash, db.Person.name_sealed).where(
                db.Person.id_hash == service.id_hash(id_number)
            )
        ).first()
    if person is None:
        print("no person with that ID number on the platform", file=sys.stderr)
        return 1
    name = service.keys.unseal(person.name_sealed, db.person_name_context(person.id_hash))
    payload = crypto.issue_login_qr(
        service.keys.signer, person.public_id, ids.mask_name(name), int(time.time()), args.ttl
    )
    print(payload)
    return 0


def revoke_report(args: argparse.Namespace) -> int:
    if not _service(args, must_exist=True).revoke(args.report_id):
        print(f"no report {args.report_id}", file=sys.stderr)
        return 1
    return 0


def keys_init(args: argparse.Namespace) -> int:
    path = Path(args.dir)
    ring = init_key_dir(path)
    print(f"keys made in {path} (keys id {ring.keys_id}); platform public key {ring.public_b64}")
    return 0


def migrate(args: argparse.Namespace) -> int:
    from .migrate import migrate_database

    file = db.sqlite_file(args.db)
    if file is not None and not Path(file).exists():
        raise CliError(f"no database at {file}")
    print(migrate_database(args.db, args.keys))
    return 0


def show_profile(args: argparse.Namespace) -> int:
    """Every sourced field of the region's profile; status 1 when a quote is not in the seed."""
    from .profiles import load_profile
    from .profiles_show import problems, show_json, show_text

    profile = load_profile(args.region)
    print(show_json(profile) if args.json else show_text(profile))
    return 1 if problems(profile) else 0


def check_holidays(args: argparse.Namespace) -> int:
    from .holidays_check import run

    try:
        status, text = run(args.year, args.file)
    except (ValueError, KeyError) as exc:  # a copy being edited may not parse yet
        raise CliError(f"cannot read the calendar: {exc}") from None
    print(text)
    return status
