"""Authenticating, fetching, queuing, printing: a message and a turning arc while the runner works."""

from __future__ import annotations

from kiosk.steps import Snapshot, Step

from .base import KioskScreen, Translator


def busy_message_id(snapshot: Snapshot) -> str:
    if snapshot.step is Step.AUTHENTICATING:
        return "authenticating.wait"
    if snapshot.step is Step.FETCHING:
        return "fetching.wait"
    if snapshot.step is Step.QUEUING:
        return "queuing.wait"
    return {"receipt": "printing.receipt", "pickup": "printing.pickup"}.get(
        snapshot.print_phase, "printing.a4"
    )


class BusyScreen(KioskScreen):
    def show(self, snapshot: Snapshot, t: Translator) -> None:
        self.headline = t(busy_message_id(snapshot))

    def on_enter(self, *_: object) -> None:
        self.ids.spinner.start()

    def on_leave(self, *_: object) -> None:
        self.ids.spinner.stop()
