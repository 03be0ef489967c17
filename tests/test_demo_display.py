"""`make demo` opens a real window only where someone can see it (DESIGN §7): under `xvfb-run`
(an Xvfb server on DISPLAY) it runs the scripted walk-through instead of waiting for a person."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from screens.cli import demo_has_viewer, has_display, served_by_xvfb


def lock(lock_dir: Path, number: int, pid: int) -> None:
    (lock_dir / f".X{number}-lock").write_text(f"{pid:>10}\n")  # as an X server writes it


@pytest.fixture
def xvfb_pid(tmp_path: Path) -> Iterator[int]:
    """A process the kernel names Xvfb (its comm, from the file it was started as)."""
    xvfb = tmp_path / "bin" / "Xvfb"
    xvfb.parent.mkdir()
    xvfb.symlink_to("/bin/sleep")
    proc = subprocess.Popen([str(xvfb), "60"])
    try:
        comm = Path(f"/proc/{proc.pid}/comm")
        for _ in range(500):  # until the child has exec'd (on a busy machine that takes a moment)
            if comm.read_text().strip() == "Xvfb":
                break
            time.sleep(0.01)
        yield proc.pid
    finally:
        proc.kill()
        proc.wait()


def test_an_xvfb_display_has_no_viewer(
    xvfb_pid: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock(tmp_path, 4242, xvfb_pid)
    lock(tmp_path, 4243, 1)  # another X server: init is no Xvfb
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")  # as a desktop passes it on to xvfb-run
    for display in (":4242", ":4242.0", "unix:4242"):
        monkeypatch.setenv("DISPLAY", display)
        assert served_by_xvfb(display, tmp_path), display
        assert not demo_has_viewer(tmp_path), display
    for display in (":4243", ":4244", "localhost:10.0"):  # a screen, no lock file, ssh -X
        monkeypatch.setenv("DISPLAY", display)
        assert not served_by_xvfb(display, tmp_path) and demo_has_viewer(tmp_path), display
    monkeypatch.delenv("WAYLAND_DISPLAY")
    monkeypatch.delenv("DISPLAY")
    assert not demo_has_viewer(tmp_path) and not has_display()
