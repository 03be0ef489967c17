"""The paths of the calls that more than the route knows: the route declares its template, the hot
paths (fastpath.py) and the larger body limit of a diagnostics upload (app.py) match a request's
path against it."""

from __future__ import annotations

import re

REPORTS = "/v1/reports"
HEARTBEAT = "/v1/terminals/{terminal_id}/heartbeat"
DIAGNOSTICS = "/v1/terminals/{terminal_id}/diagnostics"

# a `{name}` once re.escape has been at it
_PARAMETER = re.compile(r"\\\{[A-Za-z_][A-Za-z0-9_]*\\\}")


def path_pattern(template: str, segment: str = "[^/]+") -> str:
    """`template` as a regular expression for a whole path, each `{name}` one captured `segment`."""
    pattern = _PARAMETER.sub(f"({segment})", re.escape(template))
    if "\\{" in pattern:  # a converter ({name:path}) this cannot express: say so now
        raise ValueError(f"path_pattern: unsupported parameter in {template}")
    return "^" + pattern + r"\Z"
