"""Request bodies of the report API (DESIGN §3), shared by the FastAPI routes and the fast path."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from identifiers import LONG_TERM

from .report_build import ReportRequest

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date(value: Any) -> Any:
    """Dates travel as YYYY-MM-DD text only: no numbers (epoch seconds) and no date-times."""
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return value
    raise PydanticCustomError("date_format", "not a YYYY-MM-DD date")


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
CARD_DATE = re.compile(r"[0-9]{8}")  # as the card's chip holds it: YYYYMMDD


def _card_expiry(value: Any) -> Any:
    """A card's 有效期至 as the card says it: YYYY-MM-DD, the chip's YYYYMMDD, or 长期 (None)."""
    if isinstance(value, str) and value.strip() == LONG_TERM:
        return None
    if isinstance(value, str) and CARD_DATE.fullmatch(value):
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class EnrollBody(_Strict):
    enrollment_token: str = Field(min_length=1, max_length=200)
    public_key: str = Field(min_length=1, max_length=100)
    hardware: dict[str, Any] = Field(default_factory=dict)


class IdCardBody(_Strict):
    id_number: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=30)
    valid_until: Annotated[IsoDate | None, BeforeValidator(_card_expiry)] = Field(
        default=None, description="card expiry (YYYY-MM-DD or YYYYMMDD); null or 长期 for long-term"
    )


class QueuedBody(_Strict):
    """Sent by a terminal's offline queue: the queued request's ticket (its Idempotency-Key)
    and when the terminal, having checked the QR while it was valid, queued it."""

    ticket: str = Field(min_length=1, max_length=128, pattern=r"^[!-~]+$")
    queued_at: int = Field(ge=0, le=2**40, description="unix seconds")


class QrBody(_Strict):
    payload: str = Field(min_length=1, max_length=1024)
    queued: QueuedBody | None = None


class Period(_Strict):
    from_: IsoDate = Field(alias="from")
    to: IsoDate


class ReportBody(_Strict):
    uscc: str = Field(min_length=1, max_length=32)
    domains: Literal["all"] | list[Annotated[str, Field(max_length=64)]] = Field(max_length=100)
    period: Period

    def to_request(self) -> ReportRequest:
        domains = self.domains if isinstance(self.domains, str) else tuple(self.domains)
        return ReportRequest(self.uscc.strip().upper(), domains, self.period.from_, self.period.to)


class ObjectionBody(_Strict):
    report_id: str = Field(min_length=1, max_length=32)
    record_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=1000)
    contact: str = Field(min_length=1, max_length=254)  # an e-mail may be long (is_contact)
