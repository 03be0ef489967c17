"""A private `cupsd` for the demo and the tests: its own config, spool, logs and socket in a temp dir.

Follows the recipe in STACK-NOTES ("A private CUPS for tests"). Usage::

    with CupsServer() as server:
        out = server.add_queue("KioskA4")              # file-backed queue, output in server.out_dir
        server.pause("KioskA4", "paper being loaded")  # cupsdisable
        server.set_reasons("KioskA4", "media-empty-error")  # printer-state-reasons, as a driver would
        ...

Besides the file device, queues can use `kiosksim`, a tiny shell backend installed in a private
ServerBin: it writes the job to a file and, when a fault is set with `set_fault`, reports a
printer-state reason through the real backend protocol (`STATE: +reason` on stderr) and exits with a
CUPS backend status (4 = stop the queue, 1 = job failed, 5 = cancel the job...).

The admin commands (lpadmin, cupsdisable...) run with `CUPS_SERVER=<socket>`; this module never
touches the machine's own CUPS.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

GENERIC_PDF_MODEL = "lsb/usr/cupsfilters/Generic-PDF_Printer-PDF.ppd"
GENERIC_PDF_PPD = Path("/usr/share/ppd/cupsfilters/Generic-PDF_Printer-PDF.ppd")
_JCL_LINES = ("*JCLBegin:", "*JCLToPDFInterpreter:", "*JCLEnd:")
CUPS_SERVERBIN = Path("/usr/lib/cups")

# Backend exit codes (cups/backend.h)
BACKEND_OK = 0
BACKEND_FAILED = 1  # then the queue's printer-error-policy decides
BACKEND_HOLD = 3
BACKEND_STOP = 4  # stop (pause) the queue, keep the job
BACKEND_CANCEL = 5

_SIM_BACKEND = r"""#!/bin/sh
# kiosksim:<output path> - writes the job to the file; fault injection through "<output>.fault",
# lines "reason=<printer-state-reason>", "exit=<backend status>", "message=<text>".
if [ $# -eq 0 ]; then echo 'direct kiosksim "Unknown" "Kiosk test printer"'; exit 0; fi
out="${DEVICE_URI#kiosksim:}"
if [ -n "$6" ]; then cat "$6" > "$out"; else cat > "$out"; fi
[ -f "$out.fault" ] || exit 0
reason=$(sed -n 's/^reason=//p' "$out.fault")
code=$(sed -n 's/^exit=//p' "$out.fault")
message=$(sed -n 's/^message=//p' "$out.fault")
[ -n "$reason" ] && echo "STATE: +$reason" >&2
[ -n "$message" ] && echo "ERROR: $message" >&2
exit "${code:-0}"
"""


class CupsServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CupsServer:
    """One private cupsd. `start()`/`stop()` or use it as a context manager."""

    def __init__(
        self,
        *,
        port: int | None = None,
        log_level: str = "warn",
        extra_conf: Iterable[str] = (),
        keep_files: bool | None = None,
    ) -> None:
        # its own top-level temp dir: a unix socket path must stay under 108 bytes
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-cups-"))
        # filters run as the `lp` user and must be able to walk into the dir
        self.root.chmod(0o755)
        self.port = port or free_port()
        self.log_level = log_level
        self.extra_conf = list(extra_conf)
        if keep_files is None:
            keep_files = os.environ.get("KIOSK_KEEP_CUPS") == "1"
        self.keep_files = keep_files
        self.out_dir = self.root / "out"
        self.log_dir = self.root / "logs"
        self._proc: subprocess.Popen[bytes] | None = None
        self._frozen = False
        self._stderr: IO[bytes] | None = None
        self._lock = threading.Lock()

    # paths ----------------------------------------------------------------------------------
    @property
    def socket_path(self) -> Path:
        return self.root / "cups.sock"

    @property
    def spool_dir(self) -> Path:
        return self.root / "spool"

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def output_path(self, queue: str) -> Path:
        """Where `add_queue(queue)` without an explicit path writes its jobs."""
        return self.out_dir / f"{queue}.pdf"

    def printer_config(self, queue: str, **options: Any) -> dict[str, Any]:
        """Config options for `CupsPrinter.from_config` pointing at this server."""
        return {"queue": queue, "server": str(self.socket_path), **options}

    def env(self) -> dict[str, str]:
        return {**os.environ, "CUPS_SERVER": str(self.socket_path)}

    def error_log(self) -> str:
        path = self.log_dir / "error_log"
        return path.read_text(errors="replace") if path.exists() else ""

    # lifecycle ------------------------------------------------------------------------------
    def start(self, timeout: float = 15.0) -> CupsServer:
        if self.running:
            return self
        self._write_config()
        self._stderr = open(self.log_dir / "cupsd.stderr", "ab")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen(
            [
                "cupsd",
                "-f",
                "-c",
                str(self.root / "cupsd.conf"),
                "-s",
                str(self.root / "cups-files.conf"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=True,  # a Ctrl-C in pytest must not reach cupsd before teardown
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise CupsServerError(
                    f"cupsd exited with {self._proc.returncode}: "
                    f"{(self.log_dir / 'cupsd.stderr').read_text(errors='replace')[-2000:]}"
                    f"{self.error_log()[-2000:]}"
                )
            if self._socket_answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise CupsServerError(f"cupsd did not open {self.socket_path} within {timeout} s")

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL; removes the temp dir unless keep_files. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            if self._frozen:
                os.kill(proc.pid, signal.SIGCONT)
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        self._frozen = False
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if not self.keep_files:
            shutil.rmtree(self.root, ignore_errors=True)

    def stop_daemon(self) -> None:
        """Stop cupsd but keep its files, like `systemctl stop cups`; `start()` brings it back."""
        keep, self.keep_files = self.keep_files, True
        try:
            self.stop()
        finally:
            self.keep_files = keep

    def freeze(self) -> None:
        """SIGSTOP cupsd: connections are accepted by the kernel but never answered (a hung daemon)."""
        if self._proc is None:
            raise CupsServerError("cupsd is not running")
        os.kill(self._proc.pid, signal.SIGSTOP)
        self._frozen = True

    def thaw(self) -> None:
        if self._proc is not None and self._frozen:
            os.kill(self._proc.pid, signal.SIGCONT)
        self._frozen = False

    def __enter__(self) -> CupsServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # queues ---------------------------------------------------------------------------------
    def add_queue(
        self,
        name: str,
        file_path: Path | None = None,
        *,
        backend: str = "file",
        driver: str = "pdf",
        page_size: str = "A4",
        error_policy: str | None = None,
        options: dict[str, str] | None = None,
        enabled: bool = True,
        accepting: bool = True,
    ) -> Path:
        """Create a queue writing each job to `file_path` (default `output_path(name)`); returns it.

        `backend` is "file" (cupsd writes the file itself) or "kiosksim" (the fault-injecting
        backend). `driver` is "pdf" (the output is the filtered PDF, starting with %PDF),
        "pdf-pjl" (the Generic PDF Printer as shipped: the PDF wrapped in PJL with the job name
        and paper size, like a real PDF office printer) or another CUPS model name.
        `error_policy` is printer-error-policy: stop-printer, abort-job, retry-job...
        """
        if backend not in ("file", "kiosksim"):
            raise ValueError(f"unknown backend {backend!r}")
        path = Path(file_path) if file_path is not None else self.output_path(name)
        uri = f"file://{path}" if backend == "file" else f"kiosksim:{path}"
        if driver == "pdf":
            model_args = ["-P", str(self._plain_pdf_ppd())]
        else:
            model_args = ["-m", GENERIC_PDF_MODEL if driver == "pdf-pjl" else driver]
        args = ["-p", name, "-v", uri, *model_args, "-o", f"PageSize={page_size}"]
        if error_policy:
            args += ["-o", f"printer-error-policy={error_policy}"]
        for key, value in (options or {}).items():
            args += ["-o", f"{key}={value}"]
        self.lpadmin(*args)
        if enabled:
            self.resume(name)
        if accepting:
            self.accept(name)
        return path

    def pause(self, name: str, reason: str = "") -> None:
        """cupsdisable: printer-state 5 (stopped) with the reason `paused`; jobs still queue up."""
        self.run("cupsdisable", *(["-r", reason] if reason else []), name)

    def resume(self, name: str) -> None:
        self.run("cupsenable", name)

    def reject(self, name: str, reason: str = "") -> None:
        """cupsreject: printer-is-accepting-jobs false; new jobs are refused."""
        self.run("cupsreject", *(["-r", reason] if reason else []), name)

    def accept(self, name: str) -> None:
        self.run("cupsaccept", name)

    def set_reasons(self, name: str, *reasons: str) -> None:
        """Set printer-state-reasons the way a driver would report them ("none" when empty)."""
        self.lpadmin("-p", name, "-o", f"printer-state-reasons={','.join(reasons) or 'none'}")

    def set_fault(
        self, name: str, reason: str = "", *, exit_code: int = BACKEND_STOP, message: str = ""
    ) -> None:
        """Make the next jobs of kiosksim queue `name` report `reason` and exit with `exit_code`."""
        lines = [f"reason={reason}", f"exit={exit_code}", f"message={message}"]
        self._fault_file(name).write_text("\n".join(lines) + "\n")

    def clear_fault(self, name: str) -> None:
        """The printer recovers (kept for the tests of a terminal coming back into service)."""
        self._fault_file(name).unlink(missing_ok=True)

    def job_attributes(self, job_id: int) -> dict[str, Any]:
        """The job's IPP attributes straight from cupsd (raises cups.IPPError when purged)."""
        import cups

        with self._lock:  # setServer is per thread in libcups; keep the pair together anyway
            cups.setServer(str(self.socket_path))
            conn = cups.Connection()
        return dict(conn.getJobAttributes(job_id))

    # commands -------------------------------------------------------------------------------
    def lpadmin(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run("lpadmin", *args)

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, timeout=30)
        if check and result.returncode != 0:
            raise CupsServerError(f"{' '.join(cmd)} failed ({result.returncode}): {result.stderr}")
        return result

    # internals ------------------------------------------------------------------------------
    def _fault_file(self, name: str) -> Path:
        return Path(f"{self.output_path(name)}.fault")

    def _plain_pdf_ppd(self) -> Path:
        """The Generic PDF Printer PPD without its PJL wrapper (JCL lines)."""
        path = self.root / "kiosk-pdf.ppd"
        if not path.exists():
            source = GENERIC_PDF_PPD.read_text(encoding="latin-1").splitlines()
            kept = [line for line in source if not line.startswith(_JCL_LINES)]
            path.write_text("\n".join(kept) + "\n", encoding="latin-1")
        return path

    def _socket_answers(self) -> bool:
        if not self.socket_path.exists():
            return False
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            try:
                sock.connect(str(self.socket_path))
            except OSError:
                return False
        return True

    def _write_config(self) -> None:
        for sub in ("spool", "tmp", "cache", "state", "logs", "out", "serverbin/backend"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._install_serverbin()
        (self.root / "cupsd.conf").write_text(
            "\n".join(
                [
                    f"Listen 127.0.0.1:{self.port}",
                    f"Listen {self.socket_path}",
                    "Browsing No",
                    "WebInterface No",
                    "IdleExitTimeout 0",
                    f"LogLevel {self.log_level}",
                    # without a matching <Location>, cupsd rejects the PeerCred auth lpadmin uses
                    "<Location />",
                    "  Order allow,deny",
                    "  Allow localhost",
                    "</Location>",
                    *self.extra_conf,
                ]
            )
            + "\n"
        )
        r = self.root
        (r / "cups-files.conf").write_text(
            "\n".join(
                [
                    f"ServerRoot {r}",
                    f"ServerBin {r / 'serverbin'}",
                    f"RequestRoot {r / 'spool'}",
                    f"TempDir {r / 'tmp'}",
                    f"CacheDir {r / 'cache'}",
                    f"StateDir {r / 'state'}",
                    f"AccessLog {r / 'logs' / 'access_log'}",
                    f"ErrorLog {r / 'logs' / 'error_log'}",
                    f"PageLog {r / 'logs' / 'page_log'}",
                    f"Printcap {r / 'printcap'}",
                    "FileDevice Yes",
                ]
            )
            + "\n"
        )

    def _install_serverbin(self) -> None:
        """A private ServerBin: links to the system's filters and backends plus `kiosksim`."""
        serverbin = self.root / "serverbin"
        for entry in CUPS_SERVERBIN.iterdir():
            link = serverbin / entry.name
            if entry.name != "backend" and not link.exists():
                link.symlink_to(entry)
        for entry in (CUPS_SERVERBIN / "backend").iterdir():
            link = serverbin / "backend" / entry.name
            if not link.exists():
                link.symlink_to(entry)
        sim = serverbin / "backend" / "kiosksim"
        sim.write_text(_SIM_BACKEND)
        # 0700: cupsd runs root-only backends as root, so it can write anywhere in the temp dir
        sim.chmod(0o700)
