"""Hall operations' tables (DESIGN §8), on the platform's one metadata so `init_db` creates them.

Nothing here holds a name, an ID number or a credit code: terminals report device states, counts and
codes; staff accounts hold a username, a display name and a password hash.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


class Hall(Base):
    """A service hall: its region and its opening hours (JSON, see hours.py)."""

    __tablename__ = "halls"
    hall_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    region: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100), default="")
    hours: Mapped[str] = mapped_column(Text, default="")  # "" = no hours set: never `closed`


class TerminalState(Base):
    """The latest heartbeat of each terminal, and what the platform concluded from it."""

    __tablename__ = "terminal_state"
    terminal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hall_id: Mapped[str] = mapped_column(String(64), index=True)
    last_seen: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    interval_s: Mapped[int] = mapped_column(Integer)
    availability: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    devices: Mapped[str] = mapped_column(Text)  # JSON, as validated
    queue: Mapped[str] = mapped_column(Text)  # JSON
    counters: Mapped[str] = mapped_column(Text)  # JSON
    app_version: Mapped[str] = mapped_column(String(40))
    uptime_s: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # online | offline, as last written by a heartbeat or the offline sweep (closed is derived)
    link: Mapped[str] = mapped_column(String(16), default="online")
    # last_seen + 3 x interval_s: the sweep finds quiet terminals by this (indexed) time alone
    offline_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    maintenance_until: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )


class StatusChange(Base):
    """Each change of a terminal's link or availability: availability statistics come from these."""

    __tablename__ = "terminal_status_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    terminal_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    link: Mapped[str] = mapped_column(String(16))
    availability: Mapped[str] = mapped_column(String(32))

    __table_args__ = (Index("ix_status_log_terminal_at", "terminal_id", "at"),)


class TerminalEvent(Base):
    """Audit and telemetry events from the terminals' outboxes, idempotent by (terminal, event)."""

    __tablename__ = "terminal_events"
    terminal_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    fields: Mapped[str] = mapped_column(Text)  # JSON object of short values
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_terminal_events_at", "terminal_id", "at"),)


class HelpCall(Base):
    """A person asking for help at a terminal: open -> acknowledged (by whom) -> resolved."""

    __tablename__ = "help_calls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    terminal_id: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[str] = mapped_column(String(64))
    hall_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (UniqueConstraint("terminal_id", "call_id"),)


class Command(Base):
    """A staff command for one terminal: pending -> sent -> executed | failed | expired | cancelled."""

    __tablename__ = "terminal_commands"
    command_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(64), index=True)
    hall_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    args: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Alert(Base):
    """A condition the platform raised for a terminal; cleared by the platform, acknowledged by
    staff, shown muted while the terminal is in a maintenance window."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    terminal_id: Mapped[str] = mapped_column(String(64))
    hall_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64), default="")  # a device kind, a call id
    detail: Mapped[str] = mapped_column(String(200), default="")
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # "terminal:kind:subject" while uncleared, NULL after: one active row per condition
    active_key: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)

    # every heartbeat asks for its terminal's active alerts; the index holds only those (v4)
    __table_args__ = (
        Index(
            "ix_alerts_terminal_active",
            "terminal_id",
            sqlite_where=text("active_key IS NOT NULL"),
            postgresql_where=text("active_key IS NOT NULL"),
        ),
    )


class Staff(Base):
    """A hall staff account; the password is kept as a memory-hard (scrypt) hash."""

    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    hall_id: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class StaffSession(Base):
    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(Integer, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class StaffAction(Base):
    """运维留痕: every staff action, who, what, on what, when."""

    __tablename__ = "staff_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    username: Mapped[str] = mapped_column(String(64))
    hall_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="")


class DiagnosticBundle(Base):
    """A terminal's redacted diagnostics, uploaded for a `collect_diagnostics` command."""

    __tablename__ = "diagnostic_bundles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    terminal_id: Mapped[str] = mapped_column(String(64), index=True)
    command_id: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class HallVersion(Base):
    """A counter per hall, bumped on every change a dashboard shows: SSE streams poll it (SQLite)
    or are woken by NOTIFY (PostgreSQL)."""

    __tablename__ = "hall_versions"
    hall_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
