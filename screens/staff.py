"""The staff screen: the devices' state, as the core reports it."""

from __future__ import annotations

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator, term
from .widgets import InfoRow, Pool


class StaffScreen(KioskScreen):
    headline_id = "staff.title"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._pool = Pool()

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        table = self.ids.table
        self._pool.release(table)
        for device, state in sorted(snapshot.staff_status.items()):
            label = term(t, f"staff.device.{device}", device)
            value = term(t, f"staff.value.{state}", state)  # error codes stay as they are
            table.add_widget(self._pool.take(InfoRow, label=label, value=value))
        for kind, at, code, *rest in snapshot.staff_lines:  # help calls, then alerts
            if kind == "call":
                status, staff = rest
                words = [
                    at,
                    term(t, f"staff.call.{code}", code),
                    term(t, f"help.status.{status}", status),
                    staff,
                ]
                label = t("staff.calls")
            else:
                words, label = [at, code, *rest], t("staff.alerts")
            value = " ".join(w for w in words if w)
            table.add_widget(self._pool.take(InfoRow, label=label, value=value))

    def clear(self) -> None:
        self._pool.release(self.ids.table)
