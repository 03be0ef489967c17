"""Staff commands from the hall dashboard (DESIGN §8): each runs once, by its id, and its result
goes back in the next heartbeat's `command_results`.

The platform repeats a command in every heartbeat answer until its result arrives, so a lost answer
only repeats the delivery: the results of commands already run are kept (in the offline store's
cache, so a restart keeps them too) and sent again instead of running the command a second time.
A command that must wait for the person at the kiosk (a restart) runs once nobody is served.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from offline_cache import OfflineCacheError, OfflineStore

from .api import ReportApi
from .api_models import Command
from .config import KioskConfig, load_config
from .errors import ConfigInvalid, KioskError
from .terminal_state import TerminalState

log = logging.getLogger(__name__)

RESULTS_CACHE = "hall.command_results"
KEEP_DONE = 200
RESULTS_PER_BEAT = 50  # as many as the platform takes in one heartbeat
DIAGNOSTICS_TIMEOUT_S = 120.0


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: str  # "executed", "failed"; or "waiting" (not yet: nobody may be disturbed now)
    detail: str = ""


WAIT = Outcome("waiting")
Handler = Callable[[Command], Awaitable[Outcome]]


class CommandRunner:
    def __init__(
        self,
        handlers: Mapping[str, Handler],
        store: OfflineStore | None,
        *,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.handlers = handlers
        self.store = store
        self.now = now
        self.done: dict[str, dict[str, str]] = self._load()  # command id -> result
        # none at start: the platform delivers a command again until it has the result, and
        # `run` then marks that one for the next beat (resending every kept result at once
        # would make a heartbeat too large for the platform to take)
        self.unsent: set[str] = set()

    async def run(self, commands: list[Command]) -> None:
        for command in commands:
            if command.command_id in self.done:
                self.unsent.add(command.command_id)  # the platform did not get the result yet
                continue
            if command.expires_at <= self.now():
                continue  # the platform marks it expired itself
            handler = self.handlers.get(command.kind)
            if handler is None:
                outcome = Outcome("failed", f"unknown command {command.kind[:30]}")
            else:
                try:
                    outcome = await handler(command)
                except (KioskError, OfflineCacheError, OSError) as exc:
                    outcome = Outcome("failed", f"{type(exc).__name__}: {exc}"[:200])
            if outcome.status == "waiting":
                continue  # asked again with the next heartbeat's answer
            log.info("command %s (%s): %s %s", command.command_id, command.kind, outcome.status,
                     outcome.detail)  # fmt: skip
            self.done[command.command_id] = {
                "command_id": command.command_id, "status": outcome.status,
                "detail": outcome.detail[:200],
            }  # fmt: skip
            self.unsent.add(command.command_id)
            self._save()

    def results(self) -> list[dict[str, str]]:
        """The results the next heartbeat carries (the rest go in the beats after it)."""
        return [self.done[c] for c in sorted(self.unsent) if c in self.done][:RESULTS_PER_BEAT]

    def delivered(self, results: list[dict[str, str]]) -> None:
        """A heartbeat with these results was answered: the platform has them."""
        self.unsent -= {r["command_id"] for r in results}
        while len(self.done) > KEEP_DONE:
            self.done.pop(next(iter(self.done)))
        self._save()

    def _load(self) -> dict[str, dict[str, str]]:
        if self.store is None:
            return {}
        try:
            cached = self.store.cache.get(RESULTS_CACHE)
        except OfflineCacheError:
            return {}
        value = cached.value if cached is not None else None
        return dict(value) if isinstance(value, dict) else {}

    def _save(self) -> None:
        if self.store is not None:
            try:
                self.store.cache.put(RESULTS_CACHE, self.done)
            except OfflineCacheError as exc:
                log.error("command results not kept: %s", exc.code)


@dataclasses.dataclass
class CommandHandlers:
    """What each command does on this terminal."""

    terminal: TerminalState
    a4_printer: Any  # a devices A4 printer: self_test(print_test_page=True)
    api: ReportApi
    config: KioskConfig
    apply_config: Callable[[KioskConfig], str]  # takes the new config; says what needs a restart
    device_status: Callable[[], dict[str, Any]]
    restart: Callable[[], None]  # ends the app; systemd starts it again (Restart=always)

    def table(self) -> dict[str, Handler]:
        return {
            "lock": self.lock,
            "unlock": self.unlock,
            "print_test_page": self.print_test_page,
            "reload_config": self.reload_config,
            "collect_diagnostics": self.collect_diagnostics,
            "restart_app": self.restart_app,
        }

    async def lock(self, command: Command) -> Outcome:
        message = str(command.args.get("message", ""))[:100]
        busy = not self.terminal.idle
        self.terminal.lock(message)
        return Outcome("executed", "locked after the session in progress" if busy else "locked")

    async def unlock(self, command: Command) -> Outcome:
        self.terminal.unlock()
        return Outcome("executed", "unlocked")

    async def print_test_page(self, command: Command) -> Outcome:
        if not self.terminal.idle:
            return WAIT  # the printer is someone's now
        result = await asyncio.to_thread(self.a4_printer.self_test, print_test_page=True)
        last = result.checks[-1] if result.checks else ""
        return Outcome("executed" if result.ok else "failed", last[:200])

    async def reload_config(self, command: Command) -> Outcome:
        if self.config.source is None:
            return Outcome("failed", "no config file to read")
        try:
            fresh = await asyncio.to_thread(load_config, self.config.source)
        except ConfigInvalid as exc:
            return Outcome("failed", "config invalid: " + "; ".join(exc.problems)[:180])
        note = self.apply_config(fresh)
        self.config = fresh
        return Outcome("executed", note or "reloaded")

    async def collect_diagnostics(self, command: Command) -> Outcome:
        """kiosk-provision's bundle (redacted and scanned), from this running kiosk's view of its
        devices (opening them again would disturb it), uploaded for the dashboard."""
        if self.config.source is None:
            return Outcome("failed", "no config file")
        with tempfile.TemporaryDirectory(prefix="kiosk-diag-") as folder:
            states, bundle = Path(folder) / "devices.json", Path(folder) / "bundle.tar.gz"
            states.write_text(json.dumps(self.device_status(), default=str), encoding="utf-8")
            argv = [sys.executable, "-m", "provisioning", "diagnostics", "--config",
                    str(self.config.source), "--out", str(bundle), "--device-states", str(states),
                    "--json"]  # fmt: skip
            done = await asyncio.to_thread(
                subprocess.run, argv, capture_output=True, text=True,
                timeout=DIAGNOSTICS_TIMEOUT_S, check=False,
            )  # fmt: skip
            if done.returncode != 0 or not bundle.exists():
                return Outcome("failed", (done.stderr.strip().splitlines() or ["no bundle"])[-1])
            data = bundle.read_bytes()
        await self.api.upload_diagnostics(command.command_id, data)
        return Outcome("executed", f"bundle uploaded ({len(data)} bytes)")

    async def restart_app(self, command: Command) -> Outcome:
        if not self.terminal.idle:
            return WAIT  # after the person at the kiosk is done
        self.restart()
        return Outcome("executed", "restarting")
