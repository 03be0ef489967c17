"""`report-service serve`: one uvicorn process, or several that each listen on their own socket.

With `--workers N` uvicorn's own supervisor shares one listening socket between its processes, and
whichever wakes first accepts a whole burst of connections: the fleet benchmark found one of two
processes holding all 128 keep-alive connections while the other idled, so a two-core machine
served as one. Here each process binds its own socket with SO_REUSEPORT and the kernel hashes
every new connection to one of them. This supervisor restarts a process that dies, and stops them
all on SIGTERM or SIGINT.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import signal
import socket
import sys
import time
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

log = logging.getLogger("report_service")

RESTART_PAUSE_S = 1.0  # doubled for each quick death in a row
QUICK_DEATH_S = 10.0
QUICK_DEATHS = 5  # in a row: the service gives up (the system's supervisor may restart it)
STARTUP_FAILURE = 3  # uvicorn's exit status when the application cannot start
STOP_WAIT_S = 10.0
PR_SET_PDEATHSIG = 1


class PortInUse(Exception):
    pass


def serve(app: str, host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Run `app` (an importable factory) in `workers` processes until told to stop; non-zero
    when the processes cannot start (a bad configuration, a port taken) or keep dying at once.
    With more than one, the caller has checked the port (`check_free`) before opening anything."""
    import uvicorn

    if workers == 1:
        uvicorn.run(app, factory=True, host=host, port=port, **options)
        return 0
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):  # before any process starts
        signal.signal(signum, stop)
    spawn = multiprocessing.get_context("spawn")
    args = (app, host, port, options)
    processes = [
        spawn.Process(target=_worker, args=args, name=f"worker-{i}") for i in range(workers)
    ]
    started = [time.monotonic()] * workers
    for p in processes:
        p.start()
    log.info("serving on %s:%d with %d processes (SO_REUSEPORT)", host, port, workers)
    quick_deaths = 0
    while not stopping:
        for i, p in enumerate(processes):
            if p.is_alive() or stopping:
                continue
            if p.exitcode == STARTUP_FAILURE:
                log.error(
                    "serve process %s could not start (exit %s); stopping", p.name, p.exitcode
                )
                _stop_all(processes)
                return 1
            quick = time.monotonic() - started[i] < QUICK_DEATH_S
            quick_deaths = quick_deaths + 1 if quick else 0
            if quick_deaths >= QUICK_DEATHS:
                log.error("serve processes keep exiting at once (last %s); stopping", p.exitcode)
                _stop_all(processes)
                return 1
            log.warning("serve process %s (pid %s) exited with %s; starting another",
                        p.name, p.pid, p.exitcode)  # fmt: skip
            time.sleep(RESTART_PAUSE_S * 2 ** min(quick_deaths, 4))
            processes[i] = spawn.Process(target=_worker, args=args, name=p.name)
            started[i] = time.monotonic()
            processes[i].start()
        time.sleep(0.2)
    _stop_all(processes)
    return 0


def check_free(host: str, port: int) -> None:
    """Refuse a port something else listens on: SO_REUSEPORT alone would share it silently with
    another process of this user, such as a second platform started by mistake."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past connections may linger
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _worker(app: str, host: str, port: int, options: dict[str, Any]) -> None:
    import uvicorn

    _die_with_parent()
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", host, port, exc.strerror)
        sys.exit(STARTUP_FAILURE)
    config = uvicorn.Config(app, factory=True, host=host, port=port, **options)
    uvicorn.Server(config).run(sockets=[sock])


def _die_with_parent() -> None:
    """A supervisor killed outright must not leave its processes serving the port (Linux)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the system's supervisor stops the group
        pass


def _stop_all(processes: Sequence[BaseProcess]) -> None:
    for p in processes:
        if p.is_alive():
            p.terminate()  # SIGTERM: uvicorn finishes its requests and stops
    deadline = time.monotonic() + STOP_WAIT_S
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()
