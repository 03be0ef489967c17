"""The real serial driver against the simulator on a real pseudo-terminal: reading, pacing,
card-leave detection, fault handling, health, config and privacy."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices import registry
from devices.errors import (
    ConfigError,
    DeviceOffline,
    DeviceTimeout,
    HardwareError,
    InputRejected,
    ProtocolError,
    UserActionError,
)
from devices.id_card.reader import SerialConfig, SerialIdCardReader
from devices.id_card.simulator import IdCardSimulator, SimulatedIdCardReader
from devices.state import DeviceState

from .test_id_card_samples import (
    BAD_CHECK_DIGIT,
    EXPIRED,
    FOREIGN_2017,
    FOREIGN_2023,
    HMT_PERMIT,
    RESIDENT,
    SECRETS,
    TODAY,
    write_cards_file,
)

CARDS = (RESIDENT, HMT_PERMIT, FOREIGN_2017, FOREIGN_2023, EXPIRED, BAD_CHECK_DIGIT)
REPLY_TIMEOUT = 0.5


@pytest.fixture
def sim() -> Iterator[IdCardSimulator]:
    simulator = IdCardSimulator(CARDS).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def reader(sim: IdCardSimulator) -> Iterator[SimulatedIdCardReader]:
    config = SerialConfig(sim.port, timeout_s=REPLY_TIMEOUT)
    device = SimulatedIdCardReader(config, sim, today=lambda: TODAY)
    yield device
    device.close()


def test_reads_a_resident_card_through_the_pty(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    sim.insert(0)
    card = reader.read_card(timeout=3)
    assert card == RESIDENT
    assert card is not None and card.photo == RESIDENT.photo and len(card.photo) == 1024
    assert [f.command for f in sim.received] == [
        "sam_status", "find_card", "select_card", "read_base_info",
    ]  # fmt: skip


@pytest.mark.parametrize("index", [1, 2, 3])
def test_reads_the_other_card_types(
    sim: IdCardSimulator, reader: SerialIdCardReader, index: int
) -> None:
    sim.insert(index)
    assert reader.read_card(timeout=3) == CARDS[index]


def test_no_card_returns_none_and_polls_no_faster_than_every_300_ms(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    started = time.monotonic()
    assert reader.read_card(timeout=1.5) is None
    assert time.monotonic() - started < 1.5 + REPLY_TIMEOUT
    finds = sim.times_of("find_card")
    assert 4 <= len(finds) <= 6  # 0, 0.3, ..., 1.5 s
    gaps = [b - a for a, b in itertools.pairwise(finds)]
    # the driver spaces its sends >= 0.3 s; 50 ms allows for when the simulator thread got the CPU
    assert min(gaps) >= 0.25, gaps
    # back-to-back calls keep the pace too
    reader.read_card(timeout=0.4)
    later = sim.times_of("find_card")
    assert len(later) == len(finds) + 1
    assert later[-1] - finds[-1] >= 0.25


def test_a_card_is_reported_once_until_it_leaves_the_field(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    sim.insert(0)
    assert reader.read_card(timeout=3) == RESIDENT
    assert reader.read_card(timeout=0.7) is None  # still lying on the reader
    assert sim.times_of("read_base_info").__len__() == 1
    assert reader.wait_card_removed(timeout=0.7) is False
    sim.remove()
    assert reader.wait_card_removed(timeout=2) is True
    sim.insert(0)
    assert reader.read_card(timeout=3) == RESIDENT


def test_expired_card_is_refused_once(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.insert(4)
    with pytest.raises(InputRejected) as caught:
        reader.read_card(timeout=3)
    assert caught.value.code == "id_card.expired"
    assert reader.read_card(timeout=0.5) is None  # not refused again at every poll


def test_bad_check_digit_is_refused(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.insert(5)
    with pytest.raises(InputRejected) as caught:
        reader.read_card(timeout=3)
    assert caught.value.code == "id_card.bad_id_number"


def test_one_garbled_reply_is_resent_and_read(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    sim.set_faults(bad_checksum=1, target="read_base_info")
    sim.insert(0)
    assert reader.read_card(timeout=3) == RESIDENT
    assert len(sim.times_of("read_base_info")) == 2


def test_garbled_sam_reply_at_open_is_resent(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    sim.set_faults(bad_checksum=1)
    assert reader.status().state is DeviceState.ONLINE
    assert len(sim.times_of("sam_status")) == 2


@pytest.mark.parametrize(
    ("fault", "code"),
    [("bad_checksum", "id_card.bad_checksum"), ("truncated", "id_card.truncated")],
)
def test_persistent_garbage_is_a_protocol_error(
    sim: IdCardSimulator, reader: SerialIdCardReader, fault: str, code: str
) -> None:
    sim.set_faults(**{fault: True, "target": "read_base_info"})
    sim.insert(0)
    with pytest.raises(ProtocolError) as caught:
        reader.read_card(timeout=3)
    assert caught.value.code == code
    assert len(sim.times_of("read_base_info")) == 2  # one resend, then give up
    sim.set_faults(**{fault: False})
    assert reader.read_card(timeout=3) == RESIDENT  # the driver resynchronised


def test_driver_resyncs_on_the_preamble_after_line_noise(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    sim.set_faults(noise=True)  # junk, including a false preamble start, before every reply
    sim.insert(2)
    assert reader.read_card(timeout=3) == FOREIGN_2017
    assert len(sim.times_of("read_base_info")) == 1  # no resend needed


def test_no_reply_is_a_timeout(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.set_faults(no_reply=True)
    started = time.monotonic()
    with pytest.raises(DeviceTimeout) as caught:
        reader.read_card(timeout=3)
    assert caught.value.code == "id_card.no_reply"
    assert time.monotonic() - started < 3
    assert reader.status().error_code == "id_card.no_reply"


def test_slow_reader_within_the_reply_timeout_still_reads(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    sim.set_faults(delay_s=0.2, target="read_base_info")
    sim.insert(1)
    assert reader.read_card(timeout=3) == HMT_PERMIT


def test_card_removed_mid_read(sim: IdCardSimulator, reader: SerialIdCardReader) -> None:
    sim.set_faults(remove_mid_read=1)
    sim.insert(0)
    with pytest.raises(UserActionError) as caught:
        reader.read_card(timeout=3)
    assert caught.value.code == "id_card.removed_mid_read"
    assert not sim.card_present
    sim.insert(0)
    assert reader.read_card(timeout=3) == RESIDENT


@pytest.mark.parametrize("sw3", [0x60, 0x66])
def test_sam_error_is_a_hardware_error_with_its_code(
    sim: IdCardSimulator, reader: SerialIdCardReader, sw3: int
) -> None:
    sim.set_faults(sam_error=sw3)
    with pytest.raises(HardwareError) as caught:
        reader.read_card(timeout=1)
    assert caught.value.code == "id_card.sam_error"
    assert f"SW3=0x{sw3:02X}" in str(caught.value)
    status = reader.status()
    assert (status.state, status.error_code) == (DeviceState.HARDWARE_ERROR, "id_card.sam_error")
    assert not reader.self_test().ok
    sim.set_faults(sam_error=None)
    assert reader.status().state is DeviceState.ONLINE  # recovers when the SAM does


def test_self_test_checks_without_reading_card_data(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    sim.insert(0)
    result = reader.self_test()
    assert result.ok and result.device == "id_card" and result.backend == "sim"
    assert any("SAM" in line for line in result.checks)
    assert any("a card is in the field" in line for line in result.checks)
    assert sim.times_of("read_base_info") == []


def test_status_is_busy_while_waiting_for_a_card(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    assert reader.status().state is DeviceState.ONLINE
    worker = threading.Thread(target=reader.read_card, args=(1.0,))
    worker.start()
    time.sleep(0.4)
    assert reader.status().state is DeviceState.BUSY
    worker.join()


def test_close_stops_a_waiting_read_and_the_simulator(
    sim: IdCardSimulator, reader: SerialIdCardReader
) -> None:
    errors: list[Exception] = []

    def wait() -> None:
        try:
            reader.read_card(timeout=10)
        except DeviceOffline as exc:
            errors.append(exc)

    worker = threading.Thread(target=wait)
    worker.start()
    time.sleep(0.5)
    started = time.monotonic()
    reader.close()
    worker.join(timeout=3)
    assert not worker.is_alive() and time.monotonic() - started < 2
    assert [e.code for e in errors] == ["id_card.closed"]  # type: ignore[attr-defined]
    assert not sim.running
    assert reader.status().state is DeviceState.OFFLINE


def test_a_whole_session_logs_no_pii(
    sim: IdCardSimulator, reader: SerialIdCardReader, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    sim.set_faults(bad_checksum=1, target="read_base_info")
    for index in (0, 1, 4, 5):
        sim.insert(index)
        try:
            card = reader.read_card(timeout=3)
            messages.append(repr(card))
        except (InputRejected, ProtocolError) as exc:
            messages.append(str(exc))
        sim.remove()
        assert reader.wait_card_removed(timeout=2)
    text = caplog.text + "\n".join(messages)
    assert "read a resident card" in caplog.text
    for secret in (*SECRETS, RESIDENT.address):
        assert secret not in text


# --- registry and config ---


def test_registry_builds_the_simulated_backend(tmp_path: Path) -> None:
    cards_file = write_cards_file(tmp_path / "cards.jsonl", (RESIDENT, FOREIGN_2017))
    device = registry.create("id_card", "sim", {"cards_file": str(cards_file), "insert": 1})
    try:
        assert isinstance(device, SimulatedIdCardReader)  # the serial driver on its pty
        card = device.read_card(timeout=3)
        assert card is not None
        assert card.as_dict(reveal=True) == FOREIGN_2017.as_dict(reveal=True)
        assert len(card.photo) == 1024
    finally:
        device.close()
    assert not device.simulator.running


def test_registry_sim_takes_inline_cards_and_faults() -> None:
    line = {**RESIDENT.as_dict(reveal=True), "valid_until": "长期"}
    device = registry.create(
        "id_card",
        "sim",
        {"cards": [line], "insert": 0, "faults": {"bad_checksum": 1}, "timeout_s": 0.5},
    )
    try:
        card = device.read_card(timeout=3)
        assert card is not None and card.id_number == RESIDENT.id_number
        assert card.valid_until is None
    finally:
        device.close()


def test_serial_backend_on_a_missing_port_reports_offline() -> None:
    device = registry.create("id_card", "serial", {"port": "/dev/does-not-exist", "timeout_s": 0.2})
    status = device.status()
    assert (status.state, status.error_code) == (DeviceState.OFFLINE, "id_card.port_unavailable")
    with pytest.raises(DeviceOffline):
        device.read_card(timeout=0.1)
    device.close()


@pytest.mark.parametrize(
    ("backend", "options", "words"),
    [
        ("serial", {}, "port is required"),
        (
            "serial",
            {"port": "/dev/ttyS0", "poll_interval_s": 0.1},
            "poll_interval_s must be at least 0.3",
        ),
        ("serial", {"port": "/dev/ttyS0", "baudrate": 12345}, "baudrate"),
        ("serial", {"port": "/dev/ttyS0", "timeout_s": "fast"}, "timeout_s must be a number"),
        ("serial", {"port": "/dev/ttyS0", "speed": 1}, "unknown option(s) speed"),
        ("sim", {"poll_interval_s": 0.2}, "poll_interval_s must be at least 0.3"),
        ("sim", {"faults": {"smoke": True}}, "unknown option(s) smoke"),
        ("sim", {"faults": {"sam_error": 0x90}}, "sam_error"),
        ("sim", {"insert": 0}, "insert must be the index"),
        ("sim", {"cards_file": "/nonexistent/cards.jsonl"}, "cannot read cards_file"),
    ],
)
def test_bad_config_is_refused_precisely(
    backend: str, options: dict[str, object], words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        registry.create("id_card", backend, options)
    assert words in str(caught.value)


def test_bad_cards_file_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "cards.jsonl"
    path.write_text('{"name": "测试甲", "birth_date": "1990-13-01"}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        registry.create("id_card", "sim", {"cards_file": str(path)})
    assert "line 1" in str(caught.value) and "birth_date" in str(caught.value)
