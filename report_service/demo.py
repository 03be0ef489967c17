"""`make demo` until the kiosk lands: the reference platform with seeded data and one report walked through.

Starts `report-service serve`, enrolls a terminal, logs a seeded person in by ID card, issues a report,
downloads and checks its PDF, verifies it, and writes everything to the output folder. With a terminal
attached it keeps serving until Ctrl-C; otherwise it stops after the walk-through.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from . import crypto
from .clock import CST
from .profiles import load_profile
from .synth import generate_region
from .terminal_client import TerminalClient

REGION, ENTITIES, SEED = "gansu", 200, 1


def _say(text: str) -> None:
    print(f"[demo] {text}", flush=True)


def _port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "report_service", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"report-service {args[0]} failed:\n{done.stderr}")
    return done.stdout.strip()


def _demo_person() -> tuple[dict[str, Any], list[str], dict[str, int]]:
    """The seeded person with the most enterprises (the data is synthetic), and records per entity."""
    objects = list(generate_region(REGION, ENTITIES, SEED))
    persons = [o for o in objects if o["type"] == "person"]
    records: dict[str, int] = {}
    for o in objects:
        if o["type"] == "record":
            records[o["uscc"]] = records.get(o["uscc"], 0) + 1
    best = max(persons, key=lambda p: len(p["roles"]))
    return best, [p["id_number"] for p in persons[:5]], records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--state", default="var/demo", help="where the demo database lives")
    parser.add_argument("--out", default="demo-output")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    state, out = Path(args.state), Path(args.out)
    state.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    db = str(state / "platform.db")
    if not Path(db).exists():
        _say(f"seeding {ENTITIES} synthetic {REGION} enterprises into {db}")
        _say(
            _cli(
                "seed",
                "--db",
                db,
                "--region",
                REGION,
                "--entities",
                str(ENTITIES),
                "--seed",
                str(SEED),
            )
        )
    port = _port(args.port)
    base = f"http://127.0.0.1:{port}"
    _say(f"starting the reference platform on {base}")
    log = open(state / "service.log", "ab")  # noqa: SIM115 - lives as long as the server
    server = subprocess.Popen(
        [sys.executable, "-m", "report_service", "serve", "--db", db, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise SystemExit(f"the service did not start; see {state / 'service.log'}")
        summary = walk_through(db, base, out)
        _say(f"wrote {out / 'summary.json'}")
        _say(f"API schema: {base}/docs   verification: {summary['verify_url']}")
        _say(f"sample ID numbers (synthetic): {', '.join(summary['sample_id_numbers'])}")
        _say(
            f"a login QR payload: .venv/bin/report-service issue-login-qr --db {db} --id-number <ID>"
        )
        if sys.stdin.isatty() and not os.environ.get("CI"):
            _say("serving until Ctrl-C")
            server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


def walk_through(db: str, base: str, out: Path) -> dict[str, object]:
    person, samples, records = _demo_person()
    token = _cli("terminals", "add-token", "--db", db, "--hall", "demo-hall", "--region", REGION)
    terminal = TerminalClient.enroll(base, token)
    _say(f"enrolled terminal {terminal.terminal_id}")
    session = terminal.login_card(str(person["id_number"]), str(person["name"]))
    names = [e["name"] for e in session["enterprises"]]
    _say(
        f"card login: {session['person']['name']} represents {len(names)} enterprise(s): {'、'.join(names)}"
    )
    today = dt.datetime.now(CST).date()
    start = max(today.replace(year=today.year - 3), load_profile(REGION).floor_date or today)
    # the enterprise with the most records makes the fuller report
    uscc = max(session["enterprises"], key=lambda e: records.get(e["uscc"], 0))["uscc"]
    response = terminal.report(session["session_token"], uscc, start.isoformat(), today.isoformat())
    if response.status_code != 201:
        raise SystemExit(f"report refused: {response.text}")
    report = response.json()
    pdf = terminal.request(
        "GET", f"/v1/reports/{report['report_id']}/pdf", token=session["session_token"]
    )
    platform_key = crypto.load_public_key(terminal.enrollment["platform_public_key"])
    signature_ok = crypto.verify(platform_key, report["signature"], pdf.content)
    sha_ok = hashlib.sha256(pdf.content).hexdigest() == report["sha256"]
    (out / "report.pdf").write_bytes(pdf.content)
    verify_url = f"{base}/v1/verify/{report['verification_code']}"
    verified = httpx.get(verify_url).json()
    _say(
        f"report {report['report_id']}: {report['summary']['total_records']} record(s), "
        f"signature {'ok' if signature_ok and sha_ok else 'BAD'}, verification {verified['status']}"
    )
    summary = {
        "report_id": report["report_id"],
        "verification_code": report["verification_code"],
        "total_records": report["summary"]["total_records"],
        "signature_ok": signature_ok and sha_ok,
        "verify_status": verified["status"],
        "verify_url": verify_url,
        "sample_id_numbers": samples,
        "artifacts": {"report_pdf": "report.pdf"},
    }
    (out / "summary.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return summary


if __name__ == "__main__":
    sys.exit(main())
