"""The platform's database: SQLAlchemy 2 tables, engine set-up for SQLite or PostgreSQL.

Schema versions (`migrate.py` brings an earlier database to SCHEMA_VERSION): 2, no secrets in
`settings` (keys.py), person names and objection contacts sealed (AES-GCM), idempotency keys
scoped to (terminal, person); 3, records.confirmed_by_effective_document; 4, active alerts indexed
by terminal; 5, reports' PDFs stored uncompressed in PostgreSQL (SQLite: no change)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from . import sqlite_writes


class Base(DeclarativeBase):
    pass


SCHEMA_VERSION = 5  # what each version brought: the module's docstring
REPORT_KEY_SCOPE = "uq_reports_request_key"


class Setting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class EnrollmentToken(Base):
    __tablename__ = "enrollment_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    hall_id: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Terminal(Base):
    __tablename__ = "terminals"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hall_id: Mapped[str] = mapped_column(String(64), index=True)
    region: Mapped[str] = mapped_column(String(32))
    public_key: Mapped[str] = mapped_column(String(64))
    hardware: Mapped[str] = mapped_column(Text)
    enrolled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Nonce(Base):
    """Request nonces seen in the skew window; the primary key makes a replay fail to insert."""

    __tablename__ = "nonces"
    terminal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[int] = mapped_column(Integer, index=True)


class Entity(Base):
    __tablename__ = "entities"
    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    region: Mapped[str] = mapped_column(String(32))


class Person(Base):
    """A natural person: the ID number only as a keyed hash, the name sealed (AES-GCM, bound to
    the row by its id_hash) and as a keyed hash a card's name is checked against."""

    __tablename__ = "persons"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name_mac: Mapped[str] = mapped_column(String(64))
    name_sealed: Mapped[bytes] = mapped_column(LargeBinary)


class Role(Base):
    __tablename__ = "roles"
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)
    uscc: Mapped[str] = mapped_column(ForeignKey("entities.uscc"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))


class Record(Base):
    __tablename__ = "records"
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18))
    domain: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    date: Mapped[dt.date] = mapped_column(Date)
    agency: Mapped[str] = mapped_column(String(200))
    document_no: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    procedure: Mapped[str | None] = mapped_column(String(16), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    repaired_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    list_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    classified: Mapped[bool] = mapped_column(Boolean, default=False)
    # whether a legally effective legal document (生效法律文书) confirms it; NULL: not said
    confirmed_by_effective_document: Mapped[bool | None] = mapped_column(Boolean, nullable=True)

    __table_args__ = (Index("ix_records_uscc_date", "uscc", "date"),)


class SessionToken(Base):
    __tablename__ = "sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # a session from a login QR used after its expiry for a request queued while it was valid:
    # good for that request's ticket only
    ticket: Mapped[str | None] = mapped_column(String(128), nullable=True)


class UsedLoginQr(Base):
    """Login-QR nonces already used: a QR logs in once, at any terminal."""

    __tablename__ = "used_login_qr"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)


class Report(Base):
    __tablename__ = "reports"
    report_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # unique per terminal and person (below): another terminal or person cannot claim a key
    idempotency_key: Mapped[str] = mapped_column(String(128), index=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    terminal_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[int] = mapped_column(Integer)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    entity_name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(32))
    domains: Mapped[str] = mapped_column(Text)  # JSON list of codes
    period_from: Mapped[dt.date] = mapped_column(Date)
    period_to: Mapped[dt.date] = mapped_column(Date)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_until: Mapped[dt.date] = mapped_column(Date)
    verification_code: Mapped[str] = mapped_column(String(16), unique=True)
    summary: Mapped[str] = mapped_column(Text)  # JSON, as returned by the API
    sha256: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        UniqueConstraint("terminal_id", "person_id", "idempotency_key", name=REPORT_KEY_SCOPE),
    )


class Objection(Base):
    __tablename__ = "objections"
    objection_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    report_id: Mapped[str] = mapped_column(String(32), index=True)
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text)
    contact_sealed: Mapped[bytes] = mapped_column(LargeBinary)  # AES-GCM, bound to objection_id
    terminal_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    due_by: Mapped[dt.date] = mapped_column(Date)


class AuthFailure(Base):
    """Refused identity checks per terminal in the current window (sessions.py rate limit)."""

    __tablename__ = "auth_failures"
    terminal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(Integer)
    failures: Mapped[int] = mapped_column(Integer)


def person_name_context(id_hash: str) -> str:
    """What a person's sealed name is bound to (AES-GCM associated data): its own row."""
    return "persons.name:" + id_hash


def objection_contact_context(objection_id: str) -> str:
    return "objections.contact:" + objection_id


