"""Every benchmark script runs to its end: each one's `--quick` mode, as `python -m benchmarks.NAME`
from the repository root, the way benchmarks/RESULTS.md gives their commands."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .postgres_server import pg_bin

pytestmark = pytest.mark.runs_long(1.5)  # every benchmark run once, quick
ROOT = Path(__file__).resolve().parents[1]

# what each script's output must show: the figure lines its RESULTS.md entries quote
FIGURES = {
    "pdf_render": [r"^target: 40 domains, 4 records .* median +\d+\.\d+ ms"],
    "offline_queue": [r"^enqueue: p50 \d+\.\d+ ms", r"^drain_once with an instant platform: 200 items"],
    "qr": [r"^project: \d+/\d+ decoded, median \d+\.\d+ ms$"],
    "contract_floor": [r"^contract +server CPU \d+\.\d+ ms/request", r"lowest ratio to the bare render"],
    "offline_drain": [r"drain after the platform returns: .* for 20 delivered", r"20/20 tickets with exactly one report"],
    "report_api": [r"^\| 4 \| \d+\.\d+ \| \d+\.\d+ \| \d+\.\d+ \| 0 \|"],
    "fleet": [
        r"^\[sqlite\] heartbeats \d+ p50 \d+\.\d+ ms p99 .* errors 0; reports \d+",
        r"platform CPU \d+\.\d+ ms a report \(heartbeats included\) = \d+\.\d+× the bare render",
        r"^\[sqlite\] cores in each 10 s: platform \d+\.\d\d; database 0\.00; generator \d+\.\d\d; machine \d+\.\d\d; stolen \d+\.\d\d$",
        r"^\[sqlite\] report requests due in each 10 s: (\d+) \((\d+) due, \2 answered or failed; the arrivals began \d+\.\d s before",
        r"^\[sqlite\] CPU in each 10 s: platform \d+\.\d ms a report \(heartbeats included\); load generator \d+\.\d{3} ms a request",
        *([r"^\[postgres\] heartbeats \d+ p50 \d+\.\d+ ms p99 .* errors 0; reports \d+",
           r"^PostgreSQL: .*min_wal_size=2GB.*; 2 WAL segments made ahead$"]
          if pg_bin() else [r"^\[postgres\] not installed here"]),
    ],
    "kiosk_app": [
        r"^tap on print -> CUPS job accepted \(2 runs\): p50 \d+ ms",
        r"^resident memory, median of 3 sessions at each end",
        r"^cold start to the attract screen \(1 runs\)",
    ],
}  # fmt: skip


def test_every_benchmark_script_has_a_quick_run_here() -> None:
    scripts = {  # a script runs as a module; the parts it is made of do not
        p.stem
        for p in (ROOT / "benchmarks").glob("*.py")
        if 'if __name__ == "__main__":' in p.read_text(encoding="utf-8")
    }
    assert scripts == set(FIGURES)


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_quick_run_ends_and_prints_its_figures(name: str, tmp_path: Path) -> None:
    extra = ["--db-dir", str(tmp_path)] if name == "report_api" else []
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--quick", *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    assert "quick run: checks that the script works" in done.stdout
    for pattern in FIGURES[name]:
        assert re.search(pattern, done.stdout, re.M), (pattern, done.stdout[-3000:])
