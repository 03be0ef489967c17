"""The signed terminal calls of hall operations (DESIGN §3): heartbeat, events, assistance, and the
diagnostics bundle a `collect_diagnostics` command uploads."""

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

from ..paths import DIAGNOSTICS, HEARTBEAT, path_pattern
from ..signing import SignedRequest
from . import HallService
from .schemas import Assistance, Events, Heartbeat

Run = Callable[..., Awaitable[Any]]
DIAGNOSTICS_PATH = re.compile(path_pattern(DIAGNOSTICS))


def add_terminal_routes(app: FastAPI, hall: HallService, signed: Any, run: Run) -> None:
    """`signed` is the app's dependency that checks a terminal's request signature, leaving its
    nonce to be recorded with the call's writes; `run` runs database work on the app's bounded
    database threads."""
    Signed = Annotated[SignedRequest, signed]

    @app.post(HEARTBEAT)
    async def heartbeat(terminal_id: str, body: Heartbeat, caller: Signed) -> JSONResponse:
        return JSONResponse(await run(hall.telemetry.heartbeat, caller, terminal_id, body))

    @app.post("/v1/terminals/{terminal_id}/events")
    async def events(terminal_id: str, body: Events, caller: Signed) -> JSONResponse:
        return JSONResponse(await run(hall.telemetry.events, caller, terminal_id, body))

    @app.post("/v1/terminals/{terminal_id}/assistance")
    async def assistance(terminal_id: str, body: Assistance, caller: Signed) -> JSONResponse:
        return JSONResponse(await run(hall.telemetry.assistance, caller, terminal_id, body))

    @app.post(DIAGNOSTICS)
    async def diagnostics(
        terminal_id: str,
        request: Request,
        caller: Signed,
        command_id: Annotated[str, Query(pattern=r"^C[0-9A-Z]{10,30}$")],
    ) -> JSONResponse:
        bundle = await request.body()
        answer = await run(hall.telemetry.diagnostics, caller, terminal_id, command_id, bundle)
        return JSONResponse(answer)
