"""Public events of the customer service on `crm.customer.v1` (customer data management).

PII (names, contact points, addresses, interaction summaries) travels in these events;
`CustomerErasedV1` tells every subscriber to forget it.

Registration and profile updates are at v2 (structured `PostalAddress`); their v1
models stay, frozen, because v1 messages stay in the topic forever. `UPCASTS` turns
them into v2, so a subscriber using `REGISTRY.parse` handles only v2.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.events import topics
from shared.events.base import CustomerKeyedEvent
from shared.events.timestamps import IsoDateTime
from shared.events.upcasting import Upcast

ContactKind = Literal["email", "phone"]
InteractionKind = Literal["call", "email", "meeting", "visit", "note"]
ConsentChannel = Literal["email", "sms", "phone", "social"]
AddressLine = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
ProfileField = Literal["name", "address", "source", "tags"]


class PostalAddress(BaseModel):
    """A postal address in parts, so subscribers can segment by country or city without parsing text.

    An address only ever known as one line of text (every v1 address) is one `lines`
    entry with the other parts unknown: nothing is guessed from the text.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    lines: list[AddressLine] = Field(
        min_length=1,
        max_length=4,
        description="Street, building, unit: 1 to 4 non-empty lines in the order they are written.",
        examples=[["建国路88号", "SOHO现代城A座1201"]],
    )
    city: str | None = Field(default=None, description="City or locality, e.g. 北京市.")
    region: str | None = Field(default=None, description="State, province or region, e.g. 北京市 or CA.")
    postal_code: str | None = Field(default=None, description="Postal code as written in the country, e.g. 100022.")
    country: str | None = Field(
        default=None, pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code, upper case, e.g. CN."
    )

    @classmethod
    def from_line(cls, text: str | None) -> PostalAddress | None:
        """The address of a one-line v1 text (blank or null means none), kept whole as the first line."""
        return cls(lines=[text]) if text is not None and text.strip() else None


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


class CustomerRegisteredV2(CustomerEvent):
    """A new customer was registered, with their first contact points and consent.

    Supersedes `crm.customer.registered.v1`: the address is a structured `PostalAddress`
    instead of one line of text, so subscribers can segment by country and city and
    stop parsing strings. v1 messages are upcast to this version by the contract package.
    """

    event_type = "crm.customer.registered.v2"

    name: str = Field(description="Full name in any script, NFKC-normalised.")
    emails: list[str] = Field(description="Normalised email addresses.")
    phones: list[str] = Field(description="Phone numbers in E.164.")
    address: PostalAddress | None = Field(default=None, description="Postal address, if one was given.")
    source: str = Field(description="Channel the customer came from, e.g. web, referral, lead, import.")
    tags: list[str] = Field(default_factory=list, description="Sorted, unique tags.")
    consent: dict[ConsentChannel, bool] = Field(
        default_factory=dict, description="Marketing consent per channel at registration."
    )


class CustomerProfileUpdatedV2(CustomerEvent):
    """Profile fields changed; `changed` names them, the others keep their value.

    Supersedes `crm.customer.profile_updated.v1`: the address is a structured
    `PostalAddress` (the same change as `crm.customer.registered.v2`). v1 messages are
    upcast to this version by the contract package.
    """

    event_type = "crm.customer.profile_updated.v2"

    changed: list[ProfileField] = Field(description="The fields that changed; the others keep their value.")
    name: str | None = Field(default=None, description="The new name, if `name` changed.")
    address: PostalAddress | None = Field(
        default=None, description="The new address if `address` changed; null there means the address was removed."
    )
    source: str | None = Field(default=None, description="The new source channel, if `source` changed.")
    tags: list[str] | None = Field(default=None, description="The new sorted, unique tags, if `tags` changed.")


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
    occurred_at: IsoDateTime
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


def registered_v1_to_v2(event: CustomerRegisteredV1) -> CustomerRegisteredV2:
    """The v1 one-line address becomes the first line of a `PostalAddress`; nothing else changes."""
    fields = event.model_dump(exclude={"address"})
    return CustomerRegisteredV2(**fields, address=PostalAddress.from_line(event.address))


def profile_updated_v1_to_v2(event: CustomerProfileUpdatedV1) -> CustomerProfileUpdatedV2:
    """The v1 one-line address becomes the first line of a `PostalAddress`; a removed address stays null."""
    fields = event.model_dump(exclude={"address"})
    return CustomerProfileUpdatedV2(**fields, address=PostalAddress.from_line(event.address))


EVENTS: tuple[type[CustomerEvent], ...] = (
    CustomerRegisteredV1,
    CustomerRegisteredV2,
    CustomerProfileUpdatedV1,
    CustomerProfileUpdatedV2,
    CustomerContactPointAddedV1,
    CustomerContactPointRemovedV1,
    CustomerInteractionRecordedV1,
    CustomerConsentChangedV1,
    CustomerMergedV1,
    CustomerDuplicateAbsorbedV1,
    CustomerErasedV1,
)

UPCASTS: tuple[Upcast, ...] = (
    Upcast(CustomerRegisteredV1, CustomerRegisteredV2, registered_v1_to_v2),
    Upcast(CustomerProfileUpdatedV1, CustomerProfileUpdatedV2, profile_updated_v1_to_v2),
)
"""How the superseded versions of this stream become the current ones."""
