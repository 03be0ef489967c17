"""`GET /metrics`: Prometheus text for monitoring (DESIGN §8).

Fleet figures (terminals by status, open help calls, active alerts, reports) come from the database,
so every serve process gives the same; request latency histograms are this process's own (label
`pid`). Served to loopback and private addresses, or to anyone with the metrics token.
"""

from __future__ import annotations

import bisect
import hmac
import ipaddress
import os
import threading
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import db
from ..http_guard import RouteNames
from .context import HallContext
from .state import hall_state

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# a label for any other method: a parser that takes any token must not add a series for each
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Latency:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: dict[tuple[str, str], list[int]] = defaultdict(
            lambda: [0] * (len(BUCKETS) + 1)
        )
        self.sums: dict[tuple[str, str], float] = defaultdict(float)

    def observe(self, method: str, route: str, seconds: float) -> None:
        with self._lock:
            self.counts[(method, route)][bisect.bisect_left(BUCKETS, seconds)] += 1
            self.sums[(method, route)] += seconds

    def lines(self) -> list[str]:
        out = ["# HELP report_service_request_seconds Request latency of this serve process.",
               "# TYPE report_service_request_seconds histogram"]  # fmt: skip
        pid = os.getpid()
        with self._lock:
            for (method, route), counts in sorted(self.counts.items()):
                labels = f'method="{method}",route="{route}",pid="{pid}"'
                running = 0
                for bound, n in zip((*BUCKETS, float("inf")), counts, strict=True):
                    running += n
                    le = "+Inf" if bound == float("inf") else repr(bound)
                    out.append(
                        f'report_service_request_seconds_bucket{{{labels},le="{le}"}} {running}'
                    )
                out.append(
                    f"report_service_request_seconds_sum{{{labels}}} {self.sums[(method, route)]:.6f}"
                )
                out.append(f"report_service_request_seconds_count{{{labels}}} {running}")
        return out


class MeasureLatency:
    """ASGI middleware: every HTTP request's time to its response's start, by route; a request
    that ends in an exception no handler took is timed when it raised (the server's last resort,
    outside this layer, answers it 500 at once)."""

    def __init__(self, app: ASGIApp, latency: Latency, route_names: RouteNames) -> None:
        self.app = app
        self.latency = latency
        self.route_names = route_names

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        done = False

        def observe() -> None:
            nonlocal done
            if not done:
                done = True
                method = scope["method"] if scope["method"] in METHODS else "OTHER"
                self.latency.observe(method, self.route_names(scope["path"], scope["method"]),
                                     time.perf_counter() - started)  # fmt: skip

        async def timed(message: Any) -> None:
            if message["type"] == "http.response.start":
                observe()
            await send(message)

        try:
            await self.app(scope, receive, timed)
        except Exception:
            observe()
            raise


def allowed(client_host: str | None, authorization: str | None, token: str | None) -> bool:
    if token and authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
            return True
    try:
        address = ipaddress.ip_address(client_host or "")
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def render(ctx: HallContext, latency: Latency) -> str:
    lines = [
        "# HELP kiosk_terminals Enrolled terminals by hall and status.",
        "# TYPE kiosk_terminals gauge",
    ]
    with ctx.sessions() as s:
        halls = sorted(
            set(s.scalars(select(db.Terminal.hall_id).where(db.Terminal.revoked.is_(False))))
        )
        reports = s.scalar(select(func.count()).select_from(db.Report)) or 0
    calls: list[str] = []
    alerts: list[str] = []
    for hall_id in halls:
        state = hall_state(ctx, hall_id)
        by_status: dict[str, int] = defaultdict(int)
        for terminal in state["terminals"]:
            by_status[terminal["status"]] += 1
        for status in ("online", "offline", "closed"):
            lines.append(
                f'kiosk_terminals{{hall="{_label(hall_id)}",status="{status}"}} {by_status[status]}'
            )
        for status in ("open", "acknowledged"):  # resolved calls are no longer anybody's work
            n = sum(1 for c in state["help_calls"] if c["status"] == status)
            calls.append(f'kiosk_help_calls_{status}{{hall="{_label(hall_id)}"}} {n}')
        by_kind: dict[str, int] = defaultdict(int)
        for alert in state["alerts"]:
            by_kind[alert["kind"]] += 0 if alert["muted"] else 1
        alerts.extend(
            f'kiosk_alerts_active{{hall="{_label(hall_id)}",kind="{kind}"}} {n}'
            for kind, n in sorted(by_kind.items())
        )
    lines += ["# HELP kiosk_help_calls_open Help calls waiting for staff (status open).",
              "# TYPE kiosk_help_calls_open gauge",
              *(c for c in calls if c.startswith("kiosk_help_calls_open")),
              "# HELP kiosk_help_calls_acknowledged Help calls acknowledged, not yet resolved.",
              "# TYPE kiosk_help_calls_acknowledged gauge",
              *(c for c in calls if c.startswith("kiosk_help_calls_acknowledged")),
              "# HELP kiosk_alerts_active Active, unmuted alerts by kind.",
              "# TYPE kiosk_alerts_active gauge", *alerts,
              "# HELP report_service_reports_total Reports issued, all time.",
              "# TYPE report_service_reports_total counter", f"report_service_reports_total {reports}",
              *latency.lines()]  # fmt: skip
    return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


__all__ = ["Latency", "MeasureLatency", "allowed", "render"]
