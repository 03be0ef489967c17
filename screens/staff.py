"""The staff screen: the devices' state, as the core reports it."""

from __future__ import annotations

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator, term
from .widgets import InfoRow


class StaffScreen(KioskScreen):
    headline_id = "staff.title"

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        table = self.ids.table
        table.clear_widgets()
        for device, state in sorted(snapshot.staff_status.items()):
            label = term(t, f"staff.device.{device}", device)
            table.add_widget(InfoRow(label=label, value=state))

    def clear(self) -> None:
        self.ids.table.clear_widgets()
