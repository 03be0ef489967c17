"""systemd's notify protocol, stdlib only: READY=1 once the kiosk shows its first screen, and
WATCHDOG=1 from the UI thread, so that a hung UI stops feeding and systemd restarts the kiosk.

A datagram to the AF_UNIX socket named by $NOTIFY_SOCKET (a leading `@` is Linux's abstract
namespace). Outside systemd the variable is unset and every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = None
        if address.startswith("@"):
            self.address = "\0" + address[1:]
        elif address.startswith("/"):
            self.address = address
        self.watchdog_s = _watchdog_interval(env)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, state: str) -> bool:
        """Send one state line set (e.g. "READY=1"); False when not under systemd or it failed."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(self.address)
                sock.sendall(state.encode())
        except OSError as exc:  # systemd gone or restarting: the kiosk goes on
            log.warning("sd_notify %s failed: %s", state.split("=", 1)[0], exc.strerror)
            return False
        return True

    def ready(self) -> bool:
        return self.notify("READY=1\nSTATUS=attract screen shown")

    def feed(self) -> bool:
        return self.notify("WATCHDOG=1")


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    """Seconds between feeds (half of WatchdogSec), or None when no watchdog is asked for us."""
    usec = env.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    # WATCHDOG_PID is not checked: under cage it names cage, our parent, and the unit's
    # NotifyAccess=all lets the kiosk feed for it
    return int(usec) / 2_000_000
