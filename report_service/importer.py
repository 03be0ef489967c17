"""`report-service import`: JSON Lines validated whole before anything is written (DESIGN §4).

A `person` line states the person's whole role set: roles the line does not name are withdrawn.
The file is written in short transactions (IMPORT_BATCH rows each) so that no write lock is held
long enough to stall the service: a failure part-way leaves the batches before it in place, and
importing the same file again completes it (every line is an upsert).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from . import db, ids
from .entities import ENTITY_KINDS, ROLES, kind_not_eligible
from .profiles import KIND_LABELS, RECORD_KINDS, Domain, Profile, load_profile, regions
from .service import PlatformService
from .text import describe, unsafe_char

log = logging.getLogger("report_service")

MAX_ERRORS = 20
FILED_AS_GIVEN = "记录已按所填领域导入，报告中照常列出；如归错领域，请改正 domain 后重新导入。"
IMPORT_BATCH = 200  # rows per transaction: well under a second of write lock, even on a busy host
_FIELDS = {
    "entity": ({"type", "uscc", "name", "kind", "region"}, set()),
    "person": ({"type", "id_number", "name", "roles"}, set()),
    "record": (
        {"type", "record_id", "uscc", "domain", "kind", "date", "agency", "document_no", "title"},
        {
            "procedure",
            "decision",
            "repaired_on",
            "list_name",
            "classified",
            "confirmed_by_effective_document",
        },
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
    # (line, code: reason) of lines imported as they are that a data office should look at
    notes: list[tuple[int, str]] = field(default_factory=list)


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
    _printable(key, value)
    return value.strip()


def _printable(key: str, value: str) -> None:
    found = unsafe_char(value)
    if found is not None:
        pos, ch = found
        raise _Bad(
            f"'{key}' holds {describe(ch)} at character {pos}: control and "
            "bidirectional-override characters are refused"
        )


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
                entity, note = _entity(obj)
                if note:
                    parsed.notes.append((number, note))
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
    unsaid: dict[str, list[int]] = {}  # region: lines not saying confirmed_by_effective_document
    unreported: dict[tuple[str, str], list[int]] = {}  # (region, collection-table name): lines
    for number, obj in pending_records:
        try:
            record, note = _record(obj, regions, today)
            if note:
                parsed.notes.append((number, note))
            if record["record_id"] in parsed.records:
                raise _Bad(f"record_id {record['record_id']} appears twice in the file")
            parsed.records[record["record_id"]] = record
            region = regions[record["uscc"]]
            if load_profile(region).collected_only(record["domain"]):
                unreported.setdefault((region, record["domain"]), []).append(number)
            if record["confirmed_by_effective_document"] is None:
                unsaid.setdefault(region, []).append(number)
        except _Bad as exc:
            errors.append((number, str(exc)))
    if errors:
        raise ImportFileError(sorted(errors)[:MAX_ERRORS])
    parsed.notes[:0] = [
        _unsaid_note(load_profile(region), numbers)
        for region, numbers in unsaid.items()
        if load_profile(region).rules.require_effective_document
    ]
    parsed.notes[:0] = [
        _unreported_note(load_profile(region), name, numbers)
        for (region, name), numbers in unreported.items()
    ]
    return parsed


def _unsaid_note(profile: Profile, numbers: list[int]) -> tuple[int, str]:
    """One note per region that counts only confirmed records, for its lines that do not say
    (DESIGN §4's format has no such field: every line of a file in it would say the same)."""
    return (
        numbers[0],
        f"confirmation_not_said: {profile.region_name}的报告只计入生效法律文书确认的"
        f"违法行为；{len(numbers)}条记录（第{numbers[0]}行起）未填写 "
        "confirmed_by_effective_document，按已确认计入报告。"
        "尚无生效法律文书确认的记录，请填写 false 后重新导入。",
    )


def _unreported_note(profile: Profile, name: str, numbers: list[int]) -> tuple[int, str]:
    """One note per collection-table domain no report shows (15 of Gansu's 47): a routine file
    must not push the notes that change a report out of the 20 printed."""
    return (
        numbers[0],
        f"domain_not_reported: “{name}”在{profile.region_name}的数据归集表中，但没有对应的"
        f"报告领域：{len(numbers)}条记录（第{numbers[0]}行起）已导入，不列入任何报告。"
        "如应列入报告，请把 domain 改为报告领域后重新导入。",
    )


def _uscc(obj: dict[str, Any]) -> str:
    value = obj.get("uscc")
    if not isinstance(value, str):
        raise _Bad("'uscc' must be a string")
    reason = ids.uscc_error(value)
    if reason:
        raise _Bad(f"invalid uscc {value!r}: {reason}")
    return value


def _entity(obj: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The entity, and a note when its region issues no report to its kind: DESIGN §4 names the
    kind, so the data is kept (a data office's file is not refused for it); the report is not."""
    if not _one_of(obj["kind"], ENTITY_KINDS):
        raise _Bad(f"unknown entity kind {obj['kind']!r}")
    if not _one_of(obj["region"], regions()):
        raise _Bad(f"unknown region {obj['region']!r}; one of {', '.join(regions())}")
    profile = load_profile(obj["region"])
    entity = {
        "uscc": _uscc(obj),
        "name": _text(obj, "name"),
        "kind": obj["kind"],
        "region": obj["region"],
    }
    if obj["kind"] in profile.entity_kinds:
        return entity, None
    return entity, (
        f"entity_kind_not_eligible: {kind_not_eligible(profile, obj['kind'])}"
        "（已导入；该主体申请报告时将被拒绝）"
    )


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


def _record(
    obj: dict[str, Any], regions: dict[str, str], today: dt.date
) -> tuple[dict[str, Any], str | None]:
    """The record's row, and a note when it is filed outside what the region's table collects
    under that domain: imported and reported where the agency filed it, but worth a look."""
    uscc = _uscc(obj)
    if uscc not in regions:
        raise _Bad(f"record for unknown entity {uscc}")
    kind = obj["kind"]
    if not _one_of(kind, RECORD_KINDS):
        raise _Bad(f"unknown record kind {kind!r}")
    profile = load_profile(regions[uscc])
    domain = obj["domain"]
    resolved = profile.resolve_domain(domain) if isinstance(domain, str) else None
    if resolved is None and not profile.collected_only(domain):
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
    elif list_name is not None:
        _printable("list_name", list_name)
    classified = obj.get("classified", False)
    if not isinstance(classified, bool):
        raise _Bad("'classified' must be true or false")
    note = _scope_note(profile, resolved, kind, list_name) if resolved is not None else None
    confirmed = _effective_document(obj)
    row = {
        "record_id": _text(obj, "record_id", 64),
        "uscc": uscc,
        "domain": resolved.code if resolved is not None else domain,
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
        "confirmed_by_effective_document": confirmed,
    }
    return row, note


def _name(part: Domain) -> str:
    return f"“{part.name}”（{part.code}）"


def _scope_note(profile: Profile, part: Domain, kind: str, list_name: Any) -> str | None:
    """Whether the record's kind (and list) is what the region's table collects under that
    domain; if not, the note that says where it would belong."""
    if part.collects(kind, list_name):
        return None
    label = KIND_LABELS[kind]
    if kind not in part.data_scope:
        homes = [d for d in profile.parts if kind in d.data_scope]
        where = (
            f"{label}归入：{'、'.join(_name(d) for d in homes)}。"
            if homes
            else f"{profile.region_name}的方案没有归集{label}的领域。"
        )
        scope = "、".join(KIND_LABELS[k] for k in part.data_scope)
        section = next((s for s in profile.sections if kind in s.data_scope), None)
        shown = (  # rules.assemble: a section also takes its kinds wherever they are filed
            f"记录已导入，报告中列在{_name(part)}，并列入{_name(section)}。"
            if section and part is not section
            else FILED_AS_GIVEN
        )
        return (
            f"record_out_of_scope: {profile.region_name}的{_name(part)}归集{scope}，不归集{label}。"
            f"{where}{shown}"
        )
    homes = [d for d in profile.parts if list_name in d.lists]
    where = (
        f"该名单属于：{'、'.join(_name(d) for d in homes)}。"
        if homes
        else f"{profile.region_name}的方案没有列出该名单。"
    )
    named = "、".join(part.lists) or "无"
    return (
        f"list_not_in_domain: 名单“{list_name}”不是{_name(part)}归集的{label}"
        f"（该领域：{named}）。{where}{FILED_AS_GIVEN}"
    )


def _effective_document(obj: dict[str, Any]) -> bool | None:
    """`confirmed_by_effective_document`: true, false or absent (not said). A region whose report
    counts only confirmed records (require_effective_document) leaves out those saying false."""
    value = obj.get("confirmed_by_effective_document")
    if value is not None and not isinstance(value, bool):
        raise _Bad("'confirmed_by_effective_document' must be true, false or null")
    return value


def _upsert(conn: Connection, table: Any, rows: list[dict[str, Any]], keys: list[str]) -> None:
    if not rows:
        return
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    stmt = dialect.insert(table).values(rows)
    updates = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates))


def _batches(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), IMPORT_BATCH):
        yield items[start : start + IMPORT_BATCH]


