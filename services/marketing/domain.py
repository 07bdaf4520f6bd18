"""Segments and campaigns: the marketer's aggregates, and the errors their rules raise.

Commands validate first, then call a private `@event` method, so an invalid command
records nothing and a replay never re-runs a check that may have changed since.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from shared.platform import money

CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "completed", "cancelled")
SPEND_CHANNELS = ("email", "sms", "social", "display", "search", "events", "other")


class MarketingError(Exception):
    """Base of the marketing service's domain errors."""


class InvalidInput(MarketingError):
    """The command's input breaks a rule (bad template, split, currency, ...)."""


class NotFound(MarketingError):
    """No segment, campaign or message has this id."""

    def __init__(self, what: str, ident: UUID) -> None:
        super().__init__(f"{what} {ident} not found")


class StaleVersion(MarketingError):
    """The caller decided on an older version than the stored one; reload and retry."""

    def __init__(self, expected: int, actual: int, ident: UUID) -> None:
        super().__init__(f"{ident} is at version {actual}, not {expected}")


class WrongStatus(MarketingError):
    """The campaign's status does not allow this command (e.g. editing a campaign that is sending)."""

    def __init__(self, campaign_id: UUID, status: str, action: str) -> None:
        super().__init__(f"campaign {campaign_id} is {status}: cannot {action}")


class Segment(Aggregate):
    """A named, reusable audience rule; evaluated when a campaign starts sending."""

    if TYPE_CHECKING:
        Defined: ClassVar[type[Aggregate.Event]]
        Redefined: ClassVar[type[Aggregate.Event]]

    @event("Defined")
    def __init__(self, name: str, description: str, rules: dict[str, Any], defined_by: str) -> None:
        self.name = name
        self.description = description
        self.rules = rules
        self.defined_by = defined_by

    @event("Redefined")
    def redefine(self, name: str, description: str, rules: dict[str, Any]) -> None:
        """Change the name, description or rules (campaigns use the rules at send time)."""
        self.name = name
        self.description = description
        self.rules = rules


class Campaign(Aggregate):
    """One email or SMS campaign to a segment: draft → scheduled → sending → completed / cancelled."""

    if TYPE_CHECKING:
        Drafted: ClassVar[type[Aggregate.Event]]
        Edited: ClassVar[type[Aggregate.Event]]
        Scheduled: ClassVar[type[Aggregate.Event]]
        SendingStarted: ClassVar[type[Aggregate.Event]]
        Completed: ClassVar[type[Aggregate.Event]]
        Cancelled: ClassVar[type[Aggregate.Event]]
        SpendRecorded: ClassVar[type[Aggregate.Event]]

    @event("Drafted")
    def __init__(
        self,
        name: str,
        channel: str,
        segment_id: UUID,
        variants: list[dict[str, Any]],
        fallbacks: dict[str, str],
        created_by: str,
    ) -> None:
        self.name = name
        self.channel = channel
        self.segment_id = segment_id
        self.variants = variants
        self.fallbacks = fallbacks
        self.created_by = created_by
        self.status = "draft"
        self.send_at: datetime | None = None
        self.recipients: list[list[str]] = []
        self.excluded: dict[str, int] = {}
        self.spend: list[dict[str, Any]] = []
        self.outcome: dict[str, int] = {}

    def edit(self, changes: dict[str, Any]) -> None:
        """Change a draft's name, segment, variants or fallbacks."""
        self._require("draft", action="edit")
        if changes:
            self._edit(changes=changes)

    @event("Edited")
    def _edit(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def schedule(self, send_at: datetime) -> None:
        """Plan (or re-plan) when sending starts; only before it started."""
        self._require("draft", "scheduled", action="schedule")
        self._schedule(send_at=send_at.astimezone(UTC))

    @event("Scheduled")
    def _schedule(self, send_at: datetime) -> None:
        self.status = "scheduled"
        self.send_at = send_at

    def start_sending(self, recipients: list[list[str]], excluded: dict[str, int], at: datetime) -> None:
        """Freeze the audience snapshot (customer id, variant) and start sending."""
        self._require("scheduled", action="start sending")
        self._start(recipients=recipients, excluded=excluded, started_at=at)

    @event("SendingStarted")
    def _start(self, recipients: list[list[str]], excluded: dict[str, int], started_at: datetime) -> None:
        self.status = "sending"
        self.recipients = recipients
        self.excluded = excluded

    def complete(self, sent: int, bounced: int, withheld: int, at: datetime) -> None:
        """Every recipient was handled."""
        self._require("sending", action="complete")
        self._complete(sent=sent, bounced=bounced, withheld=withheld, completed_at=at)

    @event("Completed")
    def _complete(self, sent: int, bounced: int, withheld: int, completed_at: datetime) -> None:
        self.status = "completed"
        self.outcome = {"sent": sent, "bounced": bounced, "withheld": withheld}

    def cancel(self, by: str, at: datetime) -> None:
        """Stop the campaign; the sender sends nothing more for it."""
        self._require("draft", "scheduled", "sending", action="cancel")
        self._cancel(cancelled_by=by, cancelled_at=at)

    @event("Cancelled")
    def _cancel(self, cancelled_by: str, cancelled_at: datetime) -> None:
        self.status = "cancelled"

    def record_spend(
        self,
        spend_id: UUID,
        channel: str,
        amount: Decimal,
        currency: str,
        note: str | None,
        spent_on: datetime,
        by: str,
    ) -> bool:
        """Record money spent on the campaign; the same `spend_id` again records nothing."""
        if any(line["spend_id"] == spend_id for line in self.spend):
            return False
        if channel not in SPEND_CHANNELS:
            raise InvalidInput(f"spend channel must be one of {SPEND_CHANNELS}, not {channel!r}")
        try:  # the money rules sales keeps: a spend in a currency's minor units, as reports count it
            currency = money.currency(currency)
            amount = money.amount(amount, currency, "spend amount", positive=True)
        except money.BadAmount as exc:
            raise InvalidInput(str(exc)) from None
        self._spend(
            spend_id=spend_id,
            channel=channel,
            amount=amount,
            currency=currency,
            note=note,
            spent_on=spent_on.astimezone(UTC),
            recorded_by=by,
        )
        return True

    @event("SpendRecorded")
    def _spend(
        self,
        spend_id: UUID,
        channel: str,
        amount: Decimal,
        currency: str,
        note: str | None,
        spent_on: datetime,
        recorded_by: str,
    ) -> None:
        self.spend.append(
            {
                "spend_id": spend_id,
                "channel": channel,
                "amount": amount,
                "currency": currency,
                "note": note,
                "spent_on": spent_on,
                "recorded_by": recorded_by,
            }
        )

    def variant_for(self, customer_id: UUID) -> str:
        """The A/B variant of a customer: a stable hash of (campaign, customer) over the split weights."""
        digest = hashlib.sha256(f"{self.id}:{customer_id}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") % sum(v["weight"] for v in self.variants)
        for variant in self.variants:
            point -= variant["weight"]
            if point < 0:
                return str(variant["name"])
        return str(self.variants[-1]["name"])

    def variant(self, name: str) -> dict[str, Any]:
        """The variant called `name`."""
        return next(v for v in self.variants if v["name"] == name)

    def _require(self, *statuses: str, action: str) -> None:
        if self.status not in statuses:
            raise WrongStatus(self.id, self.status, action)
