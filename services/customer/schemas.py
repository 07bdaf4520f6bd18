"""Request and response bodies of the customer API, split by role (create, update, public)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.customer.domain import Customer
from shared.platform.errors import ErrorBody as PlatformErrorBody

ContactKind = Literal["email", "phone"]
Channel = Literal["email", "sms", "phone", "social"]
InteractionKind = Literal["call", "email", "meeting", "visit", "note"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Versioned(_Body):
    """Optimistic concurrency: the version the caller decided on (409 if it moved on)."""

    expected_version: int | None = Field(default=None, ge=1, description="Omit to skip the check.")


class CustomerCreate(_Body):
    """A new customer: a name in any script and at least one email or phone."""

    name: str = Field(min_length=1, max_length=200, examples=["张伟"])
    emails: list[str] = Field(default_factory=list, max_length=20, examples=[["zhang.wei@example.cn"]])
    phones: list[str] = Field(default_factory=list, max_length=20, examples=[["+86 138 1234 5678"]])
    address: str | None = Field(default=None, max_length=500)
    source: str = Field(default="api", max_length=50, examples=["web"])
    tags: list[str] = Field(default_factory=list, max_length=50)
    consent: dict[Channel, bool] = Field(default_factory=dict, examples=[{"email": True}])
    id: UUID | None = Field(default=None, description="Client-chosen id; registering it again is a no-op.")


class CustomerUpdate(Versioned):
    """Profile fields to change; omitted fields keep their value."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    source: str | None = Field(default=None, max_length=50)
    tags: list[str] | None = Field(default=None, max_length=50)


class ContactPointCreate(Versioned):
    """An email or phone to add (phones are normalised to E.164)."""

    kind: ContactKind
    value: str = Field(min_length=1, max_length=320)


class InteractionCreate(Versioned):
    """A call, email, meeting, visit or note with the customer."""

    kind: InteractionKind
    summary: str = Field(min_length=1, max_length=4000)
    occurred_at: AwareDatetime = Field(description="When it happened, with a timezone.")


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


class CustomerPublic(BaseModel):
    """A customer as the API shows it."""

    id: UUID
    version: int
    name: str
    emails: list[str]
    phones: list[str]
    address: str | None
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


class ErrorBody(PlatformErrorBody):
    """Why a command was refused; a merged customer's answer also names the survivor."""

    survivor_id: UUID | None = Field(default=None, description="Set when the customer was merged away.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid bearer token"},
    403: {"model": ErrorBody, "description": "The caller's roles do not allow this"},
    404: {"model": ErrorBody, "description": "No such customer (or contact point)"},
    409: {"model": ErrorBody, "description": "Stale `expected_version`, merged customer, or a rule of its state"},
    410: {"model": ErrorBody, "description": "The customer was erased"},
}
