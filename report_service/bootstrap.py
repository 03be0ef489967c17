"""Opening the platform: the database (created on first use) and its key directory.

Without `--keys` (or $REPORT_SERVICE_KEYS) a SQLite database keeps its keys beside it, in
`<database file>.keys/`, made (mode 0700) with the database; a PostgreSQL database has no file to
stand beside, so its keys go to the service's state directory ($STATE_DIRECTORY under systemd,
else $XDG_STATE_HOME or ~/.local/state), in
`report-service/keys-<host>-<port>-<database>-<digest of those three>/`.
The database records which keys it belongs to, so a wrong or missing directory is refused rather
than silently replaced by new keys.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect, make_url, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError

from . import db
from .clock import Clock, system_clock
from .keys import KEYS_ENV, KeyDirError, Keyring, init_key_dir, load_key_dir
from .service import PlatformService
from .sessions import FAILURE_LIMIT

log = logging.getLogger("report_service")

LEGACY_SECRETS = ("platform_private_key", "id_pepper")


class SetupError(Exception):
    """The platform cannot be opened as asked; the message says why and what to do."""


@dataclass(frozen=True)
class KeyDir:
    path: Path
    # not named (beside the SQLite file, or in the state directory): made on first use
    default: bool


def key_dir_for(url: str, keys: str | None) -> KeyDir:
    """The key directory: `--keys`, else $REPORT_SERVICE_KEYS, else beside a SQLite file, else
    in the state directory under a name made from the server's address and the database."""
    named = keys or os.environ.get(KEYS_ENV)
    if named:
        return KeyDir(Path(named), default=False)
    file = db.sqlite_file(url)
    if file is not None:
        return KeyDir(Path(file + ".keys"), default=True)
    if db.normalise_url(url).startswith("sqlite"):  # in memory: nothing lasting to keep keys for
        raise SetupError(
            f"this database needs a key directory: pass --keys DIR or set {KEYS_ENV} "
            "(make one with `report-service keys init --dir DIR`)"
        )
    return KeyDir(state_home() / "report-service" / f"keys-{_server_label(url)}", default=True)


def prepare(where: KeyDir) -> None:
    """A default key directory's parent is made (0700) for it; a named one must exist already."""
    if where.default:
        where.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def state_home() -> Path:
    """Where a service keeps its state: systemd's StateDirectory, else the XDG state home."""
    systemd = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    xdg = os.environ.get("XDG_STATE_HOME", "")
    return Path(systemd or xdg or Path.home() / ".local" / "state")


def _server_label(url: str) -> str:
    """host-port-database of a database URL, safe as a file name, and a digest of those three
    (two databases whose names read alike get two directories). The driver, user, password and
    options are left out: every command names the same database its own way."""
    try:
        parts = make_url(url)
    except ArgumentError:
        raise SetupError(f"not a database URL: {url!r}") from None
    where = (str(parts.host or "local"), str(parts.port or "default"), str(parts.database or ""))
    digest = hashlib.sha256("\x00".join(where).encode()).hexdigest()
    return f"{re.sub(r'[^A-Za-z0-9._-]', '_', '-'.join(where))}-{digest[:8]}"


def schema_state(engine: Engine) -> str:
    """`empty` (a new database), `legacy` (version 1: secrets in `settings`), `outdated` (an
    earlier version without secrets: tables to upgrade), `current`."""
    tables = set(inspect(engine).get_table_names())
    if not tables & {"settings", "persons", "reports", "terminals"}:
        return "empty"
    if "settings" not in tables:
        return "legacy"
    with engine.connect() as conn:
        rows = dict(conn.execute(select(db.Setting.key, db.Setting.value)).all())
    if any(k in rows for k in LEGACY_SECRETS) or "schema_version" not in rows:
        return "legacy"
    if int(rows["schema_version"]) > db.SCHEMA_VERSION:
        raise SetupError(
            f"the database has schema version {rows['schema_version']}, newer than this "
            f"report-service ({db.SCHEMA_VERSION}); upgrade report-service"
        )
    if int(rows["schema_version"]) < db.SCHEMA_VERSION:
        return "outdated"
    return "current"


def open_keys(engine: Engine, url: str, keys: str | None, *, create: bool) -> Keyring:
    """The keys of the database behind `engine`, creating the database's schema (and, beside a
    SQLite file, its key directory) when `create` and the database is new."""
    where = key_dir_for(url, keys)
    state = schema_state(engine)
    if state == "legacy":
        raise SetupError(
            "this database was made by an earlier report-service and still holds its keys; "
            "move them out with `report-service migrate --db URL [--keys DIR]` first"
        )
    if state == "outdated":
        raise SetupError(
            f"this database has an earlier schema than this report-service ({db.SCHEMA_VERSION}); "
            "upgrade its tables with `report-service migrate --db URL [--keys DIR]` first"
        )
    if state == "empty" and not create:
        raise SetupError("the database is empty (create it with `seed` or `import`)")
    try:
        if state == "empty" and where.default and not where.path.exists():
            ring = _new_default_keys(where)
        else:
            ring = load_key_dir(where.path)
    except KeyDirError as exc:
        if state == "current" and where.default and not where.path.exists():
            raise SetupError(
                f"the key directory {where.path} of this database is missing; pass the "
                "directory its keys are in with --keys"
            ) from None
        raise SetupError(str(exc)) from None
    if state == "empty":
        db.init_db(engine)
        _record_keys(engine, ring)
    recorded = _setting(engine, "keys_id")
    if recorded != ring.keys_id:
        raise SetupError(
            f"the keys in {where.path} do not belong to this database "
            f"(it was set up with keys {recorded}, these are {ring.keys_id})"
        )
    return ring


def _new_default_keys(where: KeyDir) -> Keyring:
    prepare(where)
    path = where.path
    try:
        ring = init_key_dir(path)
    except KeyDirError:
        if not path.is_dir():
            raise
        return load_key_dir(path)  # another process made it a moment ago
    log.warning("created a new key directory %s (mode 0700)", path)
    return ring


def _record_keys(engine: Engine, ring: Keyring) -> None:
    """Settings of a new database; a process racing us to it leaves its own rows standing."""
    dialect = sqlite if engine.dialect.name == "sqlite" else postgresql
    rows = [
        {"key": "schema_version", "value": str(db.SCHEMA_VERSION)},
        {"key": "keys_id", "value": ring.keys_id},
    ]
    with engine.begin() as conn:
        conn.execute(dialect.insert(db.Setting).values(rows).on_conflict_do_nothing())


def _setting(engine: Engine, key: str) -> str | None:
    with engine.connect() as conn:
        value = conn.execute(select(db.Setting.value).where(db.Setting.key == key)).scalar()
    return None if value is None else str(value)


def open_platform(
    url: str,
    keys: str | None = None,
    *,
    public_url: str = "http://127.0.0.1:8080",
    clock: Clock = system_clock,
    create: bool = True,
    wait_s: float = 30.0,
    failure_limit: int = FAILURE_LIMIT,
) -> PlatformService:
    """The platform service over the database at `url` and its keys (see module docstring)."""
    engine = db.make_engine(url, wait_s=wait_s)
    try:
        ring = open_keys(engine, url, keys, create=create)
    except BaseException:
        engine.dispose()
        raise
    return PlatformService(engine, ring, public_url, clock, failure_limit)
