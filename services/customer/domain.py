"""The customer aggregate and its (private) events; the errors its rules raise are re-exported here.

Commands validate and normalise first, then call a private `@event` method, so an
invalid command records nothing and replaying the log never re-runs a check that
may have changed since. Events whose stored shape changed declare a `class_version`
and an `upcast_v1_v2`, so events stored before the change still replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from services.customer import address as postal
from services.customer import contact
from services.customer.address import Address
from services.customer.contact import CustomerError, InvalidContactPoint, InvalidInput
from services.customer.domain_errors import (
    CannotMergeIntoSelf,
    CannotRemoveLastContactPoint,
    ContactPointNotFound,
    CustomerErased,
    CustomerMerged,
    CustomerNotFound,
    DuplicateContactPoint,
    StaleVersion,
)

__all__ = [
    "CHANNELS",
    "INTERACTION_KINDS",
    "CannotMergeIntoSelf",
    "CannotRemoveLastContactPoint",
    "ContactPointNotFound",
    "Customer",
    "CustomerErased",
    "CustomerError",
    "CustomerMerged",
    "CustomerNotFound",
    "DuplicateContactPoint",
    "InvalidContactPoint",
    "InvalidInput",
    "StaleVersion",
]

CHANNELS = ("email", "sms", "phone", "social")
INTERACTION_KINDS = ("call", "email", "meeting", "visit", "note")
MAX_SUMMARY_LENGTH = 4000

PII_FIELDS: dict[str, tuple[str, ...]] = {
    "Customer.Registered": ("name", "emails", "phones", "address"),
    "Customer.ProfileUpdated": ("name", "address"),
    "Customer.ContactPointAdded": ("value",),
    "Customer.ContactPointRemoved": ("value",),
    "Customer.InteractionRecorded": ("summary",),
    "Customer.Absorbed": ("emails", "phones"),
}
"""Personal fields of each event, sealed with the customer's own key in the store."""


