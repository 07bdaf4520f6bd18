"""Public events of the customer service on `crm.customer.v1` (customer data management).

PII (names, contact points, addresses, interaction summaries) travels in these events;
`CustomerErasedV1` tells every subscriber to forget it.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.events import topics
from shared.events.base import CustomerKeyedEvent

ContactKind = Literal["email", "phone"]
InteractionKind = Literal["call", "email", "meeting", "visit", "note"]
ConsentChannel = Literal["email", "sms", "phone", "social"]


class CustomerEvent(CustomerKeyedEvent):
    """Base of the customer stream's events."""

    topic = topics.CUSTOMER


class CustomerRegisteredV1(CustomerEvent):
    """A new customer was registered, with their first contact points and consent."""

    event_type = "crm.customer.registered.v1"

    name: str = Field(description="Full name in any script, NFKC-normalised.")
    emails: list[str] = Field(description="Normalised email addresses.")
    phones: list[str] = Field(description="Phone numbers in E.164.")
    address: str | None = Field(default=None, description="Postal address as one line of text.")
    source: str = Field(description="Channel the customer came from, e.g. web, referral, lead, import.")
    tags: list[str] = Field(default_factory=list, description="Sorted, unique tags.")
    consent: dict[ConsentChannel, bool] = Field(
        default_factory=dict, description="Marketing consent per channel at registration."
    )


class CustomerProfileUpdatedV1(CustomerEvent):
    """Profile fields changed; `changed` names them, the others keep their value."""

    event_type = "crm.customer.profile_updated.v1"

    changed: list[Literal["name", "address", "source", "tags"]]
    name: str | None = None
    address: str | None = None
    source: str | None = None
    tags: list[str] | None = None


class CustomerContactPointAddedV1(CustomerEvent):
    """An email address or phone number was added to the customer."""

    event_type = "crm.customer.contact_point_added.v1"

    kind: ContactKind
    value: str = Field(description="Normalised email, or phone in E.164.")


class CustomerContactPointRemovedV1(CustomerEvent):
    """An email address or phone number was removed from the customer."""

    event_type = "crm.customer.contact_point_removed.v1"

    kind: ContactKind
    value: str


class CustomerInteractionRecordedV1(CustomerEvent):
    """A call, email, meeting, visit or note with the customer was recorded."""

    event_type = "crm.customer.interaction_recorded.v1"

    interaction_id: UUID
    kind: InteractionKind
    summary: str
    occurred_at: AwareDatetime
    recorded_by: str = Field(description="Subject of the user who recorded it.")


class CustomerConsentChangedV1(CustomerEvent):
    """The customer granted or withdrew marketing consent for one channel."""

    event_type = "crm.customer.consent_changed.v1"

    channel: ConsentChannel
    granted: bool


class CustomerMergedV1(CustomerEvent):
    """This customer was a duplicate and was merged into `survivor_id`; it takes no more commands."""

    event_type = "crm.customer.merged.v1"

    survivor_id: UUID


class CustomerDuplicateAbsorbedV1(CustomerEvent):
    """The surviving customer of a merge took over the duplicate's contact points and tags."""

    event_type = "crm.customer.duplicate_absorbed.v1"

    merged_id: UUID
    emails: list[str]
    phones: list[str]
    tags: list[str]


class CustomerErasedV1(CustomerEvent):
    """The customer was erased (GDPR): subscribers must delete every PII they hold about them."""

    event_type = "crm.customer.erased.v1"


EVENTS: tuple[type[CustomerEvent], ...] = (
    CustomerRegisteredV1,
    CustomerProfileUpdatedV1,
    CustomerContactPointAddedV1,
    CustomerContactPointRemovedV1,
    CustomerInteractionRecordedV1,
    CustomerConsentChangedV1,
    CustomerMergedV1,
    CustomerDuplicateAbsorbedV1,
    CustomerErasedV1,
)
