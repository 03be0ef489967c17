"""The domain picker: one toggle button per domain of the region's catalog, all or none in one tap,
and no way to confirm an empty choice."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.steps import Snapshot

from .base import KioskScreen, Translator
from .widgets import KioskButton, Pool

TICK = "✓ "  # a chosen domain says so in words' place, not by colour alone


class DomainButton(KioskButton):
    name = StringProperty("")  # the domain's name; `text` adds the tick when it is chosen


class DomainsScreen(KioskScreen):
    headline_id = "domains.title"
    hint = StringProperty("")
    all_text = StringProperty("")
    none_text = StringProperty("")
    done_text = StringProperty("")
    chosen_text = StringProperty("")
    none_chosen = BooleanProperty(True)  # "done" is greyed out: an empty choice is never sent

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._shown: tuple[tuple[str, str], ...] = ()
        self._pool = Pool()

    def show(self, snapshot: Snapshot, t: Translator) -> None:
        super().show(snapshot, t)
        chosen = snapshot.selected_domains or frozenset()
        self.hint = t("domains.hint")
        self.all_text = t("domains.select_all")
        self.none_text = t("domains.select_none")
        self.done_text = t("domains.done")
        self.none_chosen = not chosen
        self.chosen_text = (
            t("domains.none_chosen") if not chosen else t("scope.selected", count=len(chosen))
        )
        if snapshot.domains != self._shown:  # rebuild only when the catalog changes, not per tap
            grid = self.ids.grid
            self._pool.release(grid)
            for code, name in snapshot.domains:
                grid.add_widget(self._pool.take(DomainButton, name=name, value=code))
            self._shown = snapshot.domains
        for button in self.ids.grid.children:
            ticked = button.value in chosen
            button.role = "selected" if ticked else "secondary"
            button.text = (TICK if ticked else "") + button.name

    def speech(self) -> str:
        return f"{self.headline} {self.hint}"

    def clear(self) -> None:
        self._pool.release(self.ids.grid)
        self._shown = ()
