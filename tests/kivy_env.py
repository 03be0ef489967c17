"""Kivy for the screen tests: an offscreen SDL window (the environment is set here, before Kivy is
imported), a real Journey + JourneyRunner behind a real KioskApp, and touches through the Window.

Import this module before anything that imports Kivy: `from . import kivy_env  # isort: skip`.
"""

from __future__ import annotations

import os
import tempfile

# STACK-NOTES: offscreen SDL gives real OpenGL without a display; no argv parsing; a private KIVY_HOME
os.environ["SDL_VIDEODRIVER"] = "offscreen"
os.environ["KIVY_NO_ARGS"] = "1"
os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="kivy-home-")
os.environ["KIVY_NO_CONSOLELOG"] = "1"
os.environ["KIVY_NO_FILELOG"] = "1"

import dataclasses
import datetime as dt
import json
import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.config import Config

# the offscreen GL surface keeps the size the window is first created with: windows may shrink,
# never grow. 1920x1920 holds both landscape 1920x1080 and portrait 1080x1920
Config.set("graphics", "width", "1920")
Config.set("graphics", "height", "1920")
Config.set("graphics", "maxfps", "0")  # frames as fast as the tests ask for them

from kivy.clock import Clock  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.lang import Builder  # noqa: E402
from kivy.tests.common import GraphicUnitTest, UnitTestTouch  # noqa: E402
from kivy.uix.label import Label  # noqa: E402
from kivy.uix.widget import Widget  # noqa: E402

from kiosk.api_models import DomainResult, ObjectionDeadline, RecordLine, Verification  # noqa: E402
from kiosk.journey import Journey  # noqa: E402
from kiosk.periods import Bounds, Period  # noqa: E402
from kiosk.runner import JourneyRunner  # noqa: E402
from kiosk.steps import Snapshot, Step  # noqa: E402
from screens.app import KioskApp  # noqa: E402
from screens.robot import scroll_into_view, visible_widgets  # noqa: E402
from screens.voice import Voice  # noqa: E402
from screens.widgets import KioskButton  # noqa: E402

from .kiosk_fakes import ACME, BETA, CATALOG, TODAY, Card, FakeServices, report  # noqa: E402

__all__ = ["Card", "KioskTestCase", "Window", "sample_snapshots", "visible_widgets"]

PROFILES = Path(__file__).resolve().parents[1] / "report_service" / "profiles"


