"""Time render_report_pdf: warm up (font registration), then N renders; print median and p99.

Run from the repository root: .venv/bin/python -m benchmarks.pdf_render [--renders 200]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

from benchmarks.measures import percentile
from benchmarks.quick import add_quick, apply_quick
from report_service.document import ReportDocument
from report_service.pdf import render_report_pdf
from tests.test_pdf import build_document, large_document


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


def bench(name: str, doc: ReportDocument, renders: int) -> None:
    for _ in range(10):
        render_report_pdf(doc)
    wall, cpu = [], []
    for _ in range(renders):
        w0, c0 = time.perf_counter(), time.process_time()
        pdf = render_report_pdf(doc)
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    p99 = percentile(wall, 0.99)
    print(
        f"{name:<34} {_pages(pdf):>2} pages {len(pdf) / 1024:6.1f} KiB  "
        f"median {statistics.median(wall):6.2f} ms  p99 {p99:6.2f} ms  "
        f"min {min(wall):6.2f} ms  cpu median {statistics.median(cpu):6.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=200)
    add_quick(parser, renders=5)
    args = apply_quick(parser.parse_args())
    t0 = time.perf_counter()
    render_report_pdf(build_document(domains=1, records=0))
    print(f"first render (registers the font): {(time.perf_counter() - t0) * 1000:.0f} ms")
    bench("large: 40 domains, 60 records", large_document(), args.renders)
    bench("target: 40 domains, 4 records", build_document(40, 4, per_domain=1), args.renders)
    bench("40 domains, all clean", build_document(40, 0), args.renders)


if __name__ == "__main__":
    main()
