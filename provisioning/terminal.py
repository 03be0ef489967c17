"""`enroll`, `devices set` and `staff-pin set`: the commands that change the terminal's config and
identity, each through the kiosk's own code (enrollment, PIN hashing, config rules)."""

from __future__ import annotations

import contextlib
import os
import pwd
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from devices import registry
from devices.errors import ConfigError, DeviceError
from kiosk.api import ApiSettings
from kiosk.config import DEVICE_KINDS, KioskConfig
from kiosk.enrollment import AlreadyEnrolled, TokenFileInvalid, enroll_terminal, read_token
from kiosk.errors import ApiError, KioskError, PlatformUnavailable
from kiosk.identity import load_enrollment
from kiosk.staff import hash_pin, pin_matches

from .advice import fault_line
from .configfile import DEFAULT_CONFIG, ConfigFile, write_atomic
from .errors import Exit, ProvisionError
from .platform_probe import classify_transport_error

KIOSK_USER = "kiosk"  # made by `kiosk-provision install`
DEFAULT_PIN_FILE = "staff.pin"  # beside the config

REFUSALS = {  # the platform's enrollment error codes -> what to do
    "invalid_enrollment_token": "the token is wrong or has expired (tokens live 7 days): ask for a "
    "new one (`report-service terminals add-token`)",
    "enrollment_token_used": "the token was used already (each enrolls one terminal): ask for a new one",
    "invalid_public_key": "the terminal's key was refused: run enroll again",
}


def enroll(
    config_path: Path,
    platform_url: str,
    token_file: Path,
    *,
    ca_bundle: Path | None = None,
    hall_name: str | None = None,
    state_dir: Path | None = None,
    force: bool = False,
) -> dict[str, Any]:
    try:
        token = read_token(token_file)
    except TokenFileInvalid as exc:
        raise ProvisionError(
            exc.detail, "write the token from `report-service terminals add-token` to the file"
        ) from None
    # a new config starts from the template (its hall name is a generic 政务服务中心 until
    # --hall-name, here or in a later enroll --force, names the hall for the receipts)
    if config_path.exists():
        cf = ConfigFile.load(config_path)
    else:
        cf = ConfigFile.new(config_path)
        if state_dir is None and config_path.absolute() != DEFAULT_CONFIG:
            state_dir = config_path.absolute().parent / "state"  # a config of its own: beside it
    cf.set("platform.url", platform_url)
    if ca_bundle is not None:
        cf.set("platform.ca_bundle", str(ca_bundle.absolute()))
    if hall_name is not None:
        cf.set("terminal.hall_name", hall_name_of(hall_name))
    if state_dir is not None:
        cf.set("terminal.state_dir", str(state_dir.absolute()))
    config = cf.check()  # before the platform is asked: a bad URL is the technician's to fix
    existing = load_enrollment(config.enrollment_file) if config.enrollment_file.exists() else None
    if existing is not None and not force:
        raise ProvisionError(
            f"already enrolled as terminal {existing.terminal_id} (hall {existing.hall_id})",
            "nothing to do; to enroll again (new key, new terminal id) add --force and a new token",
            Exit.NOTHING_TO_DO,
        )
    _preflight(config)
    settings = ApiSettings(config.platform_url, ca_bundle=_ca(config), retries=1)
    try:
        enrollment, _ = enroll_terminal(config, settings, token, force=force)
    except AlreadyEnrolled as exc:
        raise ProvisionError(exc.detail, "add --force", Exit.NOTHING_TO_DO) from None
    except ApiError as exc:
        step = REFUSALS.get(exc.code, "ask the platform's operators")
        raise ProvisionError(
            f"the platform refused the enrollment: {exc.code} (HTTP {exc.status})",
            step,
            Exit.PLATFORM_REFUSED,
        ) from None
    except PlatformUnavailable as exc:
        raise ProvisionError(
            f"the platform could not be reached: {exc.detail}",
            "check the network and the URL",
            Exit.UNREACHABLE,
        ) from None
    cf.save()
    hand_to_kiosk_user([config.state_dir, config.key_file, config.enrollment_file])
    return {
        "terminal_id": enrollment.terminal_id,
        "hall_id": enrollment.hall_id,
        "region": enrollment.region,
        "platform": config.platform_url,
        "key_file": str(config.key_file),
        "enrollment_file": str(config.enrollment_file),
        "config": str(config_path),
        "replaced": existing.terminal_id if existing else None,
    }


