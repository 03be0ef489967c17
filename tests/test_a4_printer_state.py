"""A4 printer pieces that need no cupsd: reason mapping, job snapshots, config, document checks."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.a4_printer.config import CupsConfig
from devices.a4_printer.documents import check_job_name, spooled_pdf
from devices.a4_printer.jobs import JobSnapshot, JobState
from devices.a4_printer.state_map import map_printer_state, split_reason, status_from_attributes
from devices.a4_printer.testpage import self_test_page
from devices.errors import ConfigError, DeviceError, InputRejected
from devices.state import DeviceState, DeviceStatus, PaperState

IDLE, PROCESSING, STOPPED = 3, 4, 5
ON, OFF, HW, BUSY = (
    DeviceState.ONLINE,
    DeviceState.OFFLINE,
    DeviceState.HARDWARE_ERROR,
    DeviceState.BUSY,
)
UNK, LOW, OUT, JAM = PaperState.UNKNOWN, PaperState.LOW, PaperState.OUT, PaperState.JAMMED

# printer-state, reasons, accepting -> state, paper, cover_open, error_code, usable, words in detail
TABLE = [
    (IDLE, [], True, ON, UNK, False, None, True, "ready"),
    (IDLE, ["none"], True, ON, UNK, False, None, True, "ready"),
    (PROCESSING, [], True, BUSY, UNK, False, None, True, "printing"),
    (IDLE, ["media-empty-error"], True, HW, OUT, False, "a4.paper_out", False, "paper out"),
    (IDLE, ["media-empty"], True, HW, OUT, False, "a4.paper_out", False, "paper out"),
    (IDLE, ["media-needed-warning"], True, HW, OUT, False, "a4.paper_out", False, "paper out"),
    (IDLE, ["media-low-report"], True, ON, LOW, False, None, True, "paper low"),
    (IDLE, ["media-jam"], True, HW, JAM, False, "a4.paper_jam", False, "paper jam"),
    (IDLE, ["media-jam-error"], True, HW, JAM, False, "a4.paper_jam", False, "paper jam"),
    (IDLE, ["cover-open-report"], True, HW, UNK, True, "a4.cover_open", False, "cover open"),
    (IDLE, ["door-open-error"], True, HW, UNK, True, "a4.cover_open", False, "cover open"),
    (IDLE, ["toner-low-warning"], True, ON, UNK, False, None, True, "toner low"),
    (IDLE, ["toner-empty-error"], True, HW, UNK, False, "a4.supply_empty", False, "empty"),
    (IDLE, ["offline-report"], True, OFF, UNK, False, "a4.offline", False, "offline"),
    (IDLE, ["offline"], True, OFF, UNK, False, "a4.offline", False, "offline"),
    (IDLE, ["connecting-to-device"], True, OFF, UNK, False, "a4.offline", False, "connecting"),
    (STOPPED, ["paused"], True, OFF, UNK, False, "a4.paused", False, "paused"),
    (STOPPED, [], True, OFF, UNK, False, "a4.paused", False, "stopped"),
    (IDLE, [], False, OFF, UNK, False, "a4.not_accepting", False, "not accepting"),
    (IDLE, ["com.acme-fuser-error"], True, HW, UNK, False, "a4.printer_error", False, "fuser"),
    (IDLE, ["cups-waiting-for-job-completed"], True, ON, UNK, False, None, True, "waiting"),
    (IDLE, ["output-area-full-error"], True, HW, UNK, False, "a4.output_full", False, "tray full"),
    (9, [], True, OFF, UNK, False, "a4.unknown_state", False, "unknown printer-state"),
    # a queue the backend stopped on an error: the error wins, the stop is still said
    (
        *(STOPPED, ["media-empty-error", "paused"], True),
        *(HW, OUT, False, "a4.paper_out", False, "stopped"),
    ),
    # the worst paper condition wins; warnings do not block
    (
        IDLE,
        ["media-low-report", "media-jam-error"],
        True,
        HW,
        JAM,
        False,
        "a4.paper_jam",
        False,
        "",
    ),
    (IDLE, ["media-low-warning", "toner-low-warning"], True, ON, LOW, False, None, True, "toner"),
]


@pytest.mark.parametrize(
    ("printer_state", "reasons", "accepting", "state", "paper", "cover", "code", "usable", "words"),
    TABLE,
)
def test_printer_state_and_reasons_map_to_the_state_model(
    printer_state: int,
    reasons: list[str],
    accepting: bool,
    state: DeviceState,
    paper: PaperState,
    cover: bool,
    code: str | None,
    usable: bool,
    words: str,
) -> None:
    status = map_printer_state(printer_state, reasons, accepting)
    assert (status.state, status.paper, status.cover_open, status.error_code) == (
        state,
        paper,
        cover,
        code,
    )
    assert status.usable is usable
    assert words in status.detail
    for reason in reasons:  # the technician sees the printer's own keyword
        if reason not in ("none", "paused"):
            assert reason in status.detail


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("media-empty-error", ("media-empty", "error")),
        ("toner-low-warning", ("toner-low", "warning")),
        ("offline-report", ("offline", "report")),
        ("media-jam", ("media-jam", None)),
        ("paused", ("paused", None)),
        ("-error", ("-error", None)),
    ],
)
def test_reason_suffixes_are_split(reason: str, expected: tuple[str, str | None]) -> None:
    assert split_reason(reason) == expected


def test_pycups_single_reason_string_and_message_are_read() -> None:
    status = status_from_attributes(
        {
            "printer-state": 5,
            "printer-state-reasons": "paused",  # pycups gives one value as a plain str
            "printer-is-accepting-jobs": True,
            "printer-state-message": "loading paper",
        }
    )
    assert status.state is DeviceState.OFFLINE
    assert status.error_code == "a4.paused"
    assert "loading paper" in status.detail


junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=40),
    st.lists(st.one_of(st.text(max_size=40), st.integers(), st.none()), max_size=6),
)


@settings(deadline=1000, max_examples=300)
@given(
    st.one_of(st.none(), st.integers(-5, 20)),
    st.lists(st.text(max_size=60), max_size=8),
    st.one_of(st.none(), st.booleans()),
    st.text(max_size=300),
)
def test_mapping_accepts_any_printer_answer(
    printer_state: int | None, reasons: list[str], accepting: bool | None, message: str
) -> None:
    status = map_printer_state(printer_state, reasons, accepting, message)
    assert isinstance(status, DeviceStatus)
    assert isinstance(status.paper, PaperState)
    assert (status.error_code is None) == (status.state in (ON, BUSY))


@settings(deadline=1000, max_examples=300)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "printer-state",
                "printer-state-reasons",
                "printer-is-accepting-jobs",
                "printer-state-message",
                "job-state",
                "job-state-reasons",
                "job-printer-state-message",
                "job-media-sheets-completed",
            ]
        ),
        junk,
    )
)
def test_attribute_readers_never_raise_on_mutated_answers(attrs: dict[str, object]) -> None:
    assert isinstance(status_from_attributes(attrs), DeviceStatus)
    snapshot = JobSnapshot.from_attributes(7, attrs)
    assert snapshot.state is None or snapshot.state in JobState


def test_job_snapshot_reads_a_cups_answer() -> None:
    snapshot = JobSnapshot.from_attributes(
        12,
        {
            "job-state": 9,
            "job-state-reasons": "processing-to-stop-point",
            "job-media-sheets-completed": 2,
            "job-printer-state-message": "",
        },
    )
    assert snapshot.state is JobState.COMPLETED and snapshot.state.finished
    assert snapshot.reasons == ("processing-to-stop-point",)
    assert snapshot.sheets == 2
    assert not JobState.STOPPED.finished  # a stopped job may still print when restarted


# -- config ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({}, "'queue'"),
        ({"queue": "has space"}, "queue"),
        ({"queue": "a/b"}, "queue"),
        ({"queue": "Q", "port": "631"}, "'port'"),
        ({"queue": "Q", "port": 70000}, "'port'"),
        ({"queue": "Q", "job_timeout_s": 0}, "'job_timeout_s'"),
        ({"queue": "Q", "poll_interval_s": True}, "'poll_interval_s'"),
        ({"queue": "Q", "server": ""}, "'server'"),
        ({"queue": "Q", "cancel_on_timeout": "yes"}, "'cancel_on_timeout'"),
        ({"queue": "Q", "tmp_dir": "/nonexistent/dir"}, "'tmp_dir'"),
        ({"queue": "Q", "job_options": {"sides": 2}}, "'job_options'"),
        ({"queue": "Q", "timeout": 5}, "'timeout'"),
    ],
)
def test_bad_config_is_refused_with_the_key_named(options: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as info:
        CupsConfig.from_options(options)
    assert words in info.value.detail


def test_config_defaults() -> None:
    config = CupsConfig.from_options({"queue": "KioskA4", "server": "/run/cups/cups.sock"})
    assert config.job_timeout_s == 120 and config.cancel_on_timeout and config.purge_finished_jobs
    assert config.port is None


# -- documents -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "11010519491231002X",  # an ID number
        "report 13800138000",  # a phone number
        "张三的报告",
        "",
        "x" * 65,
        "report\nname",
        " leading-space",
    ],
)
def test_job_names_that_could_carry_personal_data_are_refused(name: str) -> None:
    with pytest.raises(InputRejected) as info:
        check_job_name(name)
    assert info.value.code == "a4.job_name_rejected"


def test_plain_job_names_pass() -> None:
    for name in ("credit-report", "kiosk-self-test", "report 2025-11-22 p1"):
        assert check_job_name(name) == name


def test_bytes_are_spooled_to_a_private_file_that_is_removed(tmp_path: Path) -> None:
    data = self_test_page()
    with spooled_pdf(data, tmp_path, 10**6) as path:
        assert path.parent == tmp_path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes() == data
    assert not path.exists()
    with pytest.raises(RuntimeError), spooled_pdf(data, tmp_path, 10**6) as path:
        raise RuntimeError("submission failed")
    assert list(tmp_path.iterdir()) == []  # removed on failure too


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (b"", "a4.not_pdf"),
        (b"hello, not a pdf", "a4.not_pdf"),
        (b"%PDF-1.4" + b"0" * 2000, "a4.pdf_too_large"),
        ("/nonexistent/report.pdf", "a4.pdf_missing"),
        (12345, "a4.not_pdf"),
    ],
)
def test_bad_documents_are_refused(document: object, code: str, tmp_path: Path) -> None:
    with pytest.raises(DeviceError) as info, spooled_pdf(document, tmp_path, 1000):  # type: ignore[arg-type]
        pass
    assert info.value.code == code
    assert list(tmp_path.iterdir()) == []


def test_self_test_page_is_a_one_page_a4_pdf() -> None:
    page = self_test_page(("queue KioskA4",))
    assert page.startswith(b"%PDF-1.4") and page.rstrip().endswith(b"%%EOF")
    assert b"/MediaBox [0 0 595 842]" in page and b"queue KioskA4" in page
