"""The terminal API speaks JSON only (DESIGN §3): a /v1 POST body is read as JSON, whatever label
the client gave it or left off. A signed body sent as raw bytes, or by `curl -d`, is then checked
as the JSON it is instead of being refused as a missing object; a body that is not JSON still gets
400 malformed_json. Cookie-authenticated routes (/halls) keep their labels: their login form needs
them, and a label is part of what a browser's cross-site form can and cannot send.
"""

from __future__ import annotations

from collections.abc import Sequence
from re import Pattern

from starlette.types import ASGIApp, Receive, Scope, Send

JSON = b"application/json"


def is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == JSON or (media.startswith(b"application/") and media.endswith(b"+json"))


class JsonBodies:
    """Relabels /v1 POST bodies as application/json (except `raw` paths, which take bytes)."""

    def __init__(self, app: ASGIApp, raw: Sequence[Pattern[str]] = ()) -> None:
        self.app = app
        self.raw = tuple(raw)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith("/v1/")
            and not any(p.match(scope["path"]) for p in self.raw)
        ):
            labels = [v for n, v in scope["headers"] if n == b"content-type"]
            if not labels or not is_json(labels[0]):
                headers = [(n, v) for n, v in scope["headers"] if n != b"content-type"]
                scope = {**scope, "headers": [*headers, (b"content-type", JSON)]}
        await self.app(scope, receive, send)
