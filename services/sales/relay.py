"""The sales service's outbox relay: sales domain events → `crm.sales.v1`.

Each private domain event is mapped to its public model by one explicit function, so
refactoring an aggregate never changes what subscribers receive. Lead events carry no
personal data except `LeadConvertedV1`, which the customer service needs to register
the customer; the team registry and the remembered customer emails stay private.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from services.sales.application import SalesApplication
from services.sales.catalogue import Product
from services.sales.leads import Lead
from services.sales.opportunities import Opportunity
from services.sales.orders import Order
from services.sales.quotes import Quote
from services.sales.settings import SalesSettings
from services.sales.team import CustomerContacts, Rep
from shared.events import PublicEvent
from shared.events import sales as public
from shared.platform.eventstore import persistence_env
from shared.platform.outbox import Publish, Relay
from shared.platform.relaying import relay_over, run_relay


def _lead_captured(e: Any) -> PublicEvent:
    return public.LeadCapturedV1(
        lead_id=e.originator_id,
        source_channel=e.source,
        campaign_id=e.campaign_id,
        country=e.country,
        company=e.company,
        captured_by=e.captured_by,
        captured_at=e.timestamp,
    )


def _lead_scored(e: Any) -> PublicEvent:
    return public.LeadScoredV1(lead_id=e.originator_id, score=e.score, reasons=e.reasons)


def _lead_assigned(e: Any) -> PublicEvent:
    return public.LeadAssignedV1(lead_id=e.originator_id, owner=e.owner, rule=e.rule)


def _lead_qualified(e: Any) -> PublicEvent:
    return public.LeadQualifiedV1(lead_id=e.originator_id, qualified_by=e.by)


def _lead_disqualified(e: Any) -> PublicEvent:
    return public.LeadDisqualifiedV1(lead_id=e.originator_id, reason=e.reason, disqualified_by=e.by)


def _lead_converted(e: Any, lead: Any) -> PublicEvent:
    return public.LeadConvertedV1(
        customer_id=e.customer_id,
        lead_id=e.originator_id,
        opportunity_id=e.opportunity_id,
        name=e.name,
        company=e.company,
        emails=[e.email] if e.email else [],
        phones=[e.phone] if e.phone else [],
        country=lead.country,
        source_channel=lead.source,
        campaign_id=lead.campaign_id,
        consent=lead.consent,
        converted_by=e.by,
        converted_at=e.at,
    )


def _opened(e: Any) -> PublicEvent:
    return public.OpportunityOpenedV1(
        customer_id=e.customer_id,
        opportunity_id=e.originator_id,
        name=e.name,
        amount=e.amount,
        currency=e.currency,
        stage=e.stage,
        probability=e.probability,
        expected_close_date=date.fromisoformat(e.close_date),
        owner=e.owner,
        campaign_id=e.campaign_id,
        lead_id=e.lead_id,
    )


def _stage_changed(e: Any, deal: Any) -> PublicEvent:
    return public.OpportunityStageChangedV1(
        customer_id=deal.customer_id,
        opportunity_id=e.originator_id,
        from_stage=e.from_stage,
        to_stage=e.to_stage,
        probability=e.probability,
        changed_at=e.at,
    )


def _deal_updated(e: Any, deal: Any) -> PublicEvent:
    changed = {k: getattr(e, k) for k in ("amount", "probability", "owner") if getattr(e, k) is not None}
    if e.close_date is not None:
        changed["expected_close_date"] = date.fromisoformat(e.close_date)
    return public.OpportunityUpdatedV1(
        customer_id=deal.customer_id, opportunity_id=e.originator_id, changed=sorted(changed), **changed
    )


def _won(e: Any, deal: Any) -> PublicEvent:
    return public.OpportunityWonV1(
        customer_id=deal.customer_id,
        opportunity_id=e.originator_id,
        amount=e.amount,
        currency=deal.currency,
        won_at=e.at,
    )


def _lost(e: Any, deal: Any) -> PublicEvent:
    return public.OpportunityLostV1(
        customer_id=deal.customer_id,
        opportunity_id=e.originator_id,
        reason=e.reason,
        competitor=e.competitor,
        lost_at=e.at,
    )


def _reopened(e: Any, deal: Any) -> PublicEvent:
    return public.OpportunityReopenedV1(
        customer_id=deal.customer_id, opportunity_id=e.originator_id, stage=e.stage, probability=e.probability
    )


def _product(e: Any) -> PublicEvent:
    prices = [public.ProductPrice(currency=c, unit_price=p) for c, p in sorted(e.prices.items())]
    return public.ProductUpsertedV1(
        product_id=e.originator_id, sku=e.sku, name=e.name, prices=prices, tax_rate=e.tax_rate, active=e.active
    )


def _quote_issued(e: Any, quote: Any) -> PublicEvent:
    return public.QuoteIssuedV1(
        customer_id=quote.customer_id,
        quote_id=e.originator_id,
        opportunity_id=quote.opportunity_id,
        revision=quote.revision,
        currency=quote.currency,
        lines=[public.QuoteLine(**line) for line in e.lines],
        subtotal=e.subtotal,
        tax_total=e.tax_total,
        total=e.total,
        valid_until=date.fromisoformat(e.valid_until),
    )


def _quote_sent(e: Any, quote: Any) -> PublicEvent:
    return public.QuoteSentV1(customer_id=quote.customer_id, quote_id=e.originator_id, revision=e.revision)


def _quote_accepted(e: Any, quote: Any) -> PublicEvent:
    return public.QuoteAcceptedV1(
        customer_id=quote.customer_id, quote_id=e.originator_id, revision=e.revision, total=e.total, currency=e.currency
    )


def _quote_rejected(e: Any, quote: Any) -> PublicEvent:
    return public.QuoteRejectedV1(
        customer_id=quote.customer_id, quote_id=e.originator_id, revision=e.revision, reason=e.reason
    )


def _quote_expired(e: Any, quote: Any) -> PublicEvent:
    return public.QuoteExpiredV1(customer_id=quote.customer_id, quote_id=e.originator_id, revision=e.revision)


def _order_placed(e: Any) -> PublicEvent:
    if e.source == "import":
        return public.OrderImportedV1(
            customer_id=e.customer_id,
            order_id=e.originator_id,
            external_id=e.external_id,
            currency=e.currency,
            total=e.total,
            quantity=e.quantity,
            placed_at=e.placed_at,
            paid_at=e.paid_at,
        )
    return public.OrderPlacedV1(
        customer_id=e.customer_id,
        order_id=e.originator_id,
        source=e.source,
        quote_id=e.quote_id,
        currency=e.currency,
        total=e.total,
        placed_at=e.placed_at,
        external_id=e.external_id,
    )


def _order_paid(e: Any, order: Any) -> PublicEvent:
    return public.OrderPaidV1(
        customer_id=order.customer_id, order_id=e.originator_id, amount=e.amount, currency=e.currency, paid_at=e.at
    )


def _order_shipped(e: Any, order: Any) -> PublicEvent:
    return public.OrderShippedV1(customer_id=order.customer_id, order_id=e.originator_id, shipped_at=e.at)


def _order_delivered(e: Any, order: Any) -> PublicEvent:
    return public.OrderDeliveredV1(customer_id=order.customer_id, order_id=e.originator_id, delivered_at=e.at)


def _order_cancelled(e: Any, order: Any) -> PublicEvent:
    return public.OrderCancelledV1(
        customer_id=order.customer_id, order_id=e.originator_id, reason=e.reason, cancelled_at=e.at
    )


def _order_refunded(e: Any, order: Any) -> PublicEvent:
    return public.OrderRefundedV1(
        customer_id=order.customer_id,
        order_id=e.originator_id,
        amount=e.amount,
        refunded_total=e.refunded_total,
        currency=e.currency,
        reason=e.reason,
        refunded_at=e.at,
    )


PRIVATE: frozenset[type[Any]] = frozenset(
    {
        Opportunity.Repointed,
        Quote.Repointed,
        Order.Repointed,
        Lead.Engaged,
        Lead.Erased,
        Rep.Registered,
        Rep.Changed,
        CustomerContacts.Recorded,
        CustomerContacts.Added,
        CustomerContacts.Forgotten,
    }
)
"""Domain events that stay inside the service (team registry, merges, click counting, erasure)."""

STANDALONE: dict[type[Any], Callable[[Any], PublicEvent]] = {
    Lead.Captured: _lead_captured,
    Lead.Scored: _lead_scored,
    Lead.Assigned: _lead_assigned,
    Lead.Qualified: _lead_qualified,
    Lead.Disqualified: _lead_disqualified,
    Opportunity.Opened: _opened,
    Product.Defined: _product,
    Product.Redefined: _product,
    Order.Placed: _order_placed,
}
"""Events that carry everything their public event needs."""

WITH_STATE: dict[type[Any], Callable[[Any, Any], PublicEvent]] = {
    Lead.Converted: _lead_converted,
    Opportunity.StageChanged: _stage_changed,
    Opportunity.Updated: _deal_updated,
    Opportunity.Won: _won,
    Opportunity.Lost: _lost,
    Opportunity.Reopened: _reopened,
    Quote.Issued: _quote_issued,
    Quote.Revised: _quote_issued,
    Quote.Sent: _quote_sent,
    Quote.Accepted: _quote_accepted,
    Quote.Rejected: _quote_rejected,
    Quote.Expired: _quote_expired,
    Order.Paid: _order_paid,
    Order.Shipped: _order_shipped,
    Order.Delivered: _order_delivered,
    Order.Cancelled: _order_cancelled,
    Order.Refunded: _order_refunded,
}
"""Events whose public form also needs the aggregate as it was right after them (e.g. its customer)."""


def public_mapper(app: SalesApplication) -> Callable[[Any], PublicEvent | None]:
    """`to_public` for the relay: looks the aggregate up at the event's version when the event alone is not enough."""

    def to_public(domain_event: Any) -> PublicEvent | None:
        kind = type(domain_event)
        if kind in PRIVATE:
            return None
        if kind in STANDALONE:
            return STANDALONE[kind](domain_event)
        state: Any = app.repository.get(domain_event.originator_id, version=domain_event.originator_version)
        return WITH_STATE[kind](domain_event, state)

    return to_public


def build_relay(settings: SalesSettings, publish: Publish) -> Relay:
    """A relay over the sales store configured by `settings`."""
    app = SalesApplication(env=persistence_env(settings.store), settings=settings)
    return relay_over("sales", app, public_mapper(app), settings, publish)


def main() -> None:
    """Entry point of the relay process: `python -m services.sales.relay`."""
    settings = SalesSettings()
    run_relay("sales", settings, lambda publish: build_relay(settings, publish))


if __name__ == "__main__":
    main()
