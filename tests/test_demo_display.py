"""`make demo` opens a real window only where someone can see it (DESIGN §7): under `xvfb-run`
(an Xvfb server on DISPLAY) it runs the scripted walk-through instead of waiting for a person."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from screens.cli import has_display, served_by_xvfb


@pytest.fixture
def fake_xvfb() -> Iterator[str]:
    """A process that looks like `Xvfb :4242` in /proc (argv[0] Xvfb, the display argument)."""
    proc = subprocess.Popen(["bash", "-c", "exec -a Xvfb sh -c 'sleep 60; true' :4242"])
    try:
        for _ in range(100):
            argv = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
            if argv[0] == b"Xvfb":
                break
            time.sleep(0.02)
        yield ":4242"
    finally:
        proc.kill()
        proc.wait()


def test_an_xvfb_display_is_no_display(fake_xvfb: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    for display in (fake_xvfb, fake_xvfb + ".0", "unix" + fake_xvfb):
        monkeypatch.setenv("DISPLAY", display)
        assert served_by_xvfb(display) and not has_display(), display
    monkeypatch.setenv("DISPLAY", ":4243")  # an X server that is not this Xvfb: a screen
    assert has_display()
    monkeypatch.setenv("DISPLAY", "otherhost" + fake_xvfb)  # a remote display is not ours to judge
    assert has_display()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert has_display()
    monkeypatch.delenv("WAYLAND_DISPLAY")
    monkeypatch.delenv("DISPLAY")
    assert not has_display()
