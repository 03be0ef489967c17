"""The table of steps (kiosk/steps.py) and the typed intents (kiosk/intents.py): every step has a
rule and a screen, every intent a .kv or .py file names is one the journey has."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from kiosk.intents import intent, intents_of
from kiosk.journey import INTENTS, Journey
from kiosk.steps import PROGRESS, STEPS, Back, Device, Snapshot, Step, listening

ROOT = Path(__file__).resolve().parent.parent
# `app.intent('close_help')` in a .kv file, `self.intent("enter_staff_pin", pin)` in Python
NAMED_INTENT = re.compile(r"""\bintent\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")


def source_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py", "*.kv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def test_every_intent_named_in_a_kv_or_py_file_exists() -> None:
    named: dict[str, list[str]] = {}
    for path in source_files():
        for name in NAMED_INTENT.findall(path.read_text(encoding="utf-8")):
            named.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert len(named) >= 20, "the scan found too few intents to mean anything"
    unknown = {name: files for name, files in named.items() if name not in INTENTS}
    assert unknown == {}
    for name in INTENTS:
        assert callable(getattr(Journey, name))


def test_intents_are_exactly_the_marked_methods() -> None:
    class Machine:
        @intent
        def tap(self) -> None: ...

        def internal(self) -> None: ...

        @intent
        async def slow(self) -> None: ...

    assert intents_of(Machine) == {"tap", "slow"}
    # what the devices and the runner call is not something a screen may ask for
    assert {
        "card_presented",
        "qr_presented",
        "notice",
        "tick",
        "reset",
        "out_of_service",
    }.isdisjoint(INTENTS)


def test_a_screen_cannot_ask_for_anything_else() -> None:
    from . import kivy_env  # noqa: F401  # isort: skip  (sets up Kivy before it is imported)
    from screens.app import KioskApp

    app = KioskApp.__new__(KioskApp)  # no window: the check comes before the runner is used
    not_an_intent = "out_of_service"  # a journey method, but not one a touch may ask for
    with pytest.raises(ValueError, match="not an intent"):
        app.intent(not_an_intent)


def test_every_step_has_one_rule_and_a_screen_with_a_kv_file() -> None:
    assert set(STEPS) == set(Step)
    for step, rule in STEPS.items():
        assert (ROOT / "screens" / f"{rule.screen}.kv").is_file(), step
        assert (ROOT / "screens" / f"{rule.screen}.py").is_file(), step
        assert rule.progress is None or rule.progress in PROGRESS, step
        assert rule.home in (None, "button.home", "button.cancel"), step


def test_the_devices_are_read_where_the_journey_waits_for_them() -> None:
    assert listening(Device.CARD) == {Step.ATTRACT, Step.PICKUP_AUTH}
    assert listening(Device.QR) == {Step.ATTRACT, Step.VERIFY_SCAN, Step.PICKUP_AUTH}


def test_the_snapshot_answers_from_the_rule_of_its_step() -> None:
    attract = Snapshot(step=Step.ATTRACT)
    assert not attract.show_home and not attract.show_help and not attract.show_controls
    assert attract.session_ended and attract.staff_door and attract.progress == 0
    fetching = Snapshot(step=Step.FETCHING)
    assert fetching.show_home and fetching.home_label == "button.cancel"
    assert fetching.progress == PROGRESS.index("progress.summary")
    error = Snapshot(step=Step.ERROR)
    assert error.message_on_screen and error.session_ended and error.progress is None
    assert STEPS[Step.HELP].back is Back.RETURN and not STEPS[Step.HELP].back_button
