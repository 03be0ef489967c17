"""The `kiosk` command: `kiosk run --config FILE` on real devices, `kiosk demo` on simulated ones.

Kivy reads its settings when first imported, so the environment is set here before any Kivy module
is imported (everything Kivy is imported inside the functions).
"""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

from kiosk.memory import tune_malloc

log = logging.getLogger("kiosk")


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def demo_has_viewer(lock_dir: Path = Path("/tmp")) -> bool:
    """Whether the demo's window would be seen: not on an Xvfb display (under `xvfb-run` the demo
    runs its scripted walk-through, DESIGN §7), whatever WAYLAND_DISPLAY a desktop passed on."""
    display = os.environ.get("DISPLAY", "")
    if display and served_by_xvfb(display, lock_dir):
        return False
    return has_display()


def served_by_xvfb(display: str, lock_dir: Path = Path("/tmp")) -> bool:
    """Whether a local X display (":99", ":99.0") is served by Xvfb: the server's pid from the
    lock file every X server writes, `/tmp/.X<N>-lock`, then that process's name."""
    host, _, number = display.partition(":")
    number = number.split(".")[0]
    if host not in ("", "unix") or not number.isdigit():
        return False
    try:
        pid = int((lock_dir / f".X{number}-lock").read_text().strip())
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except (OSError, ValueError):  # no lock, a stale or odd one, a process not ours to read
        return False
    return name == "Xvfb"


def prepare_kivy(
    *, headless: bool, size: tuple[int, int] = (1920, 1080), log_level: str = "WARNING"
) -> None:
    os.environ["KIVY_NO_ARGS"] = "1"  # our arguments are not Kivy's
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # our logging config governs Kivy's records
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))  # no ~/.kivy writes
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
    from kivy.config import Config

    Config.set("kivy", "log_level", log_level.lower())
    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    if not headless:
        Config.set("graphics", "fullscreen", "auto")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    # Kivy asks for 2x multisampling by default. Our widgets are mostly axis-aligned rectangles
    # and text, which gain nothing from it. On software GL (llvmpipe) it makes each frame cost
    # several times as much: clearing a 1080p frame takes 11 ms with it and 1 ms without.
    Config.set("graphics", "multisamples", "0")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk", description="The credit-report kiosk.")
    p.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default), ERROR")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the kiosk on the devices of a config file")
    run.add_argument("--config", required=True, type=Path, help="the kiosk's TOML config")
    run.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    demo = sub.add_parser("demo", help="the reference platform and the kiosk on simulated devices")
    demo.add_argument(
        "--out", type=Path, default=Path("demo-output"), help="screenshots, PDF, receipt, summary"
    )
    demo.add_argument("--work", type=Path, default=Path("var/demo"), help="the platform's files")
    demo.add_argument("--entities", type=int, default=200, help="synthetic enterprises to seed")
    mode = demo.add_mutually_exclusive_group()
    mode.add_argument("--headless", action="store_true", help="the scripted walk-through")
    mode.add_argument("--window", action="store_true", help="open a window (needs a display)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    tune_malloc()  # before any thread starts (kiosk/memory.py)
    faulthandler.register(
        signal.SIGUSR1, all_threads=True
    )  # `kill -USR1` dumps a hung kiosk's stacks
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "run":
        return run(args.config, windowed=args.windowed, log_level=args.log_level)
    headless = args.headless or not (args.window or demo_has_viewer())
    # headless, the walk-through turns the window to portrait too: the offscreen surface keeps
    # its first size (a window may shrink, never grow), so it starts square
    size = (1920, 1920) if headless else (1920, 1080)
    prepare_kivy(headless=headless, size=size, log_level=args.log_level)
    from .demo import run_demo

    # paths on a command line are relative to the current directory (those inside a config file
    # are relative to that file), so they are made absolute before anything is written with them
    out, work = args.out.absolute(), args.work.absolute()
    return run_demo(out, work, headless=headless, entities=args.entities)


def run(config_path: Path, *, windowed: bool, log_level: str) -> int:
    from devices.errors import DeviceError
    from kiosk.compose import build_kiosk
    from kiosk.config import load_config
    from kiosk.errors import ConfigInvalid, KioskError

    try:
        config = load_config(config_path)
    except ConfigInvalid as exc:
        print(f"kiosk: {config_path} is not a valid config:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    try:
        kiosk = build_kiosk(config)
    except (KioskError, DeviceError, OSError) as exc:
        print(f"kiosk: cannot start: {exc}", file=sys.stderr)
        return 1
    prepare_kivy(headless=not has_display(), size=config.ui.window_size, log_level=log_level)
    from kivy.config import Config

    if windowed:
        Config.set("graphics", "fullscreen", "0")
    else:
        Config.set("graphics", "show_cursor", "0")  # a touch kiosk: no pointer on its screen
    from kivy.core.window import Window

    from .app import KioskApp
    from .demo import finish_each_frame, log_when_ready
    from .voice import Voice
    from .watchdog import feed_watchdog

    warn_orientation(config.ui.orientation, Window.size)
    try:
        kiosk.runner.start()
        voice = Voice.find() if config.ui.voice_prompts else Voice(None)
        app = KioskApp(kiosk.runner, voice=voice)
        if not has_display():
            finish_each_frame()
        log_when_ready(app)
        feed_watchdog(app)  # systemd: READY=1 on the attract screen, WATCHDOG=1 from the UI clock
        restarting: list[bool] = []

        def restart() -> None:  # staff asked (restart_app): end; systemd starts the app again
            from kivy.clock import Clock

            restarting.append(True)
            Clock.schedule_once(lambda _dt: app.stop())

        kiosk.restart.hooks.append(restart)
        app.run()
    finally:
        kiosk.close()
    if restarting:
        log.warning("stopped for a restart staff asked for (systemd starts the app again)")
    return 0


def warn_orientation(orientation: str, size: tuple[int, int]) -> bool:
    """The screens lay out for the window's shape; a panel mounted on its side whose video output
    is not turned shows the landscape layout sideways. Says so once; returns whether it did."""
    portrait = size[1] > size[0]
    if portrait == (orientation == "portrait"):
        return False
    log.warning(
        "ui.orientation is %s but the display is %dx%d: turn the display's output (for the cage "
        "compositor `cage -r`, for X `xrandr --rotate left`) so the kiosk gets a %s window",
        orientation,
        size[0],
        size[1],
        orientation,
    )
    return True


if __name__ == "__main__":
    sys.exit(main())