class ManualClock:
    """The journey's clock: moves only when a test says so (idle timeout without sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CardSlot:
    """The card reader as the runner sees it: a card is there once a test puts it down."""

    def __init__(self) -> None:
        self._cards: queue.Queue[Card] = queue.Queue()

    def put(self, card: Card) -> None:
        self._cards.put(card)

    def read_card(self, timeout: float) -> Card | None:
        try:
            return self._cards.get(timeout=min(timeout, 0.1))  # short, so stop() is quick
        except queue.Empty:
            return None


class QrSlot:
    """The camera as the runner sees it: a code is decoded once a test shows it."""

    def __init__(self) -> None:
        self._codes: queue.Queue[str] = queue.Queue()

    def show(self, text: str) -> None:
        self._codes.put(text)

    def next_code(self, timeout: float) -> str | None:
        try:
            return self._codes.get(timeout=min(timeout, 0.1))
        except queue.Empty:
            return None


class KioskTestCase(GraphicUnitTest):
    window_size = (1920, 1080)
    app: KioskApp

    def setUp(self) -> None:
        super().setUp()
        self.resize(self.window_size)
        self.taps = 0
        self.runner: JourneyRunner | None = None

    def tearDown(self, fake: bool = False) -> None:
        if not fake:
            if getattr(self, "app", None) is not None:
                self.app.dispatch("on_stop")
            if self.runner is not None:
                self.runner.stop()
                self.runner = None
        super().tearDown(fake=fake)

    # --- set-up ------------------------------------------------------------------------------
    def resize(self, size: tuple[int, int]) -> None:
        # setUp re-creates the SDL window at its default size while Window.size keeps the old value,
        # and setting an equal size does nothing: step off it first so SDL really resizes
        Window.size = (size[0] - 1, size[1] - 1)
        Window.size = size

    def start(
        self, services: FakeServices | None = None, *, voice: Voice | None = None, **hall: Any
    ) -> FakeServices:
        """A real Journey on a real JourneyRunner, and the app on the offscreen window; `hall`:
        the hall's name and the report's title, as the terminal's config and enrollment give."""
        self.services = services or FakeServices()
        self.clock = ManualClock()
        self.journey = Journey(
            self.services, idle_timeout_s=60, countdown_s=10, clock=self.clock, **hall
        )
        self.cards = CardSlot()
        self.camera = QrSlot()
        self.runner = JourneyRunner(
            self.journey, card_reader=self.cards, qr_source=self.camera, tick_s=0.05
        )
        self.runner.start()
        self.app = KioskApp(self.runner, voice=voice or Voice(None))
        self.render(self.app.build())
        self.wait_for(lambda: self.app.snapshot is not None)
        return self.services

    def start_offline(self) -> None:
        """The app alone, for rendering crafted Snapshots (no journey behind it)."""
        self.start()
        assert self.runner is not None
        self.runner.stop()
        self.runner = None

    # --- driving -----------------------------------------------------------------------------
    def settle(self, rounds: int = 1) -> None:
        """Run the Kivy thread's work (scheduled callbacks, layout, label textures) without drawing.

        A frame drawn by Mesa's llvmpipe costs 100-600 ms at 1920x1080 on this machine type, and
        what the tests measure (sizes, positions, texts, touches) is all settled before drawing.
        """
        for _ in range(rounds):
            Clock.tick()
            Builder.sync()
            Clock.tick_draw()
            Builder.sync()

    def draw(self) -> None:
        """One real frame (before a screenshot)."""
        self.advance_frames(1)

    def wait_for(self, condition: Callable[[], object], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.settle()
            if condition():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; last snapshot: {self.app.snapshot}")

    def wait_for_step(self, step: Step, timeout: float = 5.0) -> None:
        def shown() -> bool:
            snapshot = self.app.snapshot
            return snapshot is not None and snapshot.step is step and self.current == step.value

        self.wait_for(shown, timeout)
        self.settle(3)  # texture sizes feed back into layouts: let them settle

    def card_to_confirm(self) -> None:
        """A card on the reader, the default scope taken: the confirm screen."""
        self.cards.put(Card())
        self.wait_for_step(Step.CHOOSE_SCOPE)
        self.tap(self.button("下一步"))
        self.wait_for_step(Step.CONFIRM)

    @property
    def current(self) -> str:
        return str(self.app.root.ids.manager.current)

    def touch_at(self, x: float, y: float) -> None:
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()
        self.settle()

    def tap(self, widget: Widget) -> None:
        """Touch the middle of `widget`, scrolling it into view first as a person would."""
        scroll_into_view(widget)
        self.settle(2)
        self.taps += 1
        self.touch_at(*widget.to_window(*widget.center))

    def button(self, text: str) -> KioskButton:
        """The one visible button showing exactly `text`."""
        found = [
            w
            for w in visible_widgets(self.app.root)
            if isinstance(w, KioskButton) and w.text == text
        ]
        assert len(found) == 1, f"{len(found)} buttons say {text!r} on {self.current}"
        return found[0]

    def texts(self) -> list[str]:
        return [w.text for w in visible_widgets(self.app.root) if isinstance(w, Label) and w.text]

    def show(self, snapshot: Snapshot) -> None:
        self.app.render(snapshot)
        self.wait_for_step(snapshot.step)


def gansu_domains() -> tuple[tuple[str, str], ...]:
    """The 38 report domains of Gansu's profile: the longest list a hall has, real names."""
    data = json.loads((PROFILES / "gansu.json").read_text(encoding="utf-8"))
    return tuple((d["code"], d["name"]) for d in data["domains"])


def full_report(domains: tuple[tuple[str, str], ...], records: int = 2) -> tuple[DomainResult, ...]:
    """Results for every domain: `records` records in the first, the rest clean (the summary's
    longest realistic case: one domain with records, 37 without)."""
    lines = tuple(
        RecordLine(
            f"REC{i}",
            "administrative_penalty",
            "2025-03-10",
            "兰州市市场监督管理局",
            f"兰市监处罚〔2025〕{101 + i}号",
            "未按规定公示食品经营许可信息",
            "2025-09-01" if i == 0 else None,
        )
        for i in range(records)
    )
    first, *rest = domains
    return (
        DomainResult(first[0], first[1], clean=not lines, records=lines),
        *(DomainResult(code, name, clean=True, records=()) for code, name in rest),
    )


def sample_snapshots(language: str = "zh_CN", elderly: bool = False) -> dict[Step, Snapshot]:
    """One realistic Snapshot per step (the data a logged-in agent of two enterprises would see,
    in Gansu: 38 domains)."""
    meta = report(records=2).meta
    domains = gansu_domains()
    results = full_report(domains)
    base = Snapshot(
        step=Step.ATTRACT,
        person="张*",
        hall_name="兰州新区政务服务中心",
        login_method="card",
        enterprises=(ACME, BETA),
        enterprise=ACME,
        domains=domains,
        selected_domains=frozenset(code for code, _ in domains[:3]),
        period_preset="last_3_years",
        period=Period(dt.date(2023, 11, 22), TODAY),
        period_bounds=Bounds(dt.date(2021, 1, 1), 5, TODAY),
        floor="2021-01-01",
        report_title=CATALOG.report_title,
        results=results,
        total_records=sum(len(d.records) for d in results),
        report_id=meta.report_id,
        verification_code=meta.verification_code,
        valid_until=meta.valid_until.isoformat(),
        objection_record="REC0",
        objection_id="GS-OBJ-20261122-0007",
        objection_due="2026-11-27",
        staff_status={"a4_printer": "online", "receipt_printer": "paper_low", "id_card": "online"},
        show_back=False,  # Back where the journey offers it to this person: below
        language=language,
        elderly=elderly,
    )
    extra: dict[Step, dict[str, Any]] = {
        Step.ATTRACT: {"person": "", "enterprises": (), "enterprise": None},
        # the tallest scope screen: custom period open, with a message above it; Back leads to
        # the choice of enterprise (two of them)
        Step.CHOOSE_SCOPE: {
            "period_preset": None,
            "message_id": "period.before_floor",
            "show_back": True,
        },
        Step.CHOOSE_DOMAINS: {"show_back": True},
        Step.CONFIRM: {"show_back": True},
        Step.SUMMARY: {"show_back": True},
        Step.PRINTING: {"print_phase": "receipt"},
        Step.PRINT_FAILED: {"message_id": "error.paper_out"},
        Step.VERIFY_RESULT: {
            "verification": Verification(
                "valid",
                ACME.uscc,
                ACME.name,
                "2026-11-22",
                {"start": "2023-11-22", "end": "2026-11-22"},
                ("领域1", "领域2"),
            ),
            "show_back": True,
        },
        Step.OBJECTION: {"message_id": "objection.bad_phone", "show_back": True},
        Step.ERROR: {"message_id": "error.platform_unavailable", "person": ""},
        Step.OUT_OF_SERVICE: {"message_id": "error.out_of_service", "person": ""},
        Step.ENTER_USCC: {
            "enterprises": (),
            "enterprise": None,
            "offline": True,
            "message_id": "offline_mode.notice",
        },
        Step.QUEUING: {"offline": True},
        Step.QUEUED: {
            "offline": True,
            "ticket": "QT-7K3M-9Q2P-4X8A-BCDE",
            "pickup_after": "2026-11-22 11:00",
            "message_id": "offline_mode.receipt_failed",
        },
        Step.LOCKED: {
            "person": "",
            "message_args": {
                "message": "更换打印纸，约10分钟",
                "desk": "一楼综合咨询台（3号窗口）",
            },
        },
        Step.PICKUP_AUTH: {
            "person": "",
            "enterprises": (),
            "enterprise": None,
            "ticket": "QT-7K3M-9Q2P-4X8A-BCDE",
        },
    }
    return {step: dataclasses.replace(base, step=step, **extra.get(step, {})) for step in Step}


def screen_variants(language: str = "zh_CN", elderly: bool = False) -> list[tuple[str, Snapshot]]:
    """Every step's sample, and the variants of a screen that lay out differently: what the layout
    check renders."""
    samples = sample_snapshots(language, elderly)
    variants = [(step.value, snapshot) for step, snapshot in samples.items()]
    domains, summary, scope = (
        samples[Step.CHOOSE_DOMAINS],
        samples[Step.SUMMARY],
        samples[Step.CHOOSE_SCOPE],
    )
    unknown = Verification("unknown", "", "", "", {}, ())
    variants += [
        ("choose_domains_none", dataclasses.replace(domains, selected_domains=frozenset())),
        ("choose_domains_all", dataclasses.replace(
            domains, selected_domains=frozenset(code for code, _ in domains.domains))),
        ("choose_scope_preset", dataclasses.replace(
            scope, period_preset="last_1_year", message_id="")),
        ("summary_clean", dataclasses.replace(
            summary, results=full_report(summary.domains, records=0), total_records=0)),
        ("summary_one_record", dataclasses.replace(
            summary, results=full_report(summary.domains, records=1), total_records=1)),
        ("verify_unknown", dataclasses.replace(
            samples[Step.VERIFY_RESULT], verification=unknown)),
        ("error_no_enterprise", dataclasses.replace(
            samples[Step.ERROR], message_id="error.no_enterprise")),
        ("countdown", dataclasses.replace(scope, countdown=8, message_id="")),
        # a region whose periods may start anywhere from its floor (Gansu, Wuhai, Huzhou)
        ("choose_scope_from_floor", dataclasses.replace(
            scope, period_bounds=Bounds(dt.date(2021, 1, 1), 6, TODAY, from_floor=True))),
        ("objection_deadline", dataclasses.replace(
            samples[Step.OBJECTION], message_id="",
            objection_deadline=ObjectionDeadline(5, "deployment_default", "及时处理"))),
        ("confirm_sections", dataclasses.replace(samples[Step.CONFIRM], sections=(
            ("social_insurance_arrears", "企业参保欠缴"), ("housing_fund_arrears", "住房公积金欠缴")))),
        # Heihe: a chosen domain and the two sections every report has, one with a record
        ("summary_sections", dataclasses.replace(summary, total_records=1, results=(
            DomainResult("transport", "交通运输", clean=True, records=()),
            DomainResult("social_insurance_arrears", "企业参保欠缴", clean=False,
                         records=summary.results[0].records[:1], section=True),
            DomainResult("housing_fund_arrears", "住房公积金欠缴", clean=True, records=(),
                         section=True)))),
        ("objection_done_provisional", dataclasses.replace(
            samples[Step.OBJECTION_DONE], objection_due="2027-01-08",
            objection_due_provisional=True)),
        ("print_failed_staff_called", dataclasses.replace(
            samples[Step.PRINT_FAILED], help_state="open", service_desk="一楼综合咨询台")),
    ]  # fmt: skip
    return variants
