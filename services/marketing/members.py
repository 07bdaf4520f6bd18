"""Marketing's copy of a customer, kept from the customer stream (the audience).

The aggregate id is the customer id, so its personal data is sealed with a key of
that customer: erasing them shreds it. Every command is idempotent (a redelivered
event changes nothing), because the customer stream is consumed at least once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

PII_FIELDS: dict[str, tuple[str, ...]] = {
    "AudienceMember.Joined": ("name", "emails", "phones"),
    "AudienceMember.ProfileChanged": ("name",),
    "AudienceMember.ContactPointAdded": ("value",),
    "AudienceMember.ContactPointRemoved": ("value",),
    "AudienceMember.Absorbed": ("emails", "phones"),
}
"""Personal fields of each audience event, sealed with the customer's key in marketing's store."""


class AudienceMember(Aggregate):
    """A customer as marketing may reach them: contact points, tags, source, consent."""

    if TYPE_CHECKING:
        Joined: ClassVar[type[Aggregate.Event]]
        ProfileChanged: ClassVar[type[Aggregate.Event]]
        ContactPointAdded: ClassVar[type[Aggregate.Event]]
        ContactPointRemoved: ClassVar[type[Aggregate.Event]]
        ConsentChanged: ClassVar[type[Aggregate.Event]]
        Absorbed: ClassVar[type[Aggregate.Event]]
        MergedInto: ClassVar[type[Aggregate.Event]]
        Erased: ClassVar[type[Aggregate.Event]]

    @event("Joined")
    def __init__(
        self,
        name: str,
        emails: list[str],
        phones: list[str],
        source: str,
        tags: list[str],
        consent: dict[str, bool],
        id: UUID,
    ) -> None:
        self.name = name
        self.emails = list(emails)
        self.phones = list(phones)
        self.source = source
        self.tags = list(tags)
        self.consent = dict(consent)
        self.merged_into: UUID | None = None
        self.erased = False

    def change_profile(self, name: str | None, source: str | None, tags: list[str] | None) -> None:
        """Take the profile fields that changed (None: unchanged); a redelivery records nothing."""
        name = None if name == self.name else name
        source = None if source == self.source else source
        tags = None if tags is None or list(tags) == self.tags else list(tags)
        if (name, source, tags) != (None, None, None) and not self.erased:
            self._profile(name=name, source=source, tags=tags)

    @event("ProfileChanged")
    def _profile(self, name: str | None, source: str | None, tags: list[str] | None) -> None:
        self.name = self.name if name is None else name
        self.source = self.source if source is None else source
        self.tags = self.tags if tags is None else list(tags)

    def add_contact_point(self, kind: str, value: str) -> None:
        """An email or phone was added (again: nothing changes)."""
        if value not in self._points(kind) and not self.erased:
            self._add(kind=kind, value=value)

    @event("ContactPointAdded")
    def _add(self, kind: str, value: str) -> None:
        self._points(kind).append(value)

    def remove_contact_point(self, kind: str, value: str) -> None:
        """An email or phone was removed."""
        if value in self._points(kind):
            self._remove(kind=kind, value=value)

    @event("ContactPointRemoved")
    def _remove(self, kind: str, value: str) -> None:
        self._points(kind).remove(value)

    def change_consent(self, channel: str, granted: bool) -> None:
        """Consent on one channel, as the customer service recorded it."""
        if self.consent.get(channel) != granted:
            self._consent(channel=channel, granted=granted)

    @event("ConsentChanged")
    def _consent(self, channel: str, granted: bool) -> None:
        self.consent[channel] = granted

    def absorb(self, merged_id: UUID, emails: list[str], phones: list[str], tags: list[str]) -> None:
        """The survivor of a merge took over the duplicate's contact points and tags."""
        new = ([e for e in emails if e not in self.emails], [p for p in phones if p not in self.phones])
        new_tags = [t for t in tags if t not in self.tags]
        if any((*new, new_tags)):
            self._absorb(merged_id=merged_id, emails=new[0], phones=new[1], tags=new_tags)

    @event("Absorbed")
    def _absorb(self, merged_id: UUID, emails: list[str], phones: list[str], tags: list[str]) -> None:
        self.emails.extend(emails)
        self.phones.extend(phones)
        self.tags = sorted({*self.tags, *tags})

    def merge_into(self, survivor_id: UUID) -> None:
        """This customer was a duplicate; marketing now reaches the survivor instead."""
        if self.merged_into is None:
            self._merged(survivor_id=survivor_id)

    @event("MergedInto")
    def _merged(self, survivor_id: UUID) -> None:
        self.merged_into = survivor_id

    def erase(self) -> None:
        """Forget the customer (their key is shredded right after)."""
        if not self.erased:
            self._erase()

    @event("Erased")
    def _erase(self) -> None:
        self.name, self.emails, self.phones, self.tags, self.erased = "", [], [], [], True

    def _points(self, kind: str) -> list[str]:
        return self.emails if kind == "email" else self.phones
