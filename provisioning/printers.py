"""`printer add-a4`: a CUPS queue through `lpadmin`, driverless (IPP Everywhere) where the printer
offers it, a PPD otherwise; A4 by default; then the config's `[devices.a4_printer]` points at it."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .configfile import ConfigFile
from .errors import Exit, ProvisionError

QUEUE_NAME = re.compile(r"^[\x21-\x7e]{1,127}$")  # CUPS: printable, no space; / # \ refused below
URI_SCHEMES = ("ipp", "ipps", "http", "https", "dnssd", "usb", "socket", "lpd", "file")
DRIVERLESS = ("ipp", "ipps", "http", "https", "dnssd")  # IPP Everywhere needs an IPP connection
GENERIC_MODEL = "drv:///sample.drv/generic.ppd"  # "Generic PostScript Printer", shipped with CUPS
GENERIC_DRIVER = "generic PostScript"
EVERYWHERE_WAIT_S = 30.0  # cupsd builds the driverless PPD in the background


@dataclass(frozen=True)
class AddedQueue:
    queue: str
    uri: str
    driver: str  # "IPP Everywhere" or the PPD / model used
    make_and_model: str

    def as_dict(self) -> dict[str, str]:
        return {
            "queue": self.queue,
            "uri": self.uri,
            "driver": self.driver,
            "make_and_model": self.make_and_model,
        }


def cups_env(options: Mapping[str, Any]) -> dict[str, str]:
    """The environment that points lpadmin & co. at the kiosk's cupsd (`server`, `port`)."""
    env = dict(os.environ)
    server = options.get("server")
    if isinstance(server, str) and server:
        port = options.get("port")
        env["CUPS_SERVER"] = f"{server}:{port}" if port and not server.startswith("/") else server
    return env


def check_queue_name(name: str) -> str:
    if not QUEUE_NAME.match(name) or any(c in name for c in "/#\\"):
        raise ProvisionError(
            f"queue name {name!r} is not allowed",
            "1-127 printable ASCII characters without space, / # or \\, e.g. KioskA4",
        )
    return name


def check_uri(uri: str) -> str:
    scheme = urlsplit(uri).scheme
    if scheme not in URI_SCHEMES or len(uri) > 1024 or any(c.isspace() for c in uri):
        raise ProvisionError(
            f"{uri!r} is not a printer URI",
            f"a URI of one of: {', '.join(URI_SCHEMES)}; `kiosk-provision devices scan` lists them",
        )
    return uri


def run_cups(args: list[str], env: Mapping[str, str], timeout: float = 60.0) -> str:
    try:
        done = subprocess.run(
            args, env=dict(env), capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise ProvisionError(
            f"{args[0]} is not installed", "apt-get install cups", Exit.USAGE
        ) from None
    except subprocess.TimeoutExpired:
        raise ProvisionError(
            f"{args[0]} did not finish in {timeout:.0f} s",
            "`systemctl restart cups`",
            Exit.CHECK_FAILED,
        ) from None
    if done.returncode != 0:
        raise ProvisionError(
            f"{' '.join(args[:3])}: {done.stderr.strip() or done.stdout.strip()}",
            "check the URI and that cupsd runs (`systemctl status cups`)",
            Exit.CHECK_FAILED,
        )
    return done.stdout


def make_and_model(queue: str, env: Mapping[str, str]) -> str:
    """The queue's printer-make-and-model, as cupsd reports it ("" when it cannot say)."""
    import cups  # pycups, the A4 backend's own library; imported only for this command

    server = env.get("CUPS_SERVER")
    if server:
        cups.setServer(server)  # per thread in libcups; this command runs on one thread
    try:
        attrs = cups.Connection().getPrinterAttributes(
            queue, requested_attributes=["printer-make-and-model"]
        )
    except (cups.IPPError, RuntimeError):
        return ""
    return str(attrs.get("printer-make-and-model") or "")


def add_a4_queue(
    cf: ConfigFile,
    uri: str,
    queue: str = "KioskA4",
    *,
    ppd: Path | None = None,
    model: str | None = None,
) -> AddedQueue:
    check_uri(uri)
    check_queue_name(queue)
    options = dict(cf.table("devices.a4_printer"))
    env = cups_env(options)
    scheme = urlsplit(uri).scheme
    if ppd is not None:
        if not ppd.is_file():
            raise ProvisionError(f"{ppd}: no such PPD file", "give the path of the printer's PPD")
        driver_args, driver = ["-P", str(ppd)], f"PPD {ppd.name}"
    elif model:
        driver_args, driver = ["-m", model], f"model {model}"
    elif scheme in DRIVERLESS:
        driver_args, driver = ["-m", "everywhere"], "IPP Everywhere"
    else:  # no IPP to ask the printer with: CUPS's own PostScript PPD, which office lasers take
        driver_args, driver = (
            ["-m", GENERIC_MODEL],
            GENERIC_DRIVER,
        )
    run_cups(["lpadmin", "-p", queue, "-E", "-v", uri, *driver_args, "-o", "PageSize=A4"], env)
    found = (
        _wait_for_model(queue, env) if driver == "IPP Everywhere" else make_and_model(queue, env)
    )
    if driver == "IPP Everywhere" and "everywhere" not in found.lower():
        run_cups(["lpadmin", "-x", queue], env)  # a raw queue would print PDF as garbage
        raise ProvisionError(
            f"{uri} did not answer as an IPP Everywhere printer (cupsd made {found or 'nothing'});"
            " the queue was removed",
            "check the printer is on and the URI right, or give --ppd FILE / --model NAME",
            Exit.CHECK_FAILED,
        )
    run_cups(["cupsenable", queue], env)
    run_cups(["cupsaccept", queue], env)
    kept = {k: v for k, v in options.items() if k not in ("backend", "queue")}
    cf.replace_device("a4_printer", {"backend": "cups", "queue": queue, **kept})
    cf.save()
    return AddedQueue(queue, uri, driver, found)


def _wait_for_model(queue: str, env: Mapping[str, str]) -> str:
    """cupsd first names the new queue "Remote Printer" and writes the driverless PPD a moment
    later (seen: about two seconds): wait for the IPP Everywhere model, or the deadline."""
    deadline = time.monotonic() + EVERYWHERE_WAIT_S
    found = make_and_model(queue, env)
    # a printer that did not answer gets a raw queue at once: no point waiting for it
    while (
        not any(w in found.lower() for w in ("everywhere", "raw")) and time.monotonic() < deadline
    ):
        time.sleep(0.5)
        found = make_and_model(queue, env)
    return found
