"""Keep-alive HTTP/1.1 written and parsed by hand, for load generators that share the cores with
the service they measure.

httpx cost ~3-4 ms of CPU per report in `report_api`, and its connection pool does work in the
number of connections times waiting requests on every change (the fleet benchmark's generator spent
all of one core there at 3,000 terminals); this costs ~0.3 ms a request. Requests stay real HTTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import suppress


def request_head(
    method: str, path: str, host: str, headers: Mapping[str, str], length: int
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {length}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class HttpConnection:
    """One keep-alive connection; opened at its first request and again after a close."""

    def __init__(self, base_url: str) -> None:
        host, _, port = base_url.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port or 80)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(head + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *lines = raw.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            content = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append(await self.reader.readexactly(size + 2))
            await self.reader.readuntil(b"\r\n")
            content = b"".join(p[:-2] for p in parts)
        else:
            content = await self.reader.read()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


class ConnectionPool:
    """`size` connections shared by many simulated terminals: a request takes a free one, so time
    spent waiting for one counts in its latency as a queue would. They are taken in turn, as a
    fleet's many connections spread over the server's processes (most recently used first would
    load whichever process its few busy connections hashed to); a connection the server closed
    while idle is reopened and the request sent once more, as an HTTP client does."""

    def __init__(self, base_url: str, size: int, timeout_s: float = 60.0) -> None:
        self.host = base_url.removeprefix("http://")
        self.timeout_s = timeout_s
        self._free: asyncio.Queue[HttpConnection] = asyncio.Queue()
        for _ in range(size):
            self._free.put_nowait(HttpConnection(base_url))

    async def request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        """(status, body); OSError, TimeoutError or asyncio.IncompleteReadError when it failed."""
        head = request_head(method, path, self.host, headers, len(body))
        conn = await self._free.get()
        try:
            reused = conn.writer is not None
            try:
                return await asyncio.wait_for(conn.request(head, body), self.timeout_s)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                    raise
                await conn.close()  # closed by the server while idle: nothing was answered
                return await asyncio.wait_for(conn.request(head, body), self.timeout_s)
        except BaseException:
            await conn.close()  # a half-read answer must not be read by the next request
            raise
        finally:
            self._free.put_nowait(conn)

    async def close(self) -> None:
        while not self._free.empty():
            await self._free.get_nowait().close()