def _preflight(config: KioskConfig) -> None:
    """/healthz first: a TLS or network problem is named precisely before the token is spent."""
    try:
        httpx.get(
            config.platform_url.rstrip("/") + "/healthz", verify=_ca(config) or True, timeout=5.0
        )
    except httpx.HTTPError as exc:
        code, detail = classify_transport_error(exc)
        what, step = fault_line(code, detail)
        raise ProvisionError(what, step, Exit.UNREACHABLE) from None


def _ca(config: KioskConfig) -> str | None:
    return None if config.ca_bundle is None else str(config.ca_bundle)


def parse_option(text: str) -> tuple[str, Any]:
    """`key=value`: the value as a TOML value when it is one (5, true, 0.5, "x"), else a string."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ProvisionError(f"{text!r} is not KEY=VALUE", "e.g. port=/dev/ttyUSB0 baudrate=115200")
    try:
        parsed: Any = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return key.strip(), parsed


def set_device(cf: ConfigFile, kind: str, backend: str, options: Sequence[str]) -> dict[str, Any]:
    """Point `[devices.KIND]` at a backend; the backend itself checks the options first."""
    if kind not in DEVICE_KINDS:
        raise ProvisionError(f"unknown device kind {kind!r}", f"one of: {', '.join(DEVICE_KINDS)}")
    values = dict(parse_option(o) for o in options)
    try:
        device = registry.create(kind, backend, values)
    except ConfigError as exc:  # UnknownBackend and DriverMissing are kinds of it
        raise ProvisionError(f"devices.{kind}: {exc}", "correct the option named") from None
    except DeviceError as exc:
        note = f"saved, but the device did not answer now: {exc}"
    else:
        note = ""
        with contextlib.suppress(DeviceError):
            device.close()
    cf.replace_device(kind, {"backend": backend, **values})
    cf.save()
    return {"kind": kind, "backend": backend, "options": values, "note": note}


def hall_name_of(text: str) -> str:
    """A hall's name as receipts print it: 1 to 40 printable characters, spaces made single."""
    name = " ".join(text.split())
    if not 1 <= len(name) <= 40 or not name.isprintable():
        raise ProvisionError(
            "a hall name needs 1 to 40 printable characters", "e.g. 兰州新区政务服务中心"
        )
    return name


def set_hall_name(cf: ConfigFile, name: str) -> dict[str, Any]:
    """The hall's name as receipts print it (a new config starts with a generic one)."""
    name = hall_name_of(name)
    cf.set("terminal.hall_name", name)
    cf.check()
    cf.save()
    return {"hall_name": name}


def set_staff_pin(cf: ConfigFile, pin: str) -> Path:
    """Hash the PIN the kiosk's way and store it where the config says (beside it by default)."""
    try:
        line = hash_pin(pin)
    except ValueError as exc:
        raise ProvisionError(str(exc), "choose 6 to 12 digits") from None
    config = cf.check()
    path = config.staff_pin_file
    if path is None:
        cf.set("terminal.staff_pin_file", DEFAULT_PIN_FILE)
        config = cf.save()
        assert config.staff_pin_file is not None
        path = config.staff_pin_file
    write_atomic(path, (line + "\n").encode("ascii"), mode=0o640)
    if not pin_matches(pin, path.read_text(encoding="ascii")):  # read back as the kiosk will
        raise ProvisionError(
            f"{path}: the PIN did not read back", "check the disk", Exit.CHECK_FAILED
        )
    hand_to_kiosk_user([path], group_only=True)
    return path


def hand_to_kiosk_user(paths: Sequence[Path], *, group_only: bool = False) -> None:
    """Files written as root go to the kiosk user (which the kiosk runs as), if it exists."""
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam(KIOSK_USER)
    except KeyError:
        return  # not installed yet: install's tmpfiles rule fixes ownership at boot
    for path in paths:
        if path.exists():
            os.chown(path, 0 if group_only else user.pw_uid, user.pw_gid)


def describe_enrollment(config: KioskConfig) -> dict[str, Any]:
    try:
        enrollment = load_enrollment(config.enrollment_file)
    except KioskError as exc:
        return {"enrolled": False, "problem": exc.detail}
    if enrollment is None:
        return {"enrolled": False}
    return {
        "enrolled": True,
        "terminal_id": enrollment.terminal_id,
        "hall_id": enrollment.hall_id,
        "region": enrollment.region,
        "key_present": config.key_file.exists(),
    }
