"""The figures every benchmark prints are cut the same way: one percentile, and the measured
window's parts that both the latencies and the cores are reported by."""

from __future__ import annotations

import math

from benchmarks.fleet_load import Figures, by_window, cores_between, cpu_ms_by_window, window_ends
from benchmarks.measures import percentile


def test_the_percentile_is_a_measured_value_at_its_rank() -> None:
    values = [float(n) for n in range(100, 0, -1)]  # unsorted on purpose
    assert percentile(values, 0.5) == 50.0  # rank ⌈0.5 · 100⌉ = 50 of 1..100
    assert percentile(values, 0.99) == 99.0
    assert percentile([*values, 101.0], 0.99) == 100.0  # rank ⌈99.99⌉ = 100 of 101: never below
    assert percentile(values, 0.0) == 1.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([7.0], 0.99) == 7.0
    assert math.isnan(percentile([], 0.99))


def test_the_cores_are_read_at_the_ends_of_the_windows_the_latencies_are_cut_by() -> None:
    assert window_ends(100.0, 160.0) == [110.0, 120.0, 130.0, 140.0, 150.0, 160.0]
    assert window_ends(100.0, 108.0) == [108.0]  # a quick run: one short window
    assert window_ends(100.0, 125.0) == [110.0, 120.0, 125.0]
    # latencies at 0-60 s into the window fall in the same six parts
    timeline = [(t + 0.5, float(t // 10)) for t in range(60)]
    assert by_window(timeline) == "0/1/2/3/4/5 ms"
    quiet = [(at, ms) for at, ms in timeline if not 20 <= at < 30]  # nothing answered in one
    assert by_window(quiet, 6) == "0/1/–/3/4/5 ms"  # still six parts, as the cores are


def test_cores_are_cpu_seconds_over_wall_seconds_for_each_meter() -> None:
    first = (10.0, {"platform": 3.0, "machine": 5.0})
    last = (20.0, {"platform": 12.0, "machine": 16.0})
    assert cores_between(first, last) == {"platform": 0.9, "machine": 1.1}


def test_cpu_a_request_divides_each_window_s_cpu_by_what_it_answered() -> None:
    figures = Figures(
        heartbeats=[(1.0, 5.0), (2.0, 5.0), (12.0, 5.0)],
        reports=[(3.0, 9.0), (11.0, 9.0), (13.0, 9.0), (14.0, 9.0)],
        readings=[  # CPU seconds read at 0, 10 and 20 s: 0.5 then 0.6 platform cores
            (100.0, {"platform": 0.0, "generator": 0.0}),
            (110.0, {"platform": 5.0, "generator": 0.3}),
            (120.0, {"platform": 11.0, "generator": 0.7}),
        ],
    )
    assert [round(ms, 6) for ms in cpu_ms_by_window(figures, "platform", "report")] == [
        5000.0,
        2000.0,
    ]
    generator = cpu_ms_by_window(figures, "generator")  # 3 requests, then 4
    assert [round(ms, 6) for ms in generator] == [100.0, 100.0]
    assert {side: round(c, 6) for side, c in figures.cores.items()} == {
        "platform": 0.55,
        "generator": 0.035,
    }
    figures.reports = [(11.0, 9.0)]  # none answered in the first window: no figure, not all of it
    first, second = cpu_ms_by_window(figures, "platform", "report")
    assert math.isnan(first) and round(second, 6) == 6000.0
