"""The platform's database threads (report_service/workers.py): a call that waited too long is
refused and never runs; a heartbeat's call goes ahead of the report calls asked just before it,
but not of older ones, and the heartbeat answered beside the framework asks for it so."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from starlette.types import Message, Receive, Scope, Send

from report_service.errors import ApiError
from report_service.fastpath import HeartbeatFastPath
from report_service.workers import Workers

from .hall_support import beat


def run(scenario: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """The scenario, failed rather than hung if a call is never answered."""
    return asyncio.run(asyncio.wait_for(scenario(), 20))


async def busy_thread(workers: Workers, release: threading.Event) -> asyncio.Task[None]:
    """The one call thread held (a call stuck on the database), once it really is."""
    started = threading.Event()

    def holding() -> None:
        started.set()
        release.wait(10)

    task = asyncio.create_task(workers.call(holding))
    while not started.is_set():
        await asyncio.sleep(0.005)
    return task


def test_a_call_queued_past_the_database_wait_is_answered_busy_and_never_runs() -> None:
    workers = Workers(wait_s=0.3, calls=1)
    release = threading.Event()
    ran: list[str] = []

    async def scenario() -> tuple[str, str]:
        first = await busy_thread(workers, release)
        try:
            await workers.call(ran.append, "queued")
        except ApiError as exc:
            refused = f"{exc.status} {exc.code}"
        else:
            refused = "ran"
        stuck = "still running" if not release.is_set() else "done"
        release.set()
        await first
        return refused, stuck

    refused, stuck = run(scenario)
    assert (refused, stuck) == ("503 database_busy", "still running")  # not after the first
    time.sleep(0.1)
    assert ran == []  # the refused call never ran, even once a thread was free


def order_of_calls(workers: Workers, asked: list[tuple[str, str, float]]) -> list[str]:
    """With the one call thread held: each (name, 'call' or 'first', seconds after the last) asked
    in turn, then the thread freed; the order the calls ran in."""
    release = threading.Event()
    ran: list[str] = []

    async def scenario() -> list[str]:
        held = await busy_thread(workers, release)
        tasks: list[Awaitable[None]] = []
        for name, how, after in asked:
            await asyncio.sleep(after)
            ask = workers.first if how == "first" else workers.call
            tasks.append(asyncio.create_task(ask(ran.append, name)))
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(held, *tasks)
        return ran

    order: list[str] = run(scenario)
    return order


def test_a_heartbeat_goes_ahead_of_the_report_calls_asked_just_before_it() -> None:
    workers = Workers(wait_s=5, calls=1, head_start_s=2.0)
    asked = [("report 1", "call", 0), ("report 2", "call", 0), ("heartbeat", "first", 0.01),
             ("report 3", "call", 0), ("heartbeat 2", "first", 0)]  # fmt: skip
    ran = order_of_calls(workers, asked)
    assert ran == ["heartbeat", "heartbeat 2", "report 1", "report 2", "report 3"]


def test_a_heartbeat_does_not_go_ahead_of_a_report_call_older_than_its_head_start() -> None:
    workers = Workers(wait_s=5, calls=1, head_start_s=0.05)
    asked = [("report 1", "call", 0), ("heartbeat", "first", 0.3), ("report 2", "call", 0)]
    assert order_of_calls(workers, asked) == ["report 1", "heartbeat", "report 2"]


def test_a_failing_call_hands_its_error_to_its_caller_and_the_thread_goes_on() -> None:
    workers = Workers(wait_s=5, calls=1)

    def broken() -> None:
        raise ValueError("bad row")

    async def scenario() -> tuple[str, int]:
        try:
            await workers.first(broken)
        except ValueError as exc:
            failed = str(exc)
        else:
            failed = "no error"
        return failed, await workers.call(len, "four")

    assert run(scenario) == ("bad row", 4)


def test_a_heartbeat_whose_caller_gave_up_never_runs_and_the_next_call_does() -> None:
    workers = Workers(wait_s=5, calls=1)
    release = threading.Event()
    ran: list[str] = []

    async def scenario() -> list[str]:
        held = await busy_thread(workers, release)
        gone = asyncio.create_task(workers.first(ran.append, "heartbeat"))
        report = asyncio.create_task(workers.call(ran.append, "report"))
        await asyncio.sleep(0.05)
        gone.cancel()  # the terminal hung up while its call queued
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(held, report)
        return ran

    assert run(scenario) == ["report"]


def test_the_heartbeat_answered_beside_the_framework_goes_ahead_of_queued_report_calls() -> None:
    workers = Workers(wait_s=5, calls=1, head_start_s=2.0)
    release = threading.Event()
    ran: list[str] = []

    class Auth:  # behavioural fakes: the signature passes, the beat says when it ran
        def verify_signature(self, *_: Any, **__: Any) -> str:
            return "signed"

    class Telemetry:
        def heartbeat(self, signed: str, terminal_id: str, _: Any) -> dict[str, Any]:
            ran.append(f"heartbeat of {terminal_id}")
            return {"interval_s": 30}

    async def framework(scope: Scope, receive: Receive, send: Send) -> None:
        ran.append("handed to the framework")

    fast = HeartbeatFastPath(framework, cast(Any, Auth()), cast(Any, Telemetry()), workers)
    body = json.dumps(beat()).encode()
    scope: Scope = {"type": "http", "method": "POST", "query_string": b"",
                    "path": "/v1/terminals/t-1/heartbeat", "raw_path": b"/v1/terminals/t-1/heartbeat",
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]}  # fmt: skip
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async def scenario() -> list[str]:
        held = await busy_thread(workers, release)
        report = asyncio.create_task(workers.call(ran.append, "report"))
        await asyncio.sleep(0.01)
        answered = asyncio.create_task(fast(scope, receive, send))
        await asyncio.sleep(0.05)
        release.set()
        await asyncio.gather(held, report, answered)
        return ran

    assert run(scenario) == ["heartbeat of t-1", "report"]
    assert sent[0]["status"] == 200