class Customer(Aggregate):
    """A person or company we sell to; the root of customer data management."""

    class_version = 2  # v2: `address` is a structured `Address`, no longer one line of text
    upcast_v1_v2 = staticmethod(postal.upcast_v1_state)  # snapshots taken before v2

    class Registered(Aggregate.Created):
        """v2 records the address structured; v1 events in the store held one line of text."""

        class_version = 2
        upcast_v1_v2 = staticmethod(postal.upcast_v1_state)

        name: str
        emails: list[str]
        phones: list[str]
        address: Address | None
        source: str
        tags: list[str]
        consent: dict[str, bool]

    class ProfileUpdated(Aggregate.Event):
        """v2 records the address structured, and its removal as `address_cleared` (v1 used "")."""

        class_version = 2

        name: str | None
        address: Address | None
        source: str | None
        tags: list[str] | None
        address_cleared: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["address_cleared"] = state.get("address") == ""
            postal.upcast_v1_state(state)

    if TYPE_CHECKING:  # the @event decorators define these classes at runtime; this tells mypy
        ContactPointAdded: ClassVar[type[Aggregate.Event]]
        ContactPointRemoved: ClassVar[type[Aggregate.Event]]
        InteractionRecorded: ClassVar[type[Aggregate.Event]]
        ConsentChanged: ClassVar[type[Aggregate.Event]]
        MergedInto: ClassVar[type[Aggregate.Event]]
        Absorbed: ClassVar[type[Aggregate.Event]]
        Erased: ClassVar[type[Aggregate.Event]]

    @classmethod
    def register(
        cls,
        *,
        name: str,
        emails: Iterable[str],
        phones: Iterable[str],
        address: str | Mapping[str, Any] | None = None,
        source: str = "api",
        tags: Iterable[str] = (),
        consent: dict[str, bool] | None = None,
        region: str | None = None,
        customer_id: UUID | None = None,
    ) -> Customer:
        """Register a customer reachable by at least one email or phone.

        A phone without `+` is read in the country of the customer's address when it has
        one, else in `region` (the service's default): `138 1234 5678` for an address in CN.
        """
        canonical_address = postal.normalise(address) if address is not None else None
        region = (canonical_address["country"] if canonical_address else None) or region
        canonical_emails = _unique(contact.normalise_email(e) for e in _many(emails, "emails"))
        canonical_phones = _unique(contact.normalise_phone(p, region) for p in _many(phones, "phones"))
        if not canonical_emails and not canonical_phones:
            raise InvalidInput("a customer needs at least one email or phone")
        return cls(
            id=customer_id,
            name=contact.normalise_name(name),
            emails=canonical_emails,
            phones=canonical_phones,
            address=canonical_address,
            source=contact.normalise_label(source, "source"),
            tags=contact.normalise_tags(tags),
            consent=_initial_consent(consent or {}),
        )

    @event(Registered)
    def __init__(
        self,
        name: str,
        emails: list[str],
        phones: list[str],
        address: Address | None,
        source: str,
        tags: list[str],
        consent: dict[str, bool],
        id: UUID | None = None,  # the library takes it as the aggregate id (or calls create_id)
    ) -> None:
        self.name = name
        self.emails = list(emails)
        self.phones = list(phones)
        self.address = postal.recorded(address)
        self.source = source
        self.tags = list(tags)
        self.consent = dict(consent)
        self.interactions: list[dict[str, Any]] = []
        self.merged_into: UUID | None = None
        self.merged_from: list[UUID] = []
        self.erased = False

    def ensure_active(self) -> None:
        """Refuse to act on a customer that was erased or merged away."""
        if self.erased:
            raise CustomerErased(self.id)
        if self.merged_into is not None:
            raise CustomerMerged(self.id, self.merged_into)

    def update_profile(
        self,
        *,
        name: str | None = None,
        address: str | Mapping[str, Any] | None = None,
        source: str | None = None,
        tags: Iterable[str] | None = None,
    ) -> None:
        """Change profile fields; only fields that really change are recorded (`address=""` clears)."""
        self.ensure_active()
        new_name = contact.normalise_name(name) if name is not None else self.name
        new_address = postal.normalise(address) if address is not None else self.address
        new_source = contact.normalise_label(source, "source") if source is not None else self.source
        new_tags = contact.normalise_tags(tags) if tags is not None else self.tags
        if (new_name, new_address, new_source, new_tags) == (self.name, self.address, self.source, self.tags):
            return
        self._update_profile(
            name=_changed(new_name, self.name),
            address=_changed(new_address, self.address),
            address_cleared=new_address is None and self.address is not None,
            source=_changed(new_source, self.source),
            tags=_changed(new_tags, self.tags),
        )

    @event(ProfileUpdated)
    def _update_profile(
        self,
        name: str | None = None,
        address: Address | None = None,
        source: str | None = None,
        tags: list[str] | None = None,
        address_cleared: bool = False,
    ) -> None:
        # None means unchanged; the address's removal is said by `address_cleared`.
        if name is not None:
            self.name = name
        if address_cleared or address is not None:
            self.address = None if address_cleared else postal.recorded(address)
        if source is not None:
            self.source = source
        if tags is not None:
            self.tags = list(tags)

    def add_contact_point(self, kind: str, value: str, region: str | None = None) -> None:
        """Add an email or phone, normalised first so the same number in another format is a duplicate.

        A phone without `+` is read in the country of the customer's address, else in `region`.
        """
        self.ensure_active()
        canonical = contact.normalise_contact_point(kind, value, self._region(region))
        if canonical in self._points(kind):
            raise DuplicateContactPoint(kind, canonical)
        self._add_contact_point(kind=kind, value=canonical)

    def _region(self, default: str | None) -> str | None:
        """Where a number without `+` is read: the address's country, else the service's default."""
        country = self.address.get("country") if isinstance(self.address, Mapping) else None
        return str(country) if country else default

    @event("ContactPointAdded")
    def _add_contact_point(self, kind: str, value: str) -> None:
        self._points(kind).append(value)

    def remove_contact_point(self, kind: str, value: str, region: str | None = None) -> None:
        """Remove an email or phone, keeping the customer reachable."""
        self.ensure_active()
        canonical = contact.normalise_contact_point(kind, value, self._region(region))
        if canonical not in self._points(kind):
            raise ContactPointNotFound(kind, canonical)
        if len(self.emails) + len(self.phones) == 1:
            raise CannotRemoveLastContactPoint(kind, canonical)
        self._remove_contact_point(kind=kind, value=canonical)

    @event("ContactPointRemoved")
    def _remove_contact_point(self, kind: str, value: str) -> None:
        self._points(kind).remove(value)

    def record_interaction(self, kind: str, summary: str, occurred_at: datetime, recorded_by: str) -> UUID:
        """Record a call, email, meeting, visit or note; returns the interaction's id."""
        self.ensure_active()
        if kind not in INTERACTION_KINDS:
            raise InvalidInput(f"interaction kind must be one of {INTERACTION_KINDS}, not {kind!r}")
        interaction_id = uuid4()
        self._record_interaction(
            interaction_id=interaction_id,
            kind=kind,
            summary=_text(summary, "summary", MAX_SUMMARY_LENGTH),
            occurred_at=_utc(occurred_at),
            recorded_by=_text(recorded_by, "recorded_by", contact.MAX_NAME_LENGTH),
        )
        return interaction_id

    @event("InteractionRecorded")
    def _record_interaction(
        self, interaction_id: UUID, kind: str, summary: str, occurred_at: datetime, recorded_by: str
    ) -> None:
        self.interactions.append(
            {
                "id": interaction_id,
                "kind": kind,
                "summary": summary,
                "occurred_at": occurred_at,
                "recorded_by": recorded_by,
            }
        )

    def change_consent(self, channel: str, granted: bool) -> None:
        """Grant or withdraw marketing consent on one channel; no change records nothing."""
        self.ensure_active()
        if channel not in CHANNELS:
            raise InvalidInput(f"consent channel must be one of {CHANNELS}, not {channel!r}")
        if not isinstance(granted, bool):
            raise InvalidInput("consent must be true or false")
        if self.consent.get(channel) != granted:
            self._change_consent(channel=channel, granted=granted)

    @event("ConsentChanged")
    def _change_consent(self, channel: str, granted: bool) -> None:
        self.consent[channel] = granted

    def absorb(self, duplicate: Customer) -> None:
        """Merge `duplicate` into this customer, which takes its contact points and tags.

        Consent and interactions stay with the duplicate: consent is never inferred,
        and `merged_from` links the histories.
        """
        if duplicate.id == self.id:
            raise CannotMergeIntoSelf(self.id)
        self.ensure_active()
        duplicate.ensure_active()
        duplicate._merge_into(survivor_id=self.id)
        self._absorb(
            merged_id=duplicate.id,
            emails=_new_emails(self.emails, duplicate.emails),
            phones=[p for p in duplicate.phones if p not in self.phones],
            tags=[t for t in duplicate.tags if t not in self.tags],
        )

    @event("MergedInto")
    def _merge_into(self, survivor_id: UUID) -> None:
        self.merged_into = survivor_id

    @event("Absorbed")
    def _absorb(self, merged_id: UUID, emails: list[str], phones: list[str], tags: list[str]) -> None:
        # The event carries only what is new to the survivor.
        self.merged_from.append(merged_id)
        self.emails.extend(emails)
        self.phones.extend(phones)
        self.tags = sorted({*self.tags, *tags})

    def erase(self) -> None:
        """Erase the customer's personal data (GDPR); erasing twice is harmless.

        Allowed on a merged customer too: the right to erasure outlives a merge.
        """
        if not self.erased:
            self._erase()

    @event("Erased")
    def _erase(self) -> None:
        self.name = ""
        self.emails = []
        self.phones = []
        self.address = None
        self.tags = []
        for interaction in self.interactions:
            interaction["summary"] = ""
        self.erased = True

    def _points(self, kind: str) -> list[str]:
        return self.emails if kind == "email" else self.phones


