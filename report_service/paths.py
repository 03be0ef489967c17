"""The paths of the calls that more than the route knows: the route declares its template, the hot
paths (fastpath.py) and the body guards (http_guard.py) match a request's path against it."""

from __future__ import annotations

import re

REPORTS = "/v1/reports"
HEARTBEAT = "/v1/terminals/{terminal_id}/heartbeat"
DIAGNOSTICS = "/v1/terminals/{terminal_id}/diagnostics"

_PARAMETER = re.compile(r"\\\{[a-z_]+\\\}")  # a `{name}` once re.escape has been at it


def path_pattern(template: str, segment: str = "[^/]+") -> str:
    """`template` as a regular expression for a whole path, each `{name}` one captured `segment`."""
    return "^" + _PARAMETER.sub(f"({segment})", re.escape(template)) + r"\Z"
