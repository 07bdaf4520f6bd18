"""The opportunity aggregate: a deal with a customer moving through the pipeline to won or lost."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from services.sales.domain import InvalidTransition

OPEN, WON, LOST = "open", "won", "lost"


class Opportunity(Aggregate):
    """A deal: amount in one currency, stage, probability, expected close date and owner."""

    if TYPE_CHECKING:
        Opened: ClassVar[type[Aggregate.Event]]
        StageChanged: ClassVar[type[Aggregate.Event]]
        Updated: ClassVar[type[Aggregate.Event]]
        Won: ClassVar[type[Aggregate.Event]]
        Lost: ClassVar[type[Aggregate.Event]]
        Reopened: ClassVar[type[Aggregate.Event]]
        Repointed: ClassVar[type[Aggregate.Event]]

    @event("Opened")
    def __init__(
        self,
        customer_id: UUID,
        name: str,
        amount: Decimal,
        currency: str,
        stage: str,
        probability: Decimal,
        close_date: str,
        owner: str,
        campaign_id: UUID | None,
        lead_id: UUID | None,
        at: datetime,
        id: UUID | None = None,
    ) -> None:
        self.customer_id = customer_id
        self.name = name
        self.amount = amount
        self.currency = currency
        self.stage = stage
        self.probability = probability
        self.close_date = close_date
        self.owner = owner
        self.campaign_id = campaign_id
        self.lead_id = lead_id
        self.status = OPEN
        self.history: list[dict[str, Any]] = [{"stage": stage, "at": at}]
        self.lost_reason: str | None = None
        self.competitor: str | None = None

    @property
    def expected_close_date(self) -> date:
        """The expected close date (stored as ISO text)."""
        return date.fromisoformat(self.close_date)

    def _ensure_open(self, action: str) -> None:
        if self.status != OPEN:
            raise InvalidTransition(f"cannot {action} a {self.status} opportunity")

    def move(self, stage: str, probability: Decimal, at: datetime) -> None:
        """Move to another stage; its default probability becomes the deal's."""
        self._ensure_open("move")
        if stage == self.stage:
            raise InvalidTransition(f"the opportunity is already in stage {stage}")
        self._moved(from_stage=self.stage, to_stage=stage, probability=probability, at=at)

    @event("StageChanged")
    def _moved(self, from_stage: str, to_stage: str, probability: Decimal, at: datetime) -> None:
        self.stage = to_stage
        self.probability = probability
        self.history.append({"stage": to_stage, "at": at})

    def update(
        self,
        amount: Decimal | None = None,
        probability: Decimal | None = None,
        close_date: str | None = None,
        owner: str | None = None,
    ) -> None:
        """Change amount, probability, close date or owner; only real changes are recorded."""
        self._ensure_open("change")
        new_amount = amount if amount != self.amount else None
        new_probability = probability if probability != self.probability else None
        new_close = close_date if close_date != self.close_date else None
        new_owner = owner if owner != self.owner else None
        if (new_amount, new_probability, new_close, new_owner) != (None, None, None, None):
            self._updated(amount=new_amount, probability=new_probability, close_date=new_close, owner=new_owner)

    @event("Updated")
    def _updated(
        self, amount: Decimal | None, probability: Decimal | None, close_date: str | None, owner: str | None
    ) -> None:
        self.amount = self.amount if amount is None else amount
        self.probability = self.probability if probability is None else probability
        self.close_date = close_date or self.close_date
        self.owner = owner or self.owner

    def win(self, amount: Decimal, at: datetime) -> None:
        """Close as won at the final amount."""
        self._ensure_open("win")
        self._won(amount=amount, at=at)

    @event("Won")
    def _won(self, amount: Decimal, at: datetime) -> None:
        self.status, self.amount, self.probability = WON, amount, Decimal(1)
        self.history.append({"stage": WON, "at": at})

    def lose(self, reason: str, competitor: str | None, at: datetime) -> None:
        """Close as lost, with why and to whom."""
        self._ensure_open("lose")
        self._lost(reason=reason, competitor=competitor, at=at)

    @event("Lost")
    def _lost(self, reason: str, competitor: str | None, at: datetime) -> None:
        self.status, self.probability = LOST, Decimal(0)
        self.lost_reason, self.competitor = reason, competitor
        self.history.append({"stage": LOST, "at": at})

    def reopen(self, stage: str, probability: Decimal, at: datetime) -> None:
        """Reopen a lost deal at `stage` (a won deal stays won)."""
        if self.status != LOST:
            raise InvalidTransition(f"only a lost opportunity can be reopened; this one is {self.status}")
        self._reopened(stage=stage, probability=probability, at=at)

    @event("Reopened")
    def _reopened(self, stage: str, probability: Decimal, at: datetime) -> None:
        self.status, self.stage, self.probability = OPEN, stage, probability
        self.lost_reason = self.competitor = None
        self.history.append({"stage": stage, "at": at})

    def repoint(self, customer_id: UUID) -> None:
        """Follow a customer merge: the deal now belongs to the survivor (no-op if it does)."""
        if customer_id != self.customer_id:
            self._repointed(customer_id=customer_id)

    @event("Repointed")
    def _repointed(self, customer_id: UUID) -> None:
        self.customer_id = customer_id
