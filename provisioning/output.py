"""What `kiosk-provision` prints: tables with Chinese and English labels, JSON for machines, and
progress on standard error for anything that takes more than a second."""

from __future__ import annotations

import json
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

PROGRESS_AFTER_S = 1.0  # a step quicker than this prints nothing


def width(text: str) -> int:
    """Terminal columns: CJK and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: a header line, a rule, the rows; multi-line cells are not used."""
    cells = [list(headers), *[[str(c) for c in row] for row in rows]]
    widths = [max(width(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def pairs(rows: Sequence[tuple[str, str]]) -> str:
    """Label: value lines, labels aligned (a one-record view such as `status`)."""
    columns = max((width(label) for label, _ in rows), default=0)
    return "\n".join(f"{pad(label, columns)}  {value}" for label, value in rows)


def emit_json(data: Any, out: TextIO | None = None) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str), file=out or sys.stdout)


class Progress:
    """`with progress.step("打印测试页 printing a test page"):` shows a line with elapsed seconds on
    standard error once the step has taken more than a second, and its outcome when it ends."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        if not self.enabled:
            yield
            return
        started = time.monotonic()
        done = threading.Event()
        shown = threading.Event()

        def tick() -> None:
            if done.wait(PROGRESS_AFTER_S):
                return
            shown.set()
            while not done.is_set():
                elapsed = time.monotonic() - started
                if self._tty:
                    self._write(f"\r… {label} ({elapsed:.0f} s)")
                elif elapsed < PROGRESS_AFTER_S + 0.5:  # a log file gets one line, not a stream
                    self._write(f"… {label}\n")
                done.wait(0.5 if self._tty else 3600)

        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            done.set()
            ticker.join()
            if shown.is_set():
                elapsed = time.monotonic() - started
                self._write(("\r" if self._tty else "") + f"… {label}: {elapsed:.1f} s\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()
