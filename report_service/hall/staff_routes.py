"""The hall dashboard's routes for staff (DESIGN §8): login, the page, its JSON twin, the live
event stream, the actions, statistics and the audit log."""

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from ..errors import ApiError, api_error_response, forbidden, not_found, unprocessable
from ..verify_page import wants_html
from . import HallService, page, stats
from .schemas import CommandBody, MaintenanceBody
from .staff import StaffMember, check_csrf
from .state import hall_state

COOKIE = "hall_session"
LOGIN_COOKIE = "hall_login"
# an alert's or a bundle's number, within what both databases store (PostgreSQL's INTEGER is 32
# bits): past it a 422, not a 500
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
STREAM_REFRESH_S = 15.0  # a state at least this often: "closed" and "last seen" move with time


def set_cookie(
    response: Response, name: str, value: str, *, secure: bool, max_age: int | None = None
) -> None:
    """HttpOnly, SameSite=Strict (spelt as DESIGN §8 and RFC 6265bis do), for /halls only."""
    parts = [f"{name}={value}", "HttpOnly", "Path=/halls", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    response.headers.append("set-cookie", "; ".join(parts))


def add_staff_routes(app: FastAPI, hall: HallService, public_url: str = "") -> None:
    """`public_url`: the platform's address as people reach it (a login's Origin may name it
    when a proxy in front rewrites the Host header)."""
    own = {urlsplit(public_url).hostname} - {None}

    def member(request: Request) -> StaffMember:
        return hall.staff.member(request.cookies.get(COOKIE))

    def acting(request: Request) -> StaffMember:
        """A logged-in member making a change: the CSRF token must come with it."""
        who = member(request)
        check_csrf(who, request.headers.get("x-csrf-token"))
        return who

    Member = Annotated[StaffMember, Depends(member)]
    Acting = Annotated[StaffMember, Depends(acting)]

    def secure(request: Request) -> bool:
        return request.url.scheme == "https"

    @app.get("/halls/login", response_class=HTMLResponse)
    def login_page(request: Request, failed: str = "") -> HTMLResponse:
        nonce = secrets.token_urlsafe(16)
        response = HTMLResponse(page.login(nonce, failed))
        set_cookie(response, LOGIN_COOKIE, nonce, secure=secure(request))
        return response

    @app.post("/halls/login")
    async def login(request: Request) -> Response:
        """`{username, password}` as the page's form or as JSON. A browser (it asks for HTML) is
        redirected; a program gets JSON: 200 with the member and the CSRF token, or the error.
        Against login CSRF, a request another site's page made is refused (Sec-Fetch-Site, or its
        Origin), and a browser's form must bring back the nonce the login page set; a form from
        a program (none of a browser's headers) may come without."""
        client = request.client.host if request.client else "unknown"
        browser = wants_html(request.headers.get("accept"))  # answered with redirects
        browser_made = from_a_browser(request)  # any browser's request: the nonce is owed

        def refused(exc: ApiError) -> Response:
            if browser:
                return RedirectResponse(f"/halls/login?failed={exc.code}", status_code=303)
            return api_error_response(exc)

        if cross_site(request, own):
            return refused(forbidden("cross_site_login", page.LOGIN_FAILURES["cross_site_login"]))
        sent = credentials(
            request.headers.get("content-type", ""), await request.body(), browser_made
        )
        if sent is None:
            return refused(unprocessable("invalid_request", page.LOGIN_FAILURES["invalid_request"]))
        username, password, nonce = sent
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if (
            nonce is not None
            and (nonce or browser_made)
            and not (expected and secrets.compare_digest(nonce, expected))
        ):  # a browser's form comes from the login page, with its nonce
            return refused(forbidden("expired", page.LOGIN_FAILURES["expired"]))
        try:
            token, who = await run_in_threadpool(hall.staff.login, username, password, client)
        except ApiError as exc:
            return refused(exc)
        response: Response
        if browser:
            response = RedirectResponse(
                f"/halls/{sorted(who.halls)[0] if len(who.halls) == 1 else ''}", status_code=303
            )
        else:
            response = JSONResponse({
                "username": who.username, "display_name": who.display_name, "role": who.role,
                "halls": sorted(who.halls), "csrf_token": who.csrf_token,
            }, headers={"Cache-Control": "no-store"})  # fmt: skip
        set_cookie(response, COOKIE, token, secure=secure(request),
                   max_age=hall.ctx.settings.staff_session_s)  # fmt: skip
        set_cookie(response, LOGIN_COOKIE, "", secure=secure(request), max_age=0)
        return response

    @app.post("/halls/logout")
    def logout(request: Request, who: Acting) -> Response:
        hall.staff.logout(request.cookies.get(COOKIE))
        response = JSONResponse({"ok": True})
        set_cookie(response, COOKIE, "", secure=secure(request), max_age=0)
        return response

    @app.get("/halls/", response_class=HTMLResponse, response_model=None)
    def halls(request: Request) -> Response:
        try:
            who = member(request)
        except ApiError:
            return RedirectResponse("/halls/login", status_code=303)
        if len(who.halls) == 1:
            return RedirectResponse(f"/halls/{next(iter(who.halls))}", status_code=303)
        return HTMLResponse(page.hall_list(who))

    @app.get("/halls/static/{name}")
    def static(name: str) -> Response:
        found = page.static_file(name)
        if found is None:
            raise not_found("not_found", "没有这个文件。")
        body, media_type = found
        return Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})

    @app.get("/halls/{hall_id}", response_class=HTMLResponse, response_model=None)
    def dashboard(hall_id: str, request: Request) -> Response:
        try:
            who = member(request)
        except ApiError:
            return RedirectResponse("/halls/login", status_code=303)
        who.require_hall(hall_id)
        return HTMLResponse(page.dashboard(hall_id, who), headers={"Cache-Control": "no-store"})

    @app.get("/halls/{hall_id}/state")
    def state(hall_id: str, who: Member) -> JSONResponse:
        who.require_hall(hall_id)
        return JSONResponse(hall_state(hall.ctx, hall_id))

    @app.get("/halls/{hall_id}/events")
    async def events(hall_id: str, request: Request, who: Member) -> StreamingResponse:
        who.require_hall(hall_id)
        cookie = request.cookies.get(COOKIE)

        def state_if_allowed() -> dict[str, Any] | None:
            """The hall's state, or None once the login that opened the stream no longer may
            see it (logged out, expired, account disabled): a stream outlives its request. The
            login is checked after the read, so nothing read after it ended is sent."""
            current = hall_state(hall.ctx, hall_id)
            try:
                hall.staff.member(cookie).require_hall(hall_id)
            except ApiError as refused:
                if refused.status in (401, 403):
                    return None
                raise
            return current

        async def stream() -> AsyncIterator[str]:
            yield "retry: 2000\n\n"
            while not hall.feed.closed and not await request.is_disconnected():
                current = await run_in_threadpool(state_if_allowed)
                if current is None:  # the page goes to the login form
                    yield "event: logged_out\ndata: {}\n\n"
                    return
                yield f"event: state\ndata: {json.dumps(current, ensure_ascii=False)}\n\n"
                await hall.feed.wait(hall_id, STREAM_REFRESH_S)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})  # fmt: skip

    # call ids are unique per terminal: `?terminal_id=` names the call where two terminals of
    # the hall used one id (the dashboard always sends it)
    @app.post("/halls/{hall_id}/help-calls/{call_id}/acknowledge")
    def acknowledge_call(
        hall_id: str, call_id: str, who: Acting, terminal_id: str | None = None
    ) -> JSONResponse:
        return JSONResponse(hall.operations.acknowledge_call(who, hall_id, call_id, terminal_id))

    @app.post("/halls/{hall_id}/help-calls/{call_id}/resolve")
    def resolve_call(
        hall_id: str, call_id: str, who: Acting, terminal_id: str | None = None
    ) -> JSONResponse:
        return JSONResponse(hall.operations.resolve_call(who, hall_id, call_id, terminal_id))

    @app.post("/halls/{hall_id}/alerts/{alert_id}/acknowledge")
    def acknowledge_alert(hall_id: str, alert_id: RowId, who: Acting) -> JSONResponse:
        return JSONResponse(hall.operations.acknowledge_alert(who, hall_id, alert_id))

    @app.post("/halls/{hall_id}/terminals/{terminal_id}/commands")
    def command(hall_id: str, terminal_id: str, body: CommandBody, who: Acting) -> JSONResponse:
        return JSONResponse(hall.operations.send_command(who, hall_id, terminal_id, body), 201)

    @app.post("/halls/{hall_id}/commands/{command_id}/cancel")
    def cancel(hall_id: str, command_id: str, who: Acting) -> JSONResponse:
        return JSONResponse(hall.operations.cancel_command(who, hall_id, command_id))

    @app.post("/halls/{hall_id}/terminals/{terminal_id}/maintenance")
    def maintenance(
        hall_id: str, terminal_id: str, body: MaintenanceBody, who: Acting
    ) -> JSONResponse:
        return JSONResponse(hall.operations.maintenance(who, hall_id, terminal_id, body))

    @app.get("/halls/{hall_id}/stats")
    def statistics(
        hall_id: str, who: Member, days: Annotated[int, Query(ge=1, le=stats.MAX_DAYS)] = 7
    ) -> JSONResponse:
        who.require_hall(hall_id)
        return JSONResponse(stats.hall_stats(hall.ctx, hall_id, days))

    @app.get("/halls/{hall_id}/stats.csv")
    def statistics_csv(
        hall_id: str, who: Member, days: Annotated[int, Query(ge=1, le=stats.MAX_DAYS)] = 31
    ) -> Response:
        who.require_hall(hall_id)
        body = stats.to_csv(stats.hall_stats(hall.ctx, hall_id, days))
        filename = f"hall-{hall_id}-stats.csv"
        return Response(
            body.encode("utf-8-sig"),  # with a BOM: spreadsheet programs then read it as UTF-8
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @app.get("/halls/{hall_id}/audit")
    def audit(hall_id: str, who: Member) -> JSONResponse:
        who.require_hall(hall_id)
        return JSONResponse({"actions": stats.staff_actions(hall.ctx, hall_id)})

    @app.get("/halls/{hall_id}/diagnostics/{bundle_id}")
    def diagnostics(hall_id: str, bundle_id: RowId, who: Member) -> Response:
        who.require_hall(hall_id)
        bundle = stats.diagnostic_bundle(hall.ctx, hall_id, bundle_id)
        return Response(
            bundle.data,
            media_type="application/gzip",
            headers={
                "Content-Disposition": f'attachment; filename="{bundle.terminal_id}-{bundle.id}.tar.gz"'
            },
        )


async def sleep_until_closed(hall: HallService) -> None:
    while not hall.feed.closed:
        await asyncio.sleep(0.5)


def cross_site(request: Request, own: set[str | None]) -> bool:
    """Did another site's page make this request? A browser that sends Sec-Fetch-Site says so;
    for an older one, its Origin's host (not scheme or port: a TLS proxy in front changes those)
    is compared with the Host it asked, a proxy's X-Forwarded-Host and the public URL's."""
    fetch_site = request.headers.get("sec-fetch-site", "").lower()
    if fetch_site:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    asked = (_host(request.headers.get(name, "")) for name in ("host", "x-forwarded-host"))
    hosts = (own | set(asked)) - {None}
    return urlsplit(origin).hostname not in hosts  # "null" (a sandbox, a file) has no host


def _host(header: str) -> str | None:
    """The host name of a Host or X-Forwarded-Host header (its first, when a chain of proxies)."""
    first = header.split(",")[0].strip()
    return urlsplit(f"//{first}").hostname if first else None


def from_a_browser(request: Request) -> bool:
    """A browser's request, by what every browser sends and a program posting a form does not."""
    headers = request.headers
    return (
        wants_html(headers.get("accept"))
        or any(name in headers for name in ("origin", "referer", "sec-fetch-mode"))
        or "mozilla" in headers.get("user-agent", "").lower()
    )


def credentials(
    content_type: str, body: bytes, browser: bool
) -> tuple[str, str, str | None] | None:
    """(username, password, the form's login nonce or None) from a JSON or form body. Only a
    body labelled JSON is read as JSON (a cross-site form can send text/plain that looks like
    JSON, never that label), or an unlabelled one from a program (another site's page can send
    one by sendBeacon, from a browser old enough to say nothing of where it came from). A
    program's JSON labelled a form (`curl --data-binary '{...}'`) is JSON too: no form encodes
    a literal brace, and a browser never gets here."""
    text = body.decode("utf-8-sig", "replace")  # a file saved with a BOM, sent by curl -d @file
    kind = content_type.split(";")[0].strip().lower()
    program_json = not browser and text.lstrip().startswith("{")
    if kind == "application/json" or (
        kind in ("", "application/x-www-form-urlencoded") and program_json
    ):
        try:
            data = json.loads(text)
            username, password = data["username"], data["password"]
        except (ValueError, KeyError, TypeError, RecursionError):
            return None
        nonce = None
    else:
        form = {k: v[0] for k, v in parse_qs(text).items()}
        username, password = form.get("username"), form.get("password")
        nonce = form.get("login_nonce", "")
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    return username, password, nonce


__all__ = ["add_staff_routes"]
