"""The scripted walk-through of `kiosk demo` without a display: every screen, driven by touches.

It runs on a script thread beside the real app; each step does what a person would (a card on the
reader, a code to the camera, a touch on a button), waits for the screen that should follow, and saves a
screenshot. A step that goes wrong is recorded with `ok: false` and the rest of its scene is skipped.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devices.receipt.simulator import ReceiptSimulator
from kiosk.demo_rig import DEMO_STAFF_PIN, DemoPerson, Platform, Rig
from kiosk.offline import REPORT_REQUEST
from kiosk.steps import Step
from offline_cache import ItemState

from .dashboard_shots import DashboardCamera
from .robot import Robot, RobotError

log = logging.getLogger(__name__)

# indexes into the card simulator's cards (kiosk.demo_rig.demo_people)
CARD_TWO_ENTERPRISES, CARD_ONE_ENTERPRISE, CARD_EXPIRED, CARD_FOREIGN_2017, CARD_REFUSED = range(5)
READER_POLL_S = 0.3  # GA/T 467 readers are polled for a card about three times a second


class SceneFailed(Exception):
    pass


@dataclass
class WalkThrough:
    robot: Robot
    rig: Rig
    platform: Platform
    out: Path
    people: list[DemoPerson]
    steps: list[dict[str, Any]] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    dashboard: DashboardCamera | None = None  # the hall dashboard in Chromium, where there is one
    modes: dict[str, dict[str, Any]] = field(default_factory=dict)  # the other walks, by mode
    folder: str = "screens"  # where the current walk's screenshots go
    _receipts_seen: int = 0

    def __post_init__(self) -> None:
        self._receipts_seen = len(self.rig.receipts.receipts)  # the self-test's receipt came first

    # --- the pieces ----------------------------------------------------------------------------
    def step(
        self,
        name: str,
        expect: Step,
        action: Callable[[], None] | None = None,
        *,
        message: str | None = None,
    ) -> None:
        """Do `action`, wait for the `expect` screen (showing `message`), save a screenshot; raise
        SceneFailed to end the scene when that does not happen."""
        number = len(self.steps) + 1
        shot = Path(self.folder) / f"{number:02d}-{name}.png"
        entry: dict[str, Any] = {"name": name, "screen": expect.value, "screenshot": str(shot)}
        try:
            if action is not None:
                action()
            self.robot.wait_step(expect)
            if message is not None:
                self.robot.wait(lambda: self.message() == message, what=lambda: f"{message}")
            entry["ok"] = True
        except (RobotError, TimeoutError, OSError, RuntimeError) as exc:
            entry["ok"] = False
            entry["error"] = str(exc)
            log.error("walk-through step %s failed: %s", name, exc)
        entry["screen"] = self.robot.shown()[1]
        self.robot.screenshot(self.out / shot)
        self.steps.append(entry)
        where = self.folder.removeprefix("screens").strip("/")
        where, status = (where + "/" if where else ""), ("ok" if entry["ok"] else "FAILED")
        print(f"[demo] {where}{number:2d} {name:<28} {status}", flush=True)
        if not entry["ok"]:
            raise SceneFailed(name)

    @contextmanager
    def scene(self, name: str) -> Iterator[None]:
        try:
            yield
        except SceneFailed:
            log.error("scene %s stopped early", name)
        finally:
            self.go_home()

    @contextmanager
    def mode(self, name: str, **settings: Any) -> Iterator[None]:
        """Another walk (elderly, English, portrait): its steps and screenshots on their own,
        under `screens/<name>/` and `modes.<name>` in summary.json."""
        steps, folder = self.steps, self.folder
        self.steps, self.folder = [], f"screens/{name}"
        started = time.monotonic()
        try:
            yield
        finally:
            seconds = round(time.monotonic() - started, 1)
            self.modes[name] = {**settings, "steps": self.steps, "walk_through_s": seconds}
            self.steps, self.folder = steps, folder

    def failed_steps(self) -> list[str]:
        """The names of the steps that failed, the other modes' as `mode/name`."""
        failed = [s["name"] for s in self.steps if not s["ok"]]
        for mode, walk in self.modes.items():
            failed += [f"{mode}/{s['name']}" for s in walk["steps"] if not s["ok"]]
        return failed

    def go_home(self) -> None:
        self.rig.remove_card()
        # the reader must see the card gone, or it will not read it again
        time.sleep(READER_POLL_S * 3)
        self.rig.camera.clear()
        self.rig.kiosk.runner.submit(lambda j: j.reset()).result(10)
        self.robot.wait_step(Step.ATTRACT)

    def message(self) -> str:
        snapshot = self.robot.snapshot
        return "" if snapshot is None else snapshot.message_id

    def expect(self, condition: bool, what: str) -> None:
        if not condition:
            raise RobotError(what)

    def wait_receipt(self, name: str) -> None:
        """The next receipt, rendered to `name`.png and listed as artifact `name`_png."""
        receipts = self.rig.receipts.wait_for_receipts(self._receipts_seen + 1, timeout_s=30)
        self._receipts_seen = len(receipts)
        self.artifacts[f"{name}_png"] = str(
            save_receipt(self.rig.receipts, receipts[-1], self.out / f"{name}.png")
        )

    def t(self, message_id: str, **args: Any) -> str:
        return self.robot.t(message_id, **args)

    def show_dashboard(self, name: str, expect: Step, words: str) -> None:
        """The hall dashboard once it shows `words`, as staff see it (artifact `name`_png)."""
        camera = self.dashboard

        def look() -> None:
            if camera is None:
                return
            shot = self.out / f"{name}.png"
            seen = camera.shot(shot, words)
            self.artifacts[f"{name}_png"] = shot.name
            self.expect(seen, f"the hall dashboard did not show {words!r}")

        self.step(name, expect, look)

    # --- the scenes ----------------------------------------------------------------------------
    def run(self) -> None:
        started = time.monotonic()
        self.step("attract", Step.ATTRACT)
        with self.scene("card login, two enterprises, default path to paper"):
            self.card_to_paper()
        with self.scene("login QR, one enterprise, a few domains, an objection"):
            self.qr_with_choices()
        with self.scene("verify a report"):
            self.verify()
        with self.scene("help and staff"):
            self.help_and_staff()
        with self.scene("paper out and reprint"):
            self.paper_out()
        with self.scene("error screens"):
            self.errors()
        with self.scene("offline: queue, pickup receipt, drain, pickup"):
            self.offline()
        with self.scene("idle timeout"):
            self.idle_timeout()
        self.figures["walk_through_s"] = round(time.monotonic() - started, 1)

    def card_to_paper(self) -> None:
        two = self.people[CARD_TWO_ENTERPRISES]
        r = self.robot
        self.step(
            "card_on_reader",
            Step.CHOOSE_ENTERPRISE,
            lambda: self.rig.insert_card(CARD_TWO_ENTERPRISES),
        )
        taps_before = r.taps
        company = two.enterprises[1]
        self.step("choose_enterprise", Step.CHOOSE_SCOPE, lambda: r.tap_value(company))
        self.step("scope_defaults", Step.CONFIRM, lambda: r.tap(self.t("button.next")))
        self.step("summary_with_records", Step.SUMMARY, lambda: r.tap(self.t("confirm.go")))
        snapshot = r.snapshot
        assert snapshot is not None
        self.figures["verification_code"] = snapshot.verification_code
        before = self.a4_mtime()
        self.step("printed", Step.DONE, lambda: r.tap(self.t("summary.print")))
        self.figures["taps_to_print"] = r.taps - taps_before
        self.rig.wait_for(lambda: self.a4_mtime() > before, timeout=30)
        self.figures["time_to_paper_ms"] = round((time.monotonic() - r.touched_at) * 1000)
        self.artifacts["report_pdf"] = self.save_pdf("report.pdf")
        self.wait_receipt("receipt")
        self.step("finish", Step.ATTRACT, lambda: r.tap(self.t("done.finish")))

    def qr_with_choices(self) -> None:
        r = self.robot
        one = self.people[CARD_ONE_ENTERPRISE]
        payload = self.platform.login_qr(one.id_number)
        self.step("login_qr_to_camera", Step.CHOOSE_SCOPE, lambda: self.rig.camera.show(payload))
        self.rig.camera.clear()
        self.step("domain_picker", Step.CHOOSE_DOMAINS, lambda: r.tap(self.t("scope.some_domains")))
        for code in ("market_regulation", "taxation", "work_safety"):
            r.tap_value(code)
        self.step("domains_chosen", Step.CHOOSE_SCOPE, lambda: r.tap(self.t("domains.done")))
        r.tap(self.t("period.last_1_year"))
        self.step("period_last_year", Step.CHOOSE_SCOPE)
        self.step("confirm_choices", Step.CONFIRM, lambda: r.tap(self.t("button.next")))
        self.step("summary_one_record", Step.SUMMARY, lambda: r.tap(self.t("confirm.go")))
        self.step("objection_form", Step.OBJECTION, lambda: r.tap(self.t("summary.objection")))
        r.tap(self.t("objection.reason.already_repaired"))
        r.type_keys("13912345678")
        self.step("objection_filed", Step.OBJECTION_DONE, lambda: r.tap(self.t("objection.submit")))
        self.step("back_to_summary", Step.SUMMARY, lambda: r.tap(self.t("objection_done.back")))

    def verify(self) -> None:
        r = self.robot
        code = self.figures.get("verification_code")
        self.expect(bool(code), "no report was printed to verify")
        self.step("verify_scan", Step.VERIFY_SCAN, lambda: r.tap(self.t("attract.verify")))
        url = f"{self.platform.base_url}/v1/verify/{code}"
        self.step("verify_valid", Step.VERIFY_RESULT, lambda: self.rig.camera.show(url))
        self.rig.camera.clear()
        self.expect(self.t("verify.valid") in r.texts(), "the report was not shown as valid")

    def help_and_staff(self) -> None:
        r = self.robot
        self.step("help", Step.HELP, lambda: r.tap(self.t("attract.help")))
        self.show_dashboard("dashboard_help_call", Step.HELP, "办事人请求帮助")
        self.step("help_closed", Step.ATTRACT, lambda: r.tap(self.t("help.close")))
        self.step("staff_pin", Step.STAFF_PIN, r.unlock_staff)
        r.type_keys("0000")
        r.tap(self.t("staff.unlock"))
        self.robot.wait(lambda: self.t("staff.pin_refused") in r.banner(), what=lambda: "refusal")
        self.step("staff_pin_refused", Step.STAFF_PIN)
        r.type_keys(DEMO_STAFF_PIN)
        self.step("staff_devices", Step.STAFF, lambda: r.tap(self.t("staff.unlock")))

    def paper_out(self) -> None:
        r = self.robot
        cups, queue = self.rig.cups, "KioskA4"
        self.step(
            "card_on_reader_again",
            Step.CHOOSE_ENTERPRISE,
            lambda: self.rig.insert_card(CARD_TWO_ENTERPRISES),
        )
        r.tap_value(self.people[CARD_TWO_ENTERPRISES].enterprises[0])
        r.wait_step(Step.CHOOSE_SCOPE)
        r.tap(self.t("button.next"))
        r.wait_step(Step.CONFIRM)
        self.step("clean_summary", Step.SUMMARY, lambda: r.tap(self.t("confirm.go")))
        cups.set_reasons(queue, "media-empty-error")
        try:
            self.step("paper_out", Step.PRINT_FAILED, lambda: r.tap(self.t("summary.print")))
            self.show_dashboard("dashboard_paper_out", Step.PRINT_FAILED, "缺纸，请加纸")
        finally:
            cups.set_reasons(queue)
        before = self.a4_mtime()
        self.step("reprinted", Step.DONE, lambda: r.tap(self.t("print_failed.retry")))
        self.rig.wait_for(lambda: self.a4_mtime() > before, timeout=30)
        self.wait_receipt("receipt_after_reprint")

    def errors(self) -> None:
        self.step(
            "expired_card",
            Step.ATTRACT,
            lambda: self.rig.insert_card(CARD_EXPIRED),
            message="error.card_expired",
        )

    def offline(self) -> None:
        """The platform stops: card, credit code on the keypad, queued, pickup receipt; the
        platform starts again, the drain delivers; the receipt's QR, the card again, paper."""
        r = self.robot
        one = self.people[CARD_ONE_ENTERPRISE]
        company = one.enterprises[0]
        self.platform.stop()
        try:
            self.step(
                "platform_down",
                Step.ENTER_USCC,
                lambda: self.rig.insert_card(CARD_ONE_ENTERPRISE),
                message="offline_mode.notice",
            )
            self.step("uscc_typed", Step.ENTER_USCC, lambda: r.type_keys(company))
            self.step("offline_scope", Step.CHOOSE_SCOPE, lambda: r.tap(self.t("button.next")))
            self.step("offline_confirm", Step.CONFIRM, lambda: r.tap(self.t("button.next")))
            self.step("queued", Step.QUEUED, lambda: r.tap(self.t("confirm.go")))
            snapshot = r.snapshot
            assert snapshot is not None
            ticket = snapshot.ticket
            self.figures["pickup_ticket"] = ticket
            self.wait_receipt("pickup_receipt")
        finally:
            self.platform.start()
        self.step("queued_finish", Step.ATTRACT, lambda: r.tap(self.t("done.finish")))
        # the drain task delivers the request as soon as the platform answers
        self.step(
            "delivered",
            Step.ATTRACT,
            lambda: self.rig.wait_for(lambda: self.delivered(ticket), timeout=120),
        )
        self.go_home()
        self.step("pickup_scan", Step.PICKUP_AUTH, lambda: self.rig.camera.show(ticket))
        self.rig.camera.clear()
        self.step("pickup_summary", Step.SUMMARY, lambda: self.rig.insert_card(CARD_ONE_ENTERPRISE))
        snapshot = r.snapshot
        assert snapshot is not None
        self.figures["pickup_verification_code"] = snapshot.verification_code
        before = self.a4_mtime()
        self.step("pickup_printed", Step.DONE, lambda: r.tap(self.t("summary.print")))
        self.rig.wait_for(lambda: self.a4_mtime() > before, timeout=30)
        self.artifacts["pickup_report_pdf"] = self.save_pdf("pickup_report.pdf")
        self.wait_receipt("pickup_report_receipt")

    def delivered(self, ticket: str) -> bool:
        store = self.rig.kiosk.store
        found = None if store is None else store.outbox.find(REPORT_REQUEST, ticket)
        return found is not None and found.state is ItemState.DELIVERED

    def idle_timeout(self) -> None:
        r = self.robot
        self.step(
            "idle_session",
            Step.CHOOSE_ENTERPRISE,
            lambda: self.rig.insert_card(CARD_TWO_ENTERPRISES),
        )

        def counting() -> bool:
            snapshot = r.snapshot
            return snapshot is not None and snapshot.countdown is not None

        timeout = self.rig.kiosk.config.ui.idle_timeout_s + 10
        r.wait(counting, timeout, lambda: "no countdown")
        self.step("idle_countdown", Step.CHOOSE_ENTERPRISE)
        self.step("idle_wiped", Step.ATTRACT, lambda: r.wait(lambda: not counting(), timeout))
        self.expect(
            not any(self.people[0].masked in text for text in r.texts()),
            "the wiped session left the name on screen",
        )

    # --- artifacts -----------------------------------------------------------------------------
    def a4_mtime(self) -> float:
        path = self.rig.a4_output
        return path.stat().st_mtime if path.exists() else 0.0

    def save_pdf(self, name: str) -> str:
        target = self.out / name
        shutil.copyfile(self.rig.a4_output, target)
        return name

    def summary(self) -> dict[str, Any]:
        return {
            "steps": self.steps,
            "taps_to_print": self.figures.get("taps_to_print"),
            "time_to_paper_ms": self.figures.get("time_to_paper_ms"),
            "artifacts": {k: str(Path(v)) for k, v in self.artifacts.items()},
            "figures": self.figures,
            "modes": self.modes,
        }


def save_receipt(simulator: ReceiptSimulator, receipt: Any, path: Path) -> str:
    simulator.render_png(receipt, path)
    return path.name


def write_summary(out: Path, summary: dict[str, Any]) -> Path:
    path = out / "summary.json"
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
