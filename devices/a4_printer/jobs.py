"""Print jobs as CUPS reports them, the result of a finished job and the errors of a failed one.

CUPS' `getJobs()` lists only unfinished jobs, so a job is tracked by its id with
`getJobAttributes(id)`; `job-state` is the IPP enum below.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import DeviceTimeout, HardwareError
from ..state import DeviceStatus
from .state_map import normalize_reasons


class JobState(enum.IntEnum):
    PENDING = 3
    HELD = 4
    PROCESSING = 5
    STOPPED = 6  # stuck until someone restarts it; treated as failed
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9

    @property
    def finished(self) -> bool:
        return self >= JobState.CANCELED

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class JobSnapshot:
    """One look at a job; `state` is None when CUPS sent a value outside the IPP enum."""

    job_id: int
    state: JobState | None
    reasons: tuple[str, ...] = ()  # job-state-reasons
    printer_message: str = ""  # job-printer-state-message
    sheets: int | None = None  # job-media-sheets-completed

    @classmethod
    def from_attributes(cls, job_id: int, attrs: Mapping[str, Any]) -> JobSnapshot:
        raw = attrs.get("job-state")
        try:
            state: JobState | None = JobState(raw) if isinstance(raw, int) else None
        except ValueError:
            state = None
        sheets = attrs.get("job-media-sheets-completed")
        return cls(
            job_id=job_id,
            state=state,
            reasons=normalize_reasons(attrs.get("job-state-reasons")),
            printer_message=" ".join(str(attrs.get("job-printer-state-message") or "").split())[
                :200
            ],
            sheets=sheets if isinstance(sheets, int) and not isinstance(sheets, bool) else None,
        )

    @property
    def label(self) -> str:
        return "unknown" if self.state is None else self.state.label


@dataclass(frozen=True, slots=True)
class JobResult:
    """A job CUPS reports completed: handed to the device, which may still be printing."""

    job_id: int
    queue: str
    sheets: int | None  # sheets CUPS counted, None when the backend does not tell
    elapsed_s: float  # submit -> completed as seen by the poller
    purged: bool  # the spooled document was removed from cupsd


class _JobErrorInfo:
    """What both job errors carry; no PII (ids, states and printer keywords only)."""

    job_id: int
    job_state: str
    cancelled: bool
    printer_status: DeviceStatus | None

    def _set_job_info(
        self, job_id: int, job_state: str, cancelled: bool, printer_status: DeviceStatus | None
    ) -> None:
        self.job_id = job_id
        self.job_state = job_state
        self.cancelled = cancelled
        self.printer_status = printer_status


class JobFailed(HardwareError, _JobErrorInfo):
    """The job ended without printing: aborted, canceled, stopped, or the queue stopped on an error."""

    def __init__(
        self,
        detail: str,
        *,
        code: str,
        job_id: int,
        job_state: str,
        cancelled: bool = False,
        printer_status: DeviceStatus | None = None,
    ) -> None:
        super().__init__(detail, code=code)
        self._set_job_info(job_id, job_state, cancelled, printer_status)


class JobTimeout(DeviceTimeout, _JobErrorInfo):
    """The job did not complete in time; `cancelled` says whether we cancelled it."""

    def __init__(
        self,
        detail: str,
        *,
        job_id: int,
        job_state: str,
        cancelled: bool,
        printer_status: DeviceStatus | None = None,
        code: str = "a4.job_timeout",
    ) -> None:
        super().__init__(detail, code=code)
        self._set_job_info(job_id, job_state, cancelled, printer_status)


def describe_failure(
    snapshot: JobSnapshot,
    queue: str,
    printer_status: DeviceStatus | None,
    cancelled: bool | None,
) -> str:
    """One technician line: job id, its state and reasons, the printer's state and reasons."""
    parts = [f"job {snapshot.job_id} on {queue!r} is {snapshot.label}"]
    if snapshot.reasons:
        parts.append(f"job reasons: {', '.join(snapshot.reasons)}")
    if snapshot.printer_message:
        parts.append(f"printer said: {snapshot.printer_message}")
    if printer_status is not None:
        parts.append(f"printer {printer_status.state.value}: {printer_status.detail}")
    if cancelled is True:
        parts.append("the job was cancelled")
    elif cancelled is False:
        parts.append("the job could NOT be cancelled and may still print")
    return "; ".join(parts)
