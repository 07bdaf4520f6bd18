"""The sales team registry: reps, their team, territories and whether they manage the team.

It drives both assignment (active non-manager reps take leads) and visibility (a
manager sees the records owned by the members of their team).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

REP_NAMESPACE = UUID("7e1d2c3b-4a59-4687-b6c5-d4e3f2a1b0c9")
CONTACTS_NAMESPACE = UUID("2f4e6d8c-1a3b-4c5d-9e8f-7a6b5c4d3e2f")


def rep_id(subject: str) -> UUID:
    """A rep's aggregate id, derived from their login subject (email)."""
    return uuid.uuid5(REP_NAMESPACE, subject.casefold())


class Rep(Aggregate):
    """A member of the sales team."""

    if TYPE_CHECKING:
        Registered: ClassVar[type[Aggregate.Event]]
        Changed: ClassVar[type[Aggregate.Event]]

    @event("Registered")
    def __init__(
        self, subject: str, name: str, team: str, territories: list[str], manager: bool, active: bool, id: UUID
    ) -> None:
        self._set(name, team, territories, manager, active)
        self.subject = subject

    def _set(self, name: str, team: str, territories: list[str], manager: bool, active: bool) -> None:
        self.name, self.team, self.territories = name, team, list(territories)
        self.manager, self.active = manager, active

    def change(self, name: str, team: str, territories: list[str], manager: bool, active: bool) -> None:
        """Change the rep's profile; nothing is recorded when nothing changed."""
        if (name, team, list(territories), manager, active) != (
            self.name,
            self.team,
            self.territories,
            self.manager,
            self.active,
        ):
            self._changed(name=name, team=team, territories=territories, manager=manager, active=active)

    @event("Changed")
    def _changed(self, name: str, team: str, territories: list[str], manager: bool, active: bool) -> None:
        self._set(name, team, territories, manager, active)


class CustomerContacts(Aggregate):
    """Emails the customer stream announced for a customer, to match marketing clicks to open leads.

    Sealed with the customer's key in the sales store; shredded when the customer is erased.
    """

    if TYPE_CHECKING:
        Recorded: ClassVar[type[Aggregate.Event]]
        Added: ClassVar[type[Aggregate.Event]]
        Forgotten: ClassVar[type[Aggregate.Event]]

    @event("Recorded")
    def __init__(self, emails: list[str], id: UUID) -> None:
        self.emails = list(emails)

    def add(self, emails: list[str]) -> None:
        """Remember more emails (the ones already known are skipped)."""
        new = [e for e in emails if e not in self.emails]
        if new:
            self._added(emails=new)

    @event("Added")
    def _added(self, emails: list[str]) -> None:
        self.emails += emails

    def forget(self) -> None:
        """Drop the emails (the customer was erased); idempotent."""
        if self.emails:
            self._forgotten()

    @event("Forgotten")
    def _forgotten(self) -> None:
        self.emails = []