def normalise_url(url: str) -> str:
    """Accept a bare path or `sqlite:///...`, and `postgresql://` meaning the psycopg 3 driver."""
    if "://" not in url:
        return f"sqlite:///{url}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL; None for other databases and in-memory ones."""
    url = normalise_url(url)
    if not url.startswith("sqlite:///") or url == "sqlite:///:memory:":
        return None
    return url.removeprefix("sqlite:///")


IDLE_PING_S = 10.0


def make_engine(url: str, wait_s: float = 30.0, idle_ping_s: float = IDLE_PING_S) -> Engine:
    """An engine whose statements wait at most `wait_s` for a lock another process holds (the
    service waits a few seconds and answers 503; the command line waits longer); on PostgreSQL
    a connection idle in the pool over `idle_ping_s` is checked before use."""
    url = normalise_url(url)
    wait_ms = int(wait_s * 1000)
    if url.startswith("sqlite"):
        args: dict[str, Any] = {"timeout": wait_s, "check_same_thread": False}
        path = sqlite_file(url)
        if path is not None:  # writers take turns without SQLite's sleeping retries
            args["factory"] = sqlite_writes.connection_class(path, wait_s)
        engine = create_engine(url, connect_args=args)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL lets readers run beside the one writer
            cur.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before the answer goes out, so a power cut cannot roll
            # back a report already printed (NORMAL may lose the last commits under WAL)
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute(f"PRAGMA busy_timeout={wait_ms}")
            # Page reads through a memory map, not read(): in WAL mode a connection re-reads
            # pages after any other connection's commit, i.e. on nearly every request.
            cur.execute("PRAGMA mmap_size=268435456")
            cur.close()

        return engine
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        pool_timeout=wait_s,
        connect_args={"options": f"-c lock_timeout={wait_ms}", "connect_timeout": 10},
    )
    _ping_when_idle(engine, idle_ping_s)
    return engine


def _ping_when_idle(engine: Engine, idle_s: float) -> None:
    """A pooled connection idle longer than `idle_s` is pinged before use, and replaced if the
    server is gone (restarted, or a firewall dropped it). SQLAlchemy's pool_pre_ping pings at
    every checkout: two more round trips a terminal call under load, for connections in use
    milliseconds before."""

    @event.listens_for(engine, "checkin")
    def _back(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
            dbapi_conn.rollback()  # the ping's own transaction: a reader may need autocommit
        except Exception as exc:  # the server went away: every older pooled connection with it
            raise InvalidatePoolError("an idle connection failed its ping") from exc


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads only. On PostgreSQL its statements run without a transaction:
    under READ COMMITTED each statement reads its own snapshot either way, and the BEGIN and
    ROLLBACK around every call's reads were about half the statements the server ran."""
    with engine.connect() as conn:
        if statements_commit_alone(engine):
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def statements_commit_alone(engine: Engine) -> bool:
    """Whether statements here may run outside a transaction, each committing by itself: on
    PostgreSQL, not on SQLite, whose writers take turns at BEGIN (sqlite_writes)."""
    return engine.dialect.name == "postgresql"


@contextmanager
def single_statements(engine: Engine) -> Iterator[Connection]:
    """PostgreSQL: a connection whose every statement commits by itself, for a write that is one
    statement (a data-modifying CTE makes one of several): no BEGIN and COMMIT round trips.
    Not for SQLite, whose writers take turns at BEGIN (sqlite_writes)."""
    if not statements_commit_alone(engine):
        raise ValueError(f"single statements are for PostgreSQL, not {engine.dialect.name}")
    with reading(engine) as conn:  # the same connection: each statement its own transaction
        yield conn


def all_tables() -> MetaData:
    """Every table of the platform, the hall's included (they share this metadata)."""
    from .hall import models as hall_models

    assert hall_models.Hall.__table__ is not None
    return Base.metadata


def init_db(engine: Engine) -> None:
    with engine.begin() as conn:
        all_tables().create_all(conn)
        set_storage(conn)


def set_storage(conn: Connection) -> None:
    """PostgreSQL: reports' PDFs are stored as they are. By default it tries to compress every
    large value; a signed PDF is compressed already, and the attempt cost ~1.3 ms of the database's
    CPU per report for no saving (measured: the same table size either way)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE reports ALTER COLUMN pdf SET STORAGE EXTERNAL")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def using(
    engine: Engine, conn: Connection | None, *, reads_only: bool = False
) -> Iterator[Connection]:
    """conn if the caller holds one for the whole request, else one checked out for this
    (`reading`'s if the caller only reads)."""
    if conn is not None:
        yield conn
    else:
        with reading(engine) if reads_only else engine.connect() as own:
            yield own
