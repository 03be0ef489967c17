"""benchmarks/qr.py as a technician runs it: any folder, searched recursively, three result lines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import cv2

from devices.qr.render import render_qr

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^(project|pyzbar|zxing-cpp): (\d+)/(\d+) decoded, median (\d+\.\d+) ms$")


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks.qr", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_benchmark_prints_one_line_per_decoder_on_a_nested_corpus(tmp_path: Path) -> None:
    nested = tmp_path / "corpus" / "deeper"
    nested.mkdir(parents=True)
    cv2.imwrite(str(nested / "1.png"), render_qr("first\r\nline", module_px=4))
    (nested / "1.txt").write_text("first\r\nline", encoding="utf-8")  # folded to \n on both sides
    cv2.imwrite(str(tmp_path / "corpus" / "2.jpg"), render_qr("second 第二", module_px=4))
    (tmp_path / "corpus" / "2.txt").write_text("second 第二", encoding="utf-8")
    cv2.imwrite(str(tmp_path / "corpus" / "3.png"), render_qr("no text file"))  # ignored: no 3.txt
    made = bench(
        "--make-corpus", str(tmp_path / "corpus" / "synthetic"), "--count", "3", "--seed", "5"
    )
    assert made.returncode == 0, made.stderr
    run = bench("--corpus", str(tmp_path / "corpus"))
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    results = [LINE.match(line) for line in lines[-3:]]
    assert all(results), run.stdout
    assert [m.group(1) for m in results if m] == ["project", "pyzbar", "zxing-cpp"]
    for match in results:
        assert match is not None and match.group(3) == "20"  # 5 images x 4 rotations
        assert int(match.group(2)) <= 20
    project = results[0]
    assert project is not None and int(project.group(2)) >= 8  # the two clean codes, every rotation


def test_benchmark_refuses_a_folder_without_samples(tmp_path: Path) -> None:
    run = bench("--corpus", str(tmp_path))
    assert run.returncode != 0 and "no N.png/N.jpg" in run.stderr