def _many(values: Iterable[str], what: str) -> Iterable[str]:
    """Refuse a bare string where a list is meant (it would iterate per character)."""
    if isinstance(values, str):
        raise InvalidInput(f"{what} must be a list, not one string")
    return values


def _unique(values: Iterable[str]) -> list[str]:
    """Values without repeats, first occurrence first (the order the caller gave)."""
    return list(dict.fromkeys(values))


def _changed(new: Any, old: Any) -> Any:
    """`new` when it differs from `old`, else None (the event's "unchanged")."""
    return new if new != old else None


def _initial_consent(given: dict[str, bool]) -> dict[str, bool]:
    """Consent on every channel: withheld unless explicitly granted."""
    unknown = set(given) - set(CHANNELS)
    if unknown:
        raise InvalidInput(f"consent channels must be among {CHANNELS}, not {sorted(unknown)}")
    if not all(isinstance(granted, bool) for granted in given.values()):
        raise InvalidInput("consent must be true or false")
    return {channel: given.get(channel, False) for channel in CHANNELS}


def _text(value: str, what: str, max_length: int) -> str:
    """Non-empty trimmed text of bounded length."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must not be empty")
    if len(value.strip()) > max_length:
        raise InvalidInput(f"{what} must be at most {max_length} characters")
    return value.strip()


def _utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; a naive one is ambiguous and refused."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise InvalidInput("occurred_at must be a timezone-aware datetime")
    return moment.astimezone(UTC)


def _new_emails(mine: list[str], theirs: list[str]) -> list[str]:
    """`theirs` not already in `mine`, compared case-insensitively: `WANG@x.cn` and `wang@x.cn` reach one inbox."""
    seen = {e.casefold() for e in mine}
    new = []
    for email in theirs:
        if email.casefold() not in seen:
            seen.add(email.casefold())
            new.append(email)
    return new
