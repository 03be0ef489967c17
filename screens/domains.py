"""The domain picker: one toggle button per domain of the region's catalog."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator
from .widgets import KioskButton, Pool


class DomainButton(KioskButton):
    pass


class DomainsScreen(KioskScreen):
    headline_id = "domains.title"
    all_text = StringProperty("")
    done_text = StringProperty("")
    chosen_text = StringProperty("")

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[tuple[str, str], ...] = ()
        self._pool = Pool()

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        chosen = snapshot.selected_domains or frozenset()
        self.all_text = t("scope.all_domains", count=len(snapshot.domains))
        self.done_text = t("domains.done")
        self.chosen_text = t("scope.selected", count=len(chosen))
        if snapshot.domains != self._shown:  # rebuild only when the catalog changes, not per tap
            grid = self.ids.grid
            self._pool.release(grid)
            for code, name in snapshot.domains:
                grid.add_widget(self._pool.take(DomainButton, text=name, value=code))
            self._shown = snapshot.domains
        for button in self.ids.grid.children:
            button.role = "selected" if button.value in chosen else "secondary"

    def clear(self) -> None:
        self._pool.release(self.ids.grid)
        self._shown = ()
