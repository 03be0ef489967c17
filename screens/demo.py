"""`kiosk demo`: the reference platform with seeded data, the kiosk on simulated devices, and either
a window to try it in or (with no display) the scripted walk-through into the output folder.

Kivy must be configured before it is imported: `screens.cli` sets the environment, then imports this.
"""

from __future__ import annotations

import ctypes
import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.core.window import Window
from kivy.graphics.opengl import glFinish

from kiosk.demo_rig import (
    DEMO_CARDS,
    DEMO_HALL,
    DemoPerson,
    DemoStaff,
    Platform,
    Rig,
    build_rig,
    demo_people,
)
from kiosk.steps import Step

from .app import KioskApp
from .dashboard_shots import DashboardCamera
from .robot import Robot
from .tours import run_tours
from .voice import Voice
from .walkthrough import WalkThrough, write_summary

log = logging.getLogger(__name__)

# short enough that the walk-through shows the countdown without a long wait
DEMO_UI = {"idle_timeout_s": 20, "countdown_s": 10}


def say(text: str) -> None:
    print(f"[demo] {text}", flush=True)


def run_demo(out: Path, work: Path, *, headless: bool, entities: int = 200) -> int:
    """Run the demo; returns the exit status (0: every walk-through step worked)."""
    if out == work or out in work.parents or work in out.parents:
        say("--out and --work must be two separate folders, neither inside the other")
        return 2
    for folder in (out, work):  # every run starts from nothing: safe to run twice
        problem = clear_demo_folder(folder)
        if problem:
            say(problem)
            return 2
    people = demo_people()
    platform = Platform(str(work / "platform.db"), work)
    say(f"seeding {entities} synthetic enterprises and the demo's people into {platform.db}")
    platform.seed(entities)
    platform.start()
    say(f"the reference platform answers on {platform.base_url} (API docs: /docs)")
    rig: Rig | None = None
    try:
        staff = DemoStaff()
        dashboard = platform.open_hall(DEMO_HALL, staff)
        say(f"the hall dashboard: {dashboard} (staff login {staff.username} / {staff.password})")
        token = platform.add_token(DEMO_HALL)
        rig = build_rig(
            work / "kiosk",
            platform.base_url,
            token,
            DEMO_CARDS,
            ui=DEMO_UI,
            state_dir=out / "state",
            provision=True,
        )
        counts = rig.self_test.get("counts", {})
        say(
            f"terminal {rig.kiosk.enrollment.terminal_id} enrolled with kiosk-provision; self-test: "
            f"{counts.get('pass', 0)} pass, {counts.get('warn', 0)} warn, {counts.get('fail', 0)} fail"
        )
        rig.kiosk.runner.start()
        if headless:
            return walk_through(rig, platform, people, out, dashboard)
        return interactive(rig, platform, people)
    finally:
        if rig is not None:
            rig.close()
        platform.stop()


DEMO_MARK = ".kiosk-demo"  # in each folder the demo made, so a rerun may empty it


def clear_demo_folder(folder: Path) -> str | None:
    """Empty a folder of an earlier demo run (or make it); a problem message instead when the
    folder holds files that no demo wrote, which are never deleted."""
    if folder.exists():
        if not folder.is_dir():
            return f"{folder} is a file, not a folder: give another --out or --work"
        if any(folder.iterdir()) and not (folder / DEMO_MARK).exists():
            return (
                f"{folder} is not empty and was not made by `kiosk demo`: "
                "give an empty or new folder with --out / --work"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / DEMO_MARK).write_text("written by `kiosk demo`; a new run empties this folder\n")
    return None


def finish_each_frame() -> None:
    """Wait for each frame to be rasterized before the next one starts.

    A display's buffer swap does this; Mesa's software renderer on the offscreen driver does not, so
    frames queue up behind a slow one and the next texture upload waits for all of them at once.
    The wait goes through ctypes, which lets go of the GIL: the journey's loop thread keeps running
    while the renderer finishes the frame.
    """
    finish = _gil_free_gl_finish() or glFinish
    Window.bind(on_flip=lambda *_: finish())


