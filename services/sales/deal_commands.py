"""Opportunity commands: open, move stage, change, win, lose, reopen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

from services.sales import access, contact, money
from services.sales.domain import InvalidInput, StaleVersion
from services.sales.opportunities import Opportunity
from services.sales.store import SalesStore
from shared.platform.auth import Principal
from shared.platform.concurrency import retries_race


@dataclass(frozen=True)
class DealInput:
    """An opportunity to open (on its own or by converting a lead)."""

    name: str
    amount: Decimal
    currency: str
    expected_close_date: date
    stage: str | None = None


def _probability(value: Decimal) -> Decimal:
    if not Decimal(0) <= value <= Decimal(1):
        raise InvalidInput("probability must be between 0 and 1")
    return value


class DealCommands(SalesStore):
    """Opportunities through the configured pipeline."""

    def new_opportunity(
        self, customer_id: UUID, deal: DealInput, *, owner: str, campaign_id: UUID | None, lead_id: UUID | None
    ) -> Opportunity:
        """An opportunity at the first (or given) stage, with that stage's probability; not yet saved."""
        code = money.currency(deal.currency)
        stage = deal.stage or self.settings.pipeline.first
        return Opportunity(
            customer_id=customer_id,
            name=contact.text(deal.name, "name") or "",
            amount=money.amount(deal.amount, code),
            currency=code,
            stage=stage,
            probability=self.settings.pipeline.probability(stage),
            close_date=deal.expected_close_date.isoformat(),
            owner=owner,
            campaign_id=campaign_id,
            lead_id=lead_id,
            at=self.now(),
            id=uuid4(),
        )

    def open_opportunity(
        self, customer_id: UUID, deal: DealInput, user: Principal, owner: str | None, campaign_id: UUID | None
    ) -> Opportunity:
        """Open a deal for a customer; a rep always owns what they open, a manager may name the owner."""
        chosen = owner if owner and user.has_any("sales_manager", "integration") else user.subject
        self._ensure_in_team(user, chosen)
        opportunity = self.new_opportunity(customer_id, deal, owner=chosen, campaign_id=campaign_id, lead_id=None)
        self.store(opportunity)
        return opportunity

    def _ensure_in_team(self, user: Principal, owner: str) -> None:
        """A manager hands deals only to their team (admin and integrations to anyone)."""
        if not access.can_see(self.views.catch_up(), user, owner):
            raise InvalidInput(f"{owner} is not in your team")

    @retries_race(StaleVersion)
    def move_opportunity(
        self, opportunity_id: UUID, stage: str, user: Principal, expected_version: int | None
    ) -> Opportunity:
        """Move a deal to a configured stage (never after it closed)."""
        opportunity = self.load_for(Opportunity, opportunity_id, user, expected_version)
        opportunity.move(stage, self.settings.pipeline.probability(stage), self.now())
        self.store(opportunity)
        return opportunity

    @retries_race(StaleVersion)
    def change_opportunity(
        self,
        opportunity_id: UUID,
        user: Principal,
        expected_version: int | None,
        *,
        amount: Decimal | None = None,
        probability: Decimal | None = None,
        expected_close_date: date | None = None,
        owner: str | None = None,
    ) -> Opportunity:
        """Change amount, probability, close date or (for managers) owner."""
        opportunity = self.load_for(Opportunity, opportunity_id, user, expected_version)
        if owner is not None and not user.has_any("sales_manager"):
            raise InvalidInput("only a sales manager or admin may change the owner")
        if owner is not None:
            self._ensure_in_team(user, owner)
        opportunity.update(
            amount=None if amount is None else money.amount(amount, opportunity.currency),
            probability=None if probability is None else _probability(probability),
            close_date=None if expected_close_date is None else expected_close_date.isoformat(),
            owner=owner,
        )
        self.store(opportunity)
        return opportunity

    @retries_race(StaleVersion)
    def win_opportunity(
        self, opportunity_id: UUID, amount: Decimal | None, user: Principal, expected_version: int | None
    ) -> Opportunity:
        """Close a deal as won at the final amount (its current amount if none is given)."""
        opportunity = self.load_for(Opportunity, opportunity_id, user, expected_version)
        final = opportunity.amount if amount is None else money.amount(amount, opportunity.currency)
        opportunity.win(final, self.now())
        self.store(opportunity)
        return opportunity

    @retries_race(StaleVersion)
    def lose_opportunity(
        self, opportunity_id: UUID, reason: str, competitor: str | None, user: Principal, expected_version: int | None
    ) -> Opportunity:
        """Close a deal as lost, with the reason and the competitor."""
        opportunity = self.load_for(Opportunity, opportunity_id, user, expected_version)
        opportunity.lose(
            contact.text(reason, "reason", 500) or "",
            contact.text(competitor, "competitor", required=False),
            self.now(),
        )
        self.store(opportunity)
        return opportunity

    @retries_race(StaleVersion)
    def reopen_opportunity(
        self, opportunity_id: UUID, stage: str | None, user: Principal, expected_version: int | None
    ) -> Opportunity:
        """Reopen a lost deal at `stage` (the first stage if none is given)."""
        opportunity = self.load_for(Opportunity, opportunity_id, user, expected_version)
        chosen = stage or self.settings.pipeline.first
        opportunity.reopen(chosen, self.settings.pipeline.probability(chosen), self.now())
        self.store(opportunity)
        return opportunity
