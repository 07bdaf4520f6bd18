"""The lead aggregate: capture, score, assign, qualify or disqualify, convert."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.sales.domain import InvalidTransition

OPEN, QUALIFIED, DISQUALIFIED, CONVERTED = "open", "qualified", "disqualified", "converted"


class Lead(Aggregate):
    """A person who may buy; their name, email and phone are sealed with the lead's key."""

    if TYPE_CHECKING:
        Captured: ClassVar[type[Aggregate.Event]]
        Scored: ClassVar[type[Aggregate.Event]]
        Assigned: ClassVar[type[Aggregate.Event]]
        Qualified: ClassVar[type[Aggregate.Event]]
        Disqualified: ClassVar[type[Aggregate.Event]]
        Converted: ClassVar[type[Aggregate.Event]]
        Engaged: ClassVar[type[Aggregate.Event]]
        Erased: ClassVar[type[Aggregate.Event]]

    @event("Captured")
    def __init__(
        self,
        name: str,
        company: str | None,
        email: str | None,
        phone: str | None,
        country: str | None,
        source: str,
        campaign_id: UUID | None,
        external_id: str | None,
        captured_by: str,
        consent: dict[str, bool] | None = None,
        id: UUID | None = None,
    ) -> None:
        self.name = name
        self.company = company
        self.email = email
        self.phone = phone
        self.country = country
        self.source = source
        self.campaign_id = campaign_id
        self.external_id = external_id
        self.captured_by = captured_by
        self.consent = dict(consent or {})
        self.status = OPEN
        self.owner: str | None = None
        self.score = 0
        self.reasons: list[str] = []
        self.clicks: list[str] = []
        self.customer_id: UUID | None = None
        self.opportunity_id: UUID | None = None
        self.erased = False

    @property
    def is_open(self) -> bool:
        """Still being worked: neither disqualified nor converted."""
        return self.status in (OPEN, QUALIFIED)

    def _ensure_open(self, action: str) -> None:
        if not self.is_open:
            raise InvalidTransition(f"cannot {action} a {self.status} lead")

    def rescore(self, score: int, reasons: list[str]) -> None:
        """Record a new score if it differs (reasons included)."""
        if (score, reasons) != (self.score, self.reasons):
            self._scored(score=score, reasons=reasons)

    @event("Scored")
    def _scored(self, score: int, reasons: list[str]) -> None:
        self.score = score
        self.reasons = list(reasons)

    def assign(self, owner: str, rule: str) -> None:
        """Give the lead an owner (no-op if they own it already)."""
        self._ensure_open("assign")
        if owner != self.owner:
            self._assigned(owner=owner, rule=rule)

    @event("Assigned")
    def _assigned(self, owner: str, rule: str) -> None:
        self.owner = owner

    def qualify(self, by: str) -> None:
        """Mark the lead worth pursuing."""
        if self.status != OPEN:
            raise InvalidTransition(f"cannot qualify a {self.status} lead")
        self._qualified(by=by)

    @event("Qualified")
    def _qualified(self, by: str) -> None:
        self.status = QUALIFIED

    def disqualify(self, reason: str, by: str) -> None:
        """Close the lead as not worth pursuing."""
        self._ensure_open("disqualify")
        self._disqualified(reason=reason, by=by)

    @event("Disqualified")
    def _disqualified(self, reason: str, by: str) -> None:
        self.status = DISQUALIFIED

    def convert(self, customer_id: UUID, opportunity_id: UUID | None, by: str, at: datetime) -> None:
        """Turn a qualified lead into a customer (and an opportunity)."""
        if self.status != QUALIFIED:
            raise InvalidTransition(f"only a qualified lead can be converted; this one is {self.status}")
        self._converted(
            customer_id=customer_id,
            opportunity_id=opportunity_id,
            by=by,
            at=at,
            name=self.name,
            company=self.company,
            email=self.email,
            phone=self.phone,
        )

    @event("Converted")
    def _converted(
        self,
        customer_id: UUID,
        opportunity_id: UUID | None,
        by: str,
        at: datetime,
        name: str,
        company: str | None,
        email: str | None,
        phone: str | None,
    ) -> None:
        # The person travels with the event so the relay can announce them to the customer service.
        self.status = CONVERTED
        self.customer_id = customer_id
        self.opportunity_id = opportunity_id

    def engage(self, click_id: str) -> bool:
        """Count one link click of the lead's person; False if this click was counted before."""
        if click_id in self.clicks or not self.is_open:
            return False
        self._engaged(click_id=click_id)
        return True

    @event("Engaged")
    def _engaged(self, click_id: str) -> None:
        self.clicks.append(click_id)

    def erase(self) -> None:
        """Forget the person (their customer was erased); the key is shredded by the application."""
        if not self.erased:
            self._erased()

    @event("Erased")
    def _erased(self) -> None:
        self.erased = True
        self.name, self.email, self.phone = "", None, None
