"""Kiosk benchmark: the real app on the offscreen window, driven by touch, against the local reference
platform, a private cupsd and the device simulators (the demo's rig).

    .venv/bin/python -m benchmarks.kiosk_app [--runs 50] [--sessions 1000] [--cold-starts 5]

Measures, in this order:
- tap on 打印报告 → the CUPS job accepted (the A4 driver's "job N submitted" log record), over --runs
  default-path sessions (card → enterprise → next → 生成报告 → 打印报告), p50/p95;
- the Kivy thread's longest gap between main-loop iterations while those reports are fetched and
  printed (from the tap on 生成报告 to the done screen), with how much of it was drawing;
- resident memory over --sessions sessions without printing (card → enterprise → next → 生成报告 →
  summary → home; every 10th one printed), after 20 warm-up sessions; these are driven by the
  journey's intents (what the touches send) to fit in minutes, and every screen is drawn. Growth is
  the median of the readings after the last 50 sessions minus that of the first 50. The receipt
  printer's simulator runs in this process: what it keeps of the receipts is dropped after each
  print (`ReceiptSimulator.forget`), as a real printer's paper is not the kiosk's memory;
- cold start: `kiosk run --config` in a new process until it logs that the attract screen is drawn.

Prints figures and a Markdown block for benchmarks/RESULTS.md; never fails on a target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from kiosk.memory import tune_malloc
from screens.cli import prepare_kivy

tune_malloc()  # as `kiosk run` does: before the window's renderer starts its threads
prepare_kivy(
    headless=True, log_level="warning"
)  # before anything imports Kivy (hence the noqa below)

from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402

from benchmarks.measures import percentile  # noqa: E402
from benchmarks.quick import add_quick, apply_quick  # noqa: E402
from kiosk.demo_rig import DEMO_CARDS, Platform, Rig, build_rig, demo_people  # noqa: E402
from kiosk.steps import Step  # noqa: E402
from screens.app import KioskApp  # noqa: E402
from screens.demo import DEMO_UI, finish_each_frame  # noqa: E402
from screens.robot import Robot  # noqa: E402
from screens.voice import Voice  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

PAGE = os.sysconf("SC_PAGE_SIZE")
WINDOW = 50  # sessions whose readings make each end's median


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


class SubmitTimes(logging.Handler):
    """The monotonic time of each "job N submitted" record of the A4 driver (CUPS accepted it)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.times: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("job ") and " submitted to " in record.getMessage():
            self.times.append(time.monotonic())


class CardsGone(logging.Handler):
    """How often the card reader has seen a card leave its field ("card left the field")."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "id_card: card left the field":
            self.count += 1


class LoopGaps:
    """Gaps between the Kivy thread's main-loop iterations, and the drawing time inside each."""

    def __init__(self) -> None:
        self.recording = False
        self.last: float | None = None
        self.gaps: list[float] = []
        self.draws: list[float] = []
        self._draw_started = 0.0
        self._drawn = 0.0
        self.flips = 0
        Clock.schedule_interval(self._tick, 0)
        Window.bind(on_draw=self._before_draw)
        Window.fbind("on_flip", self._after_flip)

    def _before_draw(self, *_: Any) -> None:
        self._draw_started = time.perf_counter()

    def _after_flip(self, *_: Any) -> None:
        self._drawn += time.perf_counter() - self._draw_started
        self.flips += 1

    def _tick(self, _dt: float) -> None:
        now = time.perf_counter()
        if self.recording and self.last is not None:
            self.gaps.append(now - self.last)
            self.draws.append(self._drawn)
        self.last = now
        self._drawn = 0.0

    def start(self) -> None:
        self.last = None
        self.recording = True

    def stop(self) -> None:
        self.recording = False