def _gil_free_gl_finish() -> Callable[[], object] | None:
    for name in ("libOpenGL.so.0", "libGL.so.1"):  # the GL dispatch the process already uses
        try:
            return ctypes.CDLL(name).glFinish
        except (OSError, AttributeError):
            continue
    return None


def log_when_ready(app: KioskApp) -> None:
    """One INFO line when the attract screen is first on the display (start-up time in the log)."""

    def check(*_: Any) -> None:
        if app.snapshot is not None and app.snapshot.step is Step.ATTRACT:
            Window.unbind(on_flip=check)
            log.info("ready: the attract screen is on the display")

    Window.bind(on_flip=check)


def walk_through(
    rig: Rig, platform: Platform, people: list[DemoPerson], out: Path, dashboard: str
) -> int:
    finish_each_frame()
    app = KioskApp(rig.kiosk.runner, voice=Voice(None))
    robot = Robot(app)
    camera = DashboardCamera(dashboard, DemoStaff()) if DashboardCamera.available() else None
    if camera is None:
        say("no chromium-driver here: the walk-through goes on without dashboard screenshots")
    script = WalkThrough(robot, rig, platform, out, people, dashboard=camera)
    failure: list[BaseException] = []

    def drive() -> None:
        try:
            robot.wait(lambda: app.snapshot is not None, 60, lambda: "the app did not start")
            script.run()
            run_tours(script)  # elderly mode, English, portrait: shorter walks of their own
        except BaseException as exc:  # reported below, after the window has closed
            failure.append(exc)
            log.exception("the walk-through stopped")
        finally:
            robot.on_kivy(app.stop)

    app.bind(on_start=lambda *_: threading.Thread(target=drive, daemon=True).start())
    Window.size = (1920, 1080)  # the surface is square (screens.cli): landscape first
    say("no display: running the scripted walk-through on the offscreen window")
    try:
        app.run()
    finally:
        if camera is not None:
            camera.close()
    summary = script.summary()
    summary["artifacts"]["state"] = "state"
    path = write_summary(out, summary)
    failed = script.failed_steps()
    others = sum(len(walk["steps"]) for walk in script.modes.values())
    say(
        f"{len(script.steps)} steps (and {others} in {', '.join(script.modes)}), "
        f"{len(failed)} failed; taps from card to print: "
        f"{summary['taps_to_print']}; print tap to paper: {summary['time_to_paper_ms']} ms"
    )
    say(f"wrote {path} and the screenshots, report.pdf and receipt.png beside it")
    if failed or failure:
        say(f"FAILED steps: {', '.join(failed) or type(failure[0]).__name__}")
        return 1
    return 0


def interactive(rig: Rig, platform: Platform, people: list[DemoPerson]) -> int:
    """A window to try the kiosk in; function keys stand in for the card and the phone."""
    keys = {
        282: ("F1", "card of a person with two enterprises", lambda: rig.insert_card(0)),
        283: ("F2", "card of a person with one enterprise", lambda: rig.insert_card(1)),
        284: ("F3", "an expired card", lambda: rig.insert_card(2)),
        285: ("F4", "take the card away", rig.remove_card),
        286: (
            "F5",
            "show a login QR to the camera",
            lambda: rig.camera.show(platform.login_qr(people[1].id_number)),
        ),
        287: ("F6", "take the code away", rig.camera.clear),
    }
    for name, what, _ in keys.values():
        say(f"{name}: {what}")

    def on_key(_window: Any, key: int, *_: Any) -> bool:
        if key in keys:
            threading.Thread(target=keys[key][2], daemon=True).start()  # device I/O off the UI
            return True
        return False

    Window.bind(on_key_down=on_key)
    KioskApp(rig.kiosk.runner).run()
    return 0
