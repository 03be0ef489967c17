"""The terminal as the hall sees it, apart from any one person's session: a required device that
cannot serve, the staff lock, the help calls and where the service desk is (DESIGN §8).

`hall_link.HallLink` sets these from the devices and the platform's answers; the stage shows the
resting screen they call for when no session is in progress, or when the current one ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .api_models import HelpCallState
from .availability import Fault
from .stage import CallState, Stage


class TerminalState:
    def __init__(self, stage: Stage, audit: Callable[..., None]) -> None:
        self._stage = stage
        self._audit = audit

    def set_fault(self, fault: Fault | None) -> None:
        """A required device cannot serve (or can again): the terminal rests out of service
        until it recovers; a session in progress finishes first."""
        if fault != self._stage.fault:
            self._audit("availability", fault=fault.reason if fault else "none")
            self._stage.fault = fault
            self._stage.rest_changed()

    @property
    def fault(self) -> Fault | None:
        return self._stage.fault

    def lock(self, message: str = "") -> None:
        """Staff paused the terminal (暂停服务); a session in progress finishes first."""
        self._audit("locked")
        self._stage.locked_message = message
        self._stage.rest_changed()

    def unlock(self) -> None:
        self._audit("unlocked")
        self._stage.locked_message = None
        self._stage.rest_changed()

    @property
    def locked(self) -> bool:
        return self._stage.locked_message is not None

    @property
    def idle(self) -> bool:
        """Nobody is being served: a restart may happen now."""
        return self._stage.idle

    def apply_settings(
        self, *, desk: str, language: str, elderly: bool, idle_timeout_s: float, countdown_s: float
    ) -> None:
        """A reloaded config: the hall's defaults for the next person."""
        stage = self._stage
        stage.service_desk = desk
        stage.default_language, stage.default_elderly = language, elderly
        stage.idle_timeout_s, stage.countdown_s = idle_timeout_s, countdown_s

    def help_calls_update(self, calls: Sequence[HelpCallState]) -> None:
        """The platform's word on this terminal's calls (unresolved ones, and those resolved in
        the last minutes); a call it no longer lists after it had it open was resolved."""
        listed = {c.call_id for c in calls}
        for call in calls:
            self._stage.help_update(call.call_id, call.status, call.staff)
        for call_id, known in list(self._stage.help_calls.items()):
            if call_id not in listed and known.status in ("open", "acknowledged"):
                self._stage.help_update(call_id, "resolved", known.staff)

    def calls(self) -> dict[str, CallState]:
        return dict(self._stage.help_calls)

    def open_calls(self) -> int:
        return sum(1 for c in self._stage.help_calls.values() if c.status != "resolved")
