"""The person represents several enterprises: one big button each (name and role)."""

from __future__ import annotations

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator, term
from .widgets import KioskButton, Pool


class EnterpriseButton(KioskButton):
    pass


class EnterpriseScreen(KioskScreen):
    headline_id = "enterprise.title"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[tuple[str, str], ...] = ()
        self._pool = Pool()

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        rows = tuple(
            (e.uscc, f"{e.name}\n{term(t, f'role.{e.role}', e.role)}") for e in snapshot.enterprises
        )
        if rows == self._shown:
            return
        self.clear()
        for uscc, text in rows:
            self.ids.choices.add_widget(self._pool.take(EnterpriseButton, text=text, value=uscc))
        self._shown = rows

    def clear(self) -> None:
        self._pool.release(self.ids.choices)
        self._shown = ()
