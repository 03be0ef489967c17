"""The kiosk app's side of systemd's watchdog (kiosk/sd_notify.py): READY=1 when the attract screen
is first drawn, then WATCHDOG=1 from Kivy's clock, which runs on the UI thread: a UI that hangs
stops feeding, and systemd restarts the kiosk after WatchdogSec."""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window

from kiosk.sd_notify import Notifier
from kiosk.steps import Step

log = logging.getLogger(__name__)


def feed_watchdog(app: Any, notifier: Notifier | None = None) -> Notifier:
    """Hook the app to systemd; does nothing outside a unit with Type=notify."""
    notifier = notifier or Notifier()
    if not notifier.enabled:
        return notifier

    def ready(*_: Any) -> None:
        if app.snapshot is not None and app.snapshot.step is Step.ATTRACT:
            Window.unbind(on_flip=ready)
            notifier.ready()
            if notifier.watchdog_s is not None:
                Clock.schedule_interval(lambda _dt: notifier.feed(), notifier.watchdog_s)
                log.info("watchdog: feeding systemd every %.1f s", notifier.watchdog_s)

    Window.bind(on_flip=ready)
    return notifier
