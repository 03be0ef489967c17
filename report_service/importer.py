"""`report-service import`: JSON Lines validated whole before anything is written (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from . import db, ids
from .entities import ENTITY_KINDS, ROLES
from .profiles import RECORD_KINDS, REGIONS, load_profile
from .service import PlatformService

MAX_ERRORS = 20
_FIELDS = {
    "entity": ({"type", "uscc", "name", "kind", "region"}, set()),
    "person": ({"type", "id_number", "name", "roles"}, set()),
    "record": (
        {"type", "record_id", "uscc", "domain", "kind", "date", "agency", "document_no", "title"},
        {"procedure", "decision", "repaired_on", "list_name", "classified"},
    ),
}


class ImportFileError(ValueError):
    """The file was refused; `errors` holds (line number, reason) pairs; `truncated` says the
    check stopped at MAX_ERRORS and later lines were not looked at."""

    def __init__(self, errors: list[tuple[int, str]], truncated: bool = False) -> None:
        self.errors = errors
        self.truncated = truncated
        super().__init__("; ".join(f"line {n}: {reason}" for n, reason in errors))


@dataclass
class Parsed:
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    persons: dict[str, dict[str, Any]] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)


class _Bad(ValueError):
    pass


def _one_of(value: Any, allowed: Iterable[str]) -> bool:
    """Membership for a value from JSON: a list or object is simply not one of the names."""
    return isinstance(value, str) and value in allowed


def _text(obj: dict[str, Any], key: str, max_len: int = 200) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"'{key}' must be a non-empty string")
    if len(value) > max_len:
        raise _Bad(f"'{key}' is longer than {max_len} characters")
    return value.strip()


def _date(obj: dict[str, Any], key: str, required: bool = True) -> dt.date | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise _Bad(f"'{key}' must be a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise _Bad(f"'{key}' is not a valid date: {value!r}") from None


def _check_fields(obj: dict[str, Any], kind: str) -> None:
    required, optional = _FIELDS[kind]
    missing = required - obj.keys()
    if missing:
        raise _Bad(f"missing field(s) {', '.join(sorted(missing))}")
    extra = obj.keys() - required - optional
    if extra:
        raise _Bad(f"unknown field(s) {', '.join(sorted(extra))}")


def parse_lines(lines: Iterable[str], known_usccs: dict[str, str], today: dt.date) -> Parsed:
    """Validate every line; `known_usccs` maps entities already in the database to their region."""
    parsed = Parsed()
    errors: list[tuple[int, str]] = []
    pending_records: list[tuple[int, dict[str, Any]]] = []
    pending_persons: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if number == 1:
            line = line.removeprefix("\ufeff")  # a byte-order mark some editors write
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except RecursionError:
            errors.append((number, "not valid JSON (nested too deeply)"))
            continue
        except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
            errors.append((number, f"not valid JSON ({getattr(exc, 'msg', exc)})"))
            continue
        try:
            if not isinstance(obj, dict) or not _one_of(obj.get("type"), _FIELDS):
                raise _Bad("'type' must be entity, person or record")
            _check_fields(obj, obj["type"])
            if obj["type"] == "entity":
                entity = _entity(obj)
                if entity["uscc"] in parsed.entities:
                    raise _Bad(f"entity {entity['uscc']} appears twice in the file")
                parsed.entities[entity["uscc"]] = entity
            elif obj["type"] == "person":
                pending_persons.append((number, obj))
            else:
                pending_records.append((number, obj))
        except _Bad as exc:
            errors.append((number, str(exc)))
        if len(errors) >= MAX_ERRORS:
            raise ImportFileError(errors, truncated=True)
    regions = dict(known_usccs)
    regions.update({u: e["region"] for u, e in parsed.entities.items()})
    for number, obj in pending_persons:
        try:
            person = _person(obj, regions)
            if person["id_number"] in parsed.persons:
                raise _Bad("this person appears twice in the file")
            parsed.persons[person["id_number"]] = person
        except _Bad as exc:
            errors.append((number, str(exc)))
    for number, obj in pending_records:
        try:
            record = _record(obj, regions, today)
            if record["record_id"] in parsed.records:
                raise _Bad(f"record_id {record['record_id']} appears twice in the file")
            parsed.records[record["record_id"]] = record
        except _Bad as exc:
            errors.append((number, str(exc)))
    if errors:
        raise ImportFileError(sorted(errors)[:MAX_ERRORS])
    return parsed


def _uscc(obj: dict[str, Any]) -> str:
    value = obj.get("uscc")
    if not isinstance(value, str):
        raise _Bad("'uscc' must be a string")
    reason = ids.uscc_error(value)
    if reason:
        raise _Bad(f"invalid uscc {value!r}: {reason}")
    return value


def _entity(obj: dict[str, Any]) -> dict[str, Any]:
    if not _one_of(obj["kind"], ENTITY_KINDS):
        raise _Bad(f"unknown entity kind {obj['kind']!r}")
    if not _one_of(obj["region"], REGIONS):
        raise _Bad(f"unknown region {obj['region']!r}; one of {', '.join(REGIONS)}")
    return {
        "uscc": _uscc(obj),
        "name": _text(obj, "name"),
        "kind": obj["kind"],
        "region": obj["region"],
    }


def _person(obj: dict[str, Any], regions: dict[str, str]) -> dict[str, Any]:
    id_number = obj.get("id_number")
    if not isinstance(id_number, str) or not ids.is_valid_card_number(id_number.upper()):
        raise _Bad("invalid id_number (length, birth date or check digit)")  # never echo the number
    roles = obj["roles"]
    if not isinstance(roles, list):
        raise _Bad("'roles' must be a list")
    clean = {}
    for role in roles:
        if not isinstance(role, dict) or set(role) != {"uscc", "role"}:
            raise _Bad("each role is {uscc, role}")
        if not _one_of(role["role"], ROLES):
            raise _Bad(f"unknown role {role['role']!r}; one of {', '.join(ROLES)}")
        uscc = _uscc(role)
        if uscc not in regions:
            raise _Bad(f"role for unknown entity {uscc}")
        if uscc in clean:
            raise _Bad(f"two roles for entity {uscc}: give one")
        clean[uscc] = role["role"]
    return {"id_number": id_number.upper(), "name": _text(obj, "name", 64), "roles": clean}


def _repaired_on(obj: dict[str, Any], date: dt.date, today: dt.date) -> dt.date | None:
    repaired_on = _date(obj, "repaired_on", required=False)
    if repaired_on is None:
        return None
    if repaired_on < date:
        raise _Bad("'repaired_on' is before the record's date")
    if repaired_on > today:  # a report would print a repair that has not happened
        raise _Bad(f"'repaired_on' {repaired_on} is in the future: the repair has not happened yet")
    return repaired_on


def _record(obj: dict[str, Any], regions: dict[str, str], today: dt.date) -> dict[str, Any]:
    uscc = _uscc(obj)
    if uscc not in regions:
        raise _Bad(f"record for unknown entity {uscc}")
    kind = obj["kind"]
    if not _one_of(kind, RECORD_KINDS):
        raise _Bad(f"unknown record kind {kind!r}")
    profile = load_profile(regions[uscc])
    domain = obj["domain"]
    resolved = profile.resolve_domain(domain) if isinstance(domain, str) else None
    if resolved is None:
        raise _Bad(f"domain {domain!r} is not a domain code or name of region {profile.region}")
    date = _date(obj, "date")
    assert date is not None
    if date > today:
        raise _Bad(f"'date' {date} is in the future")
    procedure, decision = obj.get("procedure"), obj.get("decision")
    if kind == "administrative_penalty":
        if procedure not in ("general", "simple"):
            raise _Bad("a penalty needs 'procedure': general or simple")
        if decision not in ("punish", "no_punishment"):
            raise _Bad("a penalty needs 'decision': punish or no_punishment")
    elif procedure is not None or decision is not None:
        raise _Bad("'procedure' and 'decision' apply to administrative_penalty only")
    repaired_on = _repaired_on(obj, date, today)
    list_name = obj.get("list_name")
    if kind == "serious_dishonesty":
        list_name = _text(obj, "list_name")
    elif list_name is not None and not isinstance(list_name, str):
        raise _Bad("'list_name' must be a string or null")
    classified = obj.get("classified", False)
    if not isinstance(classified, bool):
        raise _Bad("'classified' must be true or false")
    return {
        "record_id": _text(obj, "record_id", 64),
        "uscc": uscc,
        "domain": resolved.code,
        "kind": kind,
        "date": date,
        "agency": _text(obj, "agency"),
        "document_no": _text(obj, "document_no"),
        "title": _text(obj, "title", 2000),
        "procedure": procedure,
        "decision": decision,
        "repaired_on": repaired_on,
        "list_name": list_name,
        "classified": classified,
    }


def _upsert(session: Any, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    if not rows:
        return
    dialect = sqlite if session.bind.dialect.name == "sqlite" else postgresql
    for start in range(0, len(rows), 2000):
        stmt = dialect.insert(table).values(rows[start : start + 2000])
        updates = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
        session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates))


def import_lines(service: PlatformService, lines: Iterable[str]) -> dict[str, int]:
    """Validate all lines, then write them in one transaction; returns counts per type."""
    with service.sessions() as s:
        known = dict(s.execute(select(db.Entity.uscc, db.Entity.region)).all())
    parsed = parse_lines(lines, known, service.today())
    with service.sessions.begin() as s:
        _upsert(s, db.Entity.__table__, list(parsed.entities.values()), ["uscc"])
        hashes = {service.id_hash(n): p for n, p in parsed.persons.items()}
        existing = (
            dict(
                s.execute(
                    select(db.Person.id_hash, db.Person.public_id).where(
                        db.Person.id_hash.in_(hashes)
                    )
                ).all()
            )
            if hashes
            else {}
        )
        _upsert(
            s,
            db.Person.__table__,
            [
                {
                    "id_hash": h,
                    "name": p["name"],
                    "public_id": existing.get(h) or "P" + secrets.token_hex(12),
                }
                for h, p in hashes.items()
            ],
            ["id_hash"],
        )
        person_ids = (
            dict(
                s.execute(
                    select(db.Person.id_hash, db.Person.id).where(db.Person.id_hash.in_(hashes))
                ).all()
            )
            if hashes
            else {}
        )
        roles = [
            {"person_id": person_ids[h], "uscc": uscc, "role": role}
            for h, p in hashes.items()
            for uscc, role in p["roles"].items()
        ]
        _upsert(s, db.Role.__table__, roles, ["person_id", "uscc"])
        _upsert(s, db.Record.__table__, list(parsed.records.values()), ["record_id"])
    return {
        "entities": len(parsed.entities),
        "persons": len(parsed.persons),
        "records": len(parsed.records),
    }