class Bench:
    def __init__(self, rig: Rig, robot: Robot, args: argparse.Namespace) -> None:
        self.rig, self.robot, self.args = rig, robot, args
        self.person = demo_people()[0]
        self.results: dict[str, Any] = {}
        self.submits = SubmitTimes()
        logging.getLogger("devices.a4_printer").addHandler(self.submits)
        logging.getLogger("devices.a4_printer").setLevel(logging.INFO)
        logging.getLogger("devices.a4_printer").propagate = False  # timing only, not the console
        self.cards_gone = CardsGone()
        reader_log = logging.getLogger("devices.id_card")
        reader_log.addHandler(self.cards_gone)
        reader_log.setLevel(logging.INFO)
        reader_log.propagate = False
        self.gaps = LoopGaps()

    def t(self, message_id: str) -> str:
        return self.robot.t(message_id)

    def to_summary(self) -> None:
        r = self.robot
        self.rig.insert_card(0)
        r.wait_step(Step.CHOOSE_ENTERPRISE)
        r.tap_value(self.person.enterprises[0])
        r.wait_step(Step.CHOOSE_SCOPE)
        r.tap(self.t("button.next"))
        r.wait_step(Step.CONFIRM)

    def leave(self) -> None:
        self.rig.remove_card()
        self.rig.kiosk.runner.submit(lambda j: j.reset()).result(10)
        self.robot.wait_step(Step.ATTRACT)
        time.sleep(0.7)  # the reader must see the card gone before the next one

    def print_runs(self) -> None:
        r, latencies = self.robot, []
        for n in range(self.args.runs):
            self.to_summary()
            self.gaps.start()
            r.tap(self.t("confirm.go"))
            r.wait_step(Step.SUMMARY)
            before = len(self.submits.times)
            r.tap(self.t("summary.print"))
            r.wait(lambda b=before: len(self.submits.times) > b, 30)  # type: ignore[misc]
            latencies.append((self.submits.times[before] - r.touched_at) * 1000)
            r.wait_step(Step.DONE, 60)
            self.gaps.stop()
            self.leave()
            print(f"  print run {n + 1}/{self.args.runs}: {latencies[-1]:.0f} ms", flush=True)
        gaps = [g * 1000 for g in self.gaps.gaps]
        worst = max(range(len(gaps)), key=gaps.__getitem__)
        self.results["tap_to_cups_ms"] = {
            "p50": statistics.median(latencies),
            "p95": percentile(latencies, 0.95),
            "max": max(latencies),
            "runs": len(latencies),
        }
        self.results["loop_gap_ms"] = {
            "max": gaps[worst],
            "max_drawing": self.gaps.draws[worst] * 1000,
            "p99": percentile(gaps, 0.99),
            "over_100": sum(g > 100 for g in gaps),
            "iterations": len(gaps),
            "longest_not_drawing": max(
                (g - d * 1000 for g, d in zip(gaps, self.gaps.draws, strict=True)), default=0.0
            ),
        }

    def shown(self, step: Step) -> None:
        """Until the journey is at `step`, the app shows it, and a frame of it was drawn."""
        journey, app = self.rig.kiosk.journey, self.robot.app
        self.robot.wait(lambda: journey.step is step and app.snapshot is journey.snapshot)
        drawn = self.gaps.flips
        # Kivy draws only when a canvas changed: the frame of this screen may be drawn already
        # and no other come, so ask for one (waiting without asking hung the benchmark)
        self.robot.on_kivy(Window.canvas.ask_update)
        self.robot.wait(lambda: self.gaps.flips >= drawn + 1)

    def memory(self) -> None:
        """Sessions driven by the journey's intents (what a touch would send), each screen drawn."""
        runner, company = self.rig.kiosk.runner, self.person.enterprises[0]
        samples: list[tuple[int, float]] = []
        every: list[float] = []
        warm_up = self.args.warm_up
        total = self.args.sessions + warm_up
        for n in range(total):
            self.rig.insert_card(0)
            self.shown(Step.CHOOSE_ENTERPRISE)
            gone = self.cards_gone.count
            self.rig.remove_card()  # people take the card back at once; the reader sees it go
            runner.submit(lambda j: j.choose_enterprise(company)).result(30)
            self.shown(Step.CHOOSE_SCOPE)
            runner.submit(lambda j: j.scope_done()).result(30)
            self.shown(Step.CONFIRM)
            runner.submit(lambda j: j.confirm()).result(60)
            self.shown(Step.SUMMARY)
            if n % 10 == 9:
                runner.submit(lambda j: j.print_report()).result(60)
                self.shown(Step.DONE)
                self.rig.receipts.forget()  # the printer's paper is not kiosk memory
            runner.submit(lambda j: j.reset()).result(30)
            self.shown(Step.ATTRACT)
            # a session of intents can be shorter than the reader's poll interval; a card put back
            # before the reader saw it leave is the same card still lying there (not a new one)
            self.robot.wait(lambda g=gone: self.cards_gone.count > g, 10)  # type: ignore[misc]
            rss = rss_mib()  # the whole process's; read at the attract screen after each session
            every.append(rss)
            if n == warm_up - 1 or (n + 1) % 100 == 0 or n == total - 1:
                samples.append((n + 1, rss))
                print(f"  session {n + 1}/{total}: RSS {rss:.1f} MiB", flush=True)
        # One reading moves by a few MiB with what the last session left for the collector and
        # the allocator; the median of WINDOW readings does not, and a leak moves it all the same.
        window = min(WINDOW, self.args.sessions)
        first = statistics.median(every[warm_up : warm_up + window])
        last = statistics.median(every[-window:])
        self.results["rss_mib"] = {
            "after_warm_up": samples[0][1],
            "end": samples[-1][1],
            "growth_single": samples[-1][1] - samples[0][1],
            "first_median": first,
            "last_median": last,
            "growth": last - first,
            "window": window,
            "warm_up": warm_up,
            "sessions": self.args.sessions,
            "samples": samples,
        }


