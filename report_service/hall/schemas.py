"""The bodies terminals send about themselves (DESIGN §3, §8), validated whole before anything is
written: unknown device kinds or states, absurd numbers and unknown fields are a 422."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from ..clock import aware
from .vocabulary import (
    AVAILABILITY,
    CLIENT_ID,
    CODE,
    COMMAND_KINDS,
    DEVICE_STATES,
    HELP_REASON,
    HELP_REASONS,
    PAPER,
    STEP,
)


def one_of(table: Mapping[str, str]) -> Any:
    """A string that must be a key of `table` (the vocabulary is the one source of the values)."""

    def check(value: str) -> str:
        if value not in table:
            raise PydanticCustomError(
                "literal_error", "not one of: {allowed}", {"allowed": ", ".join(table)}
            )
        return value

    return Annotated[str, AfterValidator(check), Field(json_schema_extra={"enum": list(table)})]


Code = Annotated[str, StringConstraints(pattern=f"^{CODE.pattern}$")]
ClientId = Annotated[str, StringConstraints(pattern=f"^{CLIENT_ID.pattern}$")]
ShortText = Annotated[str, StringConstraints(max_length=200)]
Count = Annotated[int, Field(ge=0, le=1_000_000_000)]
# a device's or a command's free detail; JSON's null (in the published schema too) is none
Detail = Annotated[ShortText | None, AfterValidator(lambda value: value or "")]
TEN_YEARS_S = 10 * 365 * 86_400


def _whole(value: Any) -> Any:
    """A measured duration may come with a fraction (`time.monotonic()` differences): whole
    seconds are kept, as the dashboard shows them; NaN and infinities stay for the range check."""
    if isinstance(value, float) and math.isfinite(value) and not isinstance(value, bool):
        return math.floor(value)
    return value


Seconds = Annotated[int, BeforeValidator(_whole), Field(ge=0, le=TEN_YEARS_S)]


def _china_time_unless_said(value: Any) -> Any:
    """An event time without an offset is the hall's, the platform's zone (clock.aware)."""
    if isinstance(value, str):
        try:
            return aware(dt.datetime.fromisoformat(value))
        except ValueError:
            return value  # pydantic says what is wrong with it
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeviceReport(_Strict):
    """One device in devices/state.py's vocabulary (`DeviceStatus.as_dict()` is one as it is)."""

    state: one_of(DEVICE_STATES)  # type: ignore[valid-type]
    paper: one_of(PAPER) | None = None  # type: ignore[valid-type]
    reasons: list[Code] = Field(default_factory=list, max_length=16)
    detail: Detail = ""
    cover_open: bool | None = None
    error_code: Code | None = None


class Devices(_Strict):
    id_card: DeviceReport | None = None
    qr_camera: DeviceReport | None = None
    a4_printer: DeviceReport | None = None
    receipt_printer: DeviceReport | None = None


class Queue(_Strict):
    pending: Annotated[int, Field(ge=0, le=1_000_000)]
    dead_letters: Annotated[int, Field(ge=0, le=1_000_000)]
    oldest_age_s: Seconds | None = None


class CommandResult(_Strict):
    command_id: Annotated[str, StringConstraints(pattern=r"^C[0-9A-Z]{10,30}$")]
    status: Literal["executed", "failed"]
    detail: Detail = ""


class Heartbeat(_Strict):
    interval_s: Annotated[int, Field(ge=10, le=300)] = 30  # DESIGN §8's default
    availability: one_of(AVAILABILITY)  # type: ignore[valid-type]
    reason: Code | None = None
    devices: Devices
    queue: Queue
    # no spaces: digits split by spaces would slip past the personal-data scrub
    app_version: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_~()-]{0,39}$")]
    uptime_s: Seconds
    counters: dict[Code, Count] = Field(default_factory=dict, max_length=64)

    @field_validator("counters", mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> Any:
        """Errors by kind may come nested (`{"errors": {"paper_out": 2}}`): kept as
        `errors.paper_out`, as the kiosk sends them."""
        if not isinstance(value, dict):
            return value
        flat: dict[Any, Any] = {}
        for name, count in value.items():
            if isinstance(count, dict):
                flat.update({f"{name}.{inner}": n for inner, n in count.items()})
            else:
                flat[name] = count
        return flat

    last_error: Annotated[str, StringConstraints(max_length=200)] | None = None
    command_results: list[CommandResult] = Field(default_factory=list, max_length=50)


FieldValue = Annotated[str, StringConstraints(max_length=200)] | int | float | bool | None


class Event(_Strict):
    event_id: ClientId
    kind: Code
    at: Annotated[AwareDatetime, BeforeValidator(_china_time_unless_said)]
    fields: dict[Code, FieldValue] = Field(default_factory=dict, max_length=32)


class Events(_Strict):
    events: list[Event] = Field(max_length=200)  # none: an answer of 0 accepted


class Assistance(_Strict):
    call_id: ClientId
    # DESIGN §8's list ends with "…": a reason the dashboard has no words for is shown as sent
    reason: Annotated[
        str,
        StringConstraints(pattern=f"^{HELP_REASON.pattern}$"),
        Field(json_schema_extra={"examples": list(HELP_REASONS)}),
    ]
    step: Annotated[str, StringConstraints(pattern=f"^{STEP.pattern}$")]


LockMessage = Annotated[str, StringConstraints(max_length=100)]


class CommandArgs(_Strict):
    """A command's `args`, as the heartbeat's answer carries them (DESIGN §3)."""

    message: LockMessage = ""


class CommandBody(_Strict):
    kind: one_of(COMMAND_KINDS)  # type: ignore[valid-type]
    message: LockMessage = ""  # lock: shown on the screen (or in `args`)
    args: CommandArgs | None = None
    ttl_s: Annotated[int, Field(ge=60, le=86_400)] = 900  # past a default heartbeat or two

    @property
    def lock_message(self) -> str:
        return self.message or (self.args.message if self.args else "")


class MaintenanceBody(_Strict):
    minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)]  # 0 ends the window