def import_lines(
    service: PlatformService,
    lines: Iterable[str],
    notes: list[tuple[int, str]] | None = None,
) -> dict[str, int]:
    """Validate all lines, then write them in short transactions; returns counts per type, and
    adds to `notes` the (line, reason) of lines imported that a data office should look at."""
    with service.engine.connect() as conn:
        known = dict(conn.execute(select(db.Entity.uscc, db.Entity.region)).all())
    parsed = parse_lines(lines, known, service.today())
    if notes is not None:
        notes.extend(parsed.notes)
    for rows in _batches(list(parsed.entities.values())):
        with service.engine.begin() as conn:
            _upsert(conn, db.Entity.__table__, rows, ["uscc"])
    withdrawn = 0
    for people in _batches(list(parsed.persons.values())):
        with service.engine.begin() as conn:
            withdrawn += _write_persons(conn, service, people)
    for rows in _batches(list(parsed.records.values())):
        with service.engine.begin() as conn:
            _upsert(conn, db.Record.__table__, rows, ["record_id"])
    if withdrawn:
        log.info("import: %d role(s) withdrawn (not in their person's line)", withdrawn)
    return {
        "entities": len(parsed.entities),
        "persons": len(parsed.persons),
        "records": len(parsed.records),
    }


def _write_persons(conn: Connection, service: PlatformService, people: list[dict[str, Any]]) -> int:
    """Persons (name sealed, name hash) and their whole role sets; returns roles withdrawn."""
    keys = service.keys
    by_hash = {keys.id_hash(p["id_number"]): p for p in people}
    p = db.Person.__table__.c
    existing = dict(
        conn.execute(select(p.id_hash, p.public_id).where(p.id_hash.in_(by_hash))).all()
    )
    rows = [
        {
            "id_hash": h,
            "public_id": existing.get(h) or "P" + secrets.token_hex(12),
            "name_mac": keys.name_mac(person["name"]),
            "name_sealed": keys.seal(person["name"], db.person_name_context(h)),
        }
        for h, person in by_hash.items()
    ]
    _upsert(conn, db.Person.__table__, rows, ["id_hash"])
    ids_by_hash = dict(conn.execute(select(p.id_hash, p.id).where(p.id_hash.in_(by_hash))).all())
    withdrawn = 0
    r = db.Role.__table__.c
    for h, person in by_hash.items():
        pid = ids_by_hash[h]
        keep = list(person["roles"])
        gone = conn.execute(
            delete(db.Role).where(and_(r.person_id == pid, r.uscc.not_in(keep)))
            if keep
            else delete(db.Role).where(r.person_id == pid)
        )
        withdrawn += gone.rowcount or 0
    roles = [
        {"person_id": ids_by_hash[h], "uscc": uscc, "role": role}
        for h, person in by_hash.items()
        for uscc, role in person["roles"].items()
    ]
    _upsert(conn, db.Role.__table__, roles, ["person_id", "uscc"])
    return withdrawn
