"""The bodies terminals send about themselves (DESIGN §3, §8), validated whole before anything is
written: unknown device kinds or states, absurd numbers and unknown fields are a 422."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from .vocabulary import (
    AVAILABILITY,
    CLIENT_ID,
    CODE,
    COMMAND_KINDS,
    DEVICE_STATES,
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
TEN_YEARS_S = 10 * 365 * 86_400


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeviceReport(_Strict):
    state: one_of(DEVICE_STATES)  # type: ignore[valid-type]
    paper: one_of(PAPER) | None = None  # type: ignore[valid-type]
    reasons: list[Code] = Field(default_factory=list, max_length=16)
    detail: ShortText = ""


class Devices(_Strict):
    id_card: DeviceReport | None = None
    qr_camera: DeviceReport | None = None
    a4_printer: DeviceReport | None = None
    receipt_printer: DeviceReport | None = None


class Queue(_Strict):
    pending: Annotated[int, Field(ge=0, le=1_000_000)]
    dead_letters: Annotated[int, Field(ge=0, le=1_000_000)]
    oldest_age_s: Annotated[int, Field(ge=0, le=TEN_YEARS_S)] | None = None


class CommandResult(_Strict):
    command_id: Annotated[str, StringConstraints(pattern=r"^C[0-9A-Z]{10,30}$")]
    status: Literal["executed", "failed"]
    detail: ShortText = ""


class Heartbeat(_Strict):
    interval_s: Annotated[int, Field(ge=10, le=300)]
    availability: one_of(AVAILABILITY)  # type: ignore[valid-type]
    reason: Code | None = None
    devices: Devices
    queue: Queue
    app_version: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z.+_-]{1,40}$")]
    uptime_s: Annotated[int, Field(ge=0, le=TEN_YEARS_S)]
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
    at: AwareDatetime  # with its offset: a terminal's clock zone is not assumed
    fields: dict[Code, FieldValue] = Field(default_factory=dict, max_length=32)


class Events(_Strict):
    events: list[Event] = Field(max_length=200)  # none: an answer of 0 accepted


class Assistance(_Strict):
    call_id: ClientId
    reason: one_of(HELP_REASONS)  # type: ignore[valid-type]
    step: Annotated[str, StringConstraints(pattern=f"^{STEP.pattern}$")]


class CommandBody(_Strict):
    kind: one_of(COMMAND_KINDS)  # type: ignore[valid-type]
    message: Annotated[str, StringConstraints(max_length=100)] = ""  # lock: shown on the screen
    ttl_s: Annotated[int, Field(ge=60, le=86_400)] = 900


class MaintenanceBody(_Strict):
    minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)]  # 0 ends the window