def cold_starts(config: Path, count: int) -> list[float]:
    times = []
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    for n in range(count):
        started = time.monotonic()
        proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/kiosk"), "--log-level", "INFO", "run", "--config", str(config)],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert proc.stderr is not None
        tail: list[str] = []
        for line in proc.stderr:
            if "ready: the attract screen is on the display" in line:
                times.append((time.monotonic() - started) * 1000)
                break
            tail = [*tail[-20:], line]
        proc.terminate()
        proc.wait(30)
        if len(times) < n + 1:
            raise RuntimeError("kiosk run never drew the attract screen:\n" + "".join(tail))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--cold-starts", type=int, default=5)
    parser.add_argument("--warm-up", type=int, default=20, help="sessions before memory counts")
    add_quick(parser, runs=2, sessions=3, cold_starts=1, warm_up=2)
    args = apply_quick(parser.parse_args())
    if min(args.runs, args.sessions, args.cold_starts, args.warm_up) < 1:
        parser.error("--runs, --sessions, --cold-starts and --warm-up must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    load = os.getloadavg()
    platform_ = Platform(str(work / "platform.db"), work)
    platform_.seed(200)
    platform_.start()
    rig = build_rig(
        work / "kiosk",
        platform_.base_url,
        platform_.add_token("bench-hall"),
        DEMO_CARDS,
        ui={**DEMO_UI, "idle_timeout_s": 600, "countdown_s": 30},
    )
    rig.kiosk.runner.start()
    app = KioskApp(rig.kiosk.runner, voice=Voice(None))
    robot = Robot(app, timeout=60)
    bench = Bench(
        rig, robot, args
    )  # its flip observer first: the frame's glFinish counts as drawing
    finish_each_frame()
    failure: list[BaseException] = []

    def drive() -> None:
        try:
            robot.wait(lambda: app.snapshot is not None, 60)
            robot.wait_step(Step.ATTRACT)
            print(f"tap on print -> CUPS job accepted, {args.runs} runs", flush=True)
            bench.print_runs()
            print(f"resident memory over {args.sessions} sessions", flush=True)
            bench.memory()
        except BaseException as exc:  # reported after the window closes
            failure.append(exc)
        finally:
            robot.on_kivy(app.stop)

    app.bind(on_start=lambda *_: threading.Thread(target=drive, daemon=True).start())
    app.run()
    rig.kiosk.close()
    try:
        if failure:
            raise failure[0]
        print(f"cold start, {args.cold_starts} runs", flush=True)
        bench.results["cold_start_ms"] = cold_starts(
            work / "kiosk" / "kiosk.toml", args.cold_starts
        )
    finally:
        rig.receipts.stop()
        rig.cups.stop()
        platform_.stop()
    report(bench.results, args, load)
    return 0


def report(results: dict[str, Any], args: argparse.Namespace, load: tuple[float, ...]) -> None:
    tap, gap, rss = results["tap_to_cups_ms"], results["loop_gap_ms"], results["rss_mib"]
    cold = results["cold_start_ms"]

    def verdict(ok: bool) -> str:
        return "MET" if ok else "MISSED"

    lines = [
        f"tap on print -> CUPS job accepted ({tap['runs']} runs): p50 {tap['p50']:.0f} ms, "
        f"p95 {tap['p95']:.0f} ms, max {tap['max']:.0f} ms "
        f"[p50<=300 {verdict(tap['p50'] <= 300)}, p95<=600 {verdict(tap['p95'] <= 600)}]",
        f"Kivy main-loop gaps while fetching and printing ({gap['iterations']} iterations): "
        f"longest {gap['max']:.0f} ms (drawing {gap['max_drawing']:.0f} ms of it), p99 "
        f"{gap['p99']:.0f} ms, {gap['over_100']} over 100 ms; longest excluding drawing "
        f"{gap['longest_not_drawing']:.0f} ms [<=100 {verdict(gap['max'] <= 100)}]",
        f"resident memory, median of {rss['window']} sessions at each end: "
        f"{rss['first_median']:.1f} MiB after {rss['warm_up']} warm-up sessions, "
        f"{rss['last_median']:.1f} MiB at the end of {rss['sessions']} more: growth "
        f"{rss['growth']:+.1f} MiB [<=5 MiB {verdict(rss['growth'] <= 5)}]; single readings "
        f"{rss['after_warm_up']:.1f} -> {rss['end']:.1f} MiB ({rss['growth_single']:+.1f})",
        f"cold start to the attract screen ({len(cold)} runs): median "
        f"{statistics.median(cold):.0f} ms, max {max(cold):.0f} ms",
    ]
    print("\n".join(lines))
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    cmd = (
        f".venv/bin/python -m benchmarks.kiosk_app --runs {args.runs} --sessions {args.sessions} "
        f"--cold-starts {args.cold_starts}"
        + (f" --warm-up {args.warm_up}" if args.warm_up != 20 else "")
    )
    print(f"\n### {when} — {platform.machine()}, load at start {load[0]:.2f}\n\n`{cmd}`\n")
    print("```\n" + "\n".join(lines) + "\n```")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
