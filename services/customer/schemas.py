"""Request and response bodies of the customer API, split by role (create, update, public)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from services.customer.domain import Customer
from shared.events.timestamps import IsoDateTime
from shared.platform.problems import Problem

ContactKind = Literal["email", "phone"]
Channel = Literal["email", "sms", "phone", "social"]
InteractionKind = Literal["call", "email", "meeting", "visit", "note"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AddressIn(_Body):
    """A postal address in parts; only `lines` is required."""

    lines: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        min_length=1,
        max_length=4,
        description="Street, building, unit: 1 to 4 non-empty lines in the order they are written.",
        examples=[["建国路88号", "SOHO现代城A座1201"]],
    )
    city: str | None = Field(default=None, max_length=100, examples=["北京市"])
    region: str | None = Field(default=None, max_length=100, description="State, province or region.")
    postal_code: str | None = Field(default=None, max_length=100, examples=["100022"])
    country: str | None = Field(
        default=None,
        pattern="^[A-Za-z]{2}$",
        description="ISO 3166-1 alpha-2 code (stored upper case), e.g. CN.",
        examples=["CN"],
    )


LEGACY_ADDRESS = "北京市朝阳区建国路88号"
STRUCTURED_ADDRESS = {
    "lines": ["建国路88号", "SOHO现代城A座1201"],
    "city": "北京市",
    "postal_code": "100022",
    "country": "CN",
}
AddressInput = Annotated[
    Annotated[str, Field(max_length=500)] | AddressIn | None,
    Field(
        description=(
            "The address in parts, or (legacy clients) one line of text, which is kept whole as the "
            'address\'s only line. In an update, "" removes the address.'
        ),
        examples=[STRUCTURED_ADDRESS, LEGACY_ADDRESS],
    ),
]


def _example(summary: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"summary": summary, "value": value}


_ZHANG = {"name": "张伟", "emails": ["zhang.wei@example.cn"], "phones": ["+86 138 1234 5678"]}
REGISTER_EXAMPLES: dict[str, Any] = {
    "structured": _example("Address in parts", {**_ZHANG, "address": STRUCTURED_ADDRESS, "consent": {"email": True}}),
    "legacy": _example("Address as one line of text (legacy clients)", {**_ZHANG, "address": LEGACY_ADDRESS}),
}
UPDATE_EXAMPLES: dict[str, Any] = {
    "structured": _example("New address in parts", {"expected_version": 1, "address": STRUCTURED_ADDRESS}),
    "legacy": _example("New address as one line of text", {"expected_version": 1, "address": LEGACY_ADDRESS}),
    "remove": _example("Remove the address", {"expected_version": 2, "address": ""}),
}


class Versioned(_Body):
    """Optimistic concurrency: the version the caller decided on (409 if it moved on)."""

    expected_version: int | None = Field(default=None, ge=1, description="Omit to skip the check.")


Email = Annotated[str, Field(max_length=320, json_schema_extra={"format": "email"})]
"""An email address (RFC 5322 addr-spec; checked, and its domain lower-cased, by the domain model)."""
Tag = Annotated[str, Field(min_length=1, max_length=50)]


class CustomerCreate(_Body):
    """A new customer: a name in any script and at least one email or phone."""

    name: str = Field(min_length=1, max_length=200, examples=["张伟"])
    emails: list[Email] = Field(default_factory=list, max_length=20, examples=[["zhang.wei@example.cn"]])
    phones: list[str] = Field(default_factory=list, max_length=20, examples=[["+86 138 1234 5678"]])
    address: AddressInput = None
    source: str = Field(default="api", min_length=1, max_length=50, examples=["web"])
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    consent: dict[Channel, bool] = Field(default_factory=dict, examples=[{"email": True}])
    id: UUID | None = Field(default=None, description="Client-chosen id; registering it again is a no-op.")


class CustomerUpdate(Versioned):
    """Profile fields to change; omitted fields keep their value."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: AddressInput = None
    source: str | None = Field(default=None, min_length=1, max_length=50)
    tags: list[Tag] | None = Field(default=None, max_length=50)


class ContactPointCreate(Versioned):
    """An email or phone to add (phones are normalised to E.164)."""

    kind: ContactKind
    value: str = Field(min_length=1, max_length=320)


class InteractionCreate(Versioned):
    """A call, email, meeting, visit or note with the customer."""

    kind: InteractionKind
    summary: str = Field(min_length=1, max_length=4000)
    occurred_at: IsoDateTime = Field(description="When it happened, with a timezone.")


class ConsentChange(Versioned):
    """Grant or withdraw marketing consent for one channel."""

    granted: bool


class MergeRequest(_Body):
    """Fold the duplicate `merged_id` into the customer in the path."""

    merged_id: UUID
    expected_versions: dict[UUID, int] | None = None


class CustomerRef(BaseModel):
    """Where a command left the customer."""

    id: UUID
    version: int


class InteractionRef(CustomerRef):
    """The recorded interaction and the customer's new version."""

    interaction_id: UUID


class AddressPublic(BaseModel):
    """A postal address as recorded; an address given as one line of text has only that line."""

    lines: list[str]
    city: str | None
    region: str | None
    postal_code: str | None
    country: str | None = Field(description="ISO 3166-1 alpha-2 code, upper case.")


class CustomerPublic(BaseModel):
    """A customer as the API shows it."""

    id: UUID
    version: int
    name: str
    emails: list[str]
    phones: list[str]
    address: AddressPublic | None
    source: str
    tags: list[str]
    consent: dict[str, bool]
    interactions: list[dict[str, Any]]
    merged_into: UUID | None
    merged_from: list[UUID]
    erased: bool
    created_on: datetime
    modified_on: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerPublic:
        """The public view of an aggregate."""
        fields = {name: getattr(customer, name) for name in cls.model_fields if name not in ("id", "version")}
        return cls(id=customer.id, version=customer.version, **fields)


class CustomerSummaryPublic(BaseModel):
    """A search hit."""

    id: UUID
    version: int
    name: str
    emails: list[str]
    phones: list[str]
    tags: list[str]


class DuplicatePublic(BaseModel):
    """A likely duplicate with the evidence for it."""

    id: UUID
    score: float
    reasons: list[str]


class CustomerProblem(Problem):
    """Why a command was refused; a merged customer's answer also names the survivor."""

    survivor_id: UUID | None = Field(default=None, description="Set when the customer was merged away.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such customer (or contact point)"},
    409: {"model": CustomerProblem, "description": "Stale `expected_version`, merged customer, or a rule of its state"},
    410: {"description": "The customer was erased"},
}
