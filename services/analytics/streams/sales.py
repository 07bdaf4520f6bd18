"""How sales events (`crm.sales.v1`) fold into the 360: orders, revenue, refunds and open opportunities.

Each fold keeps its data in the document's `sales` section (created on first use):
`order_count` (placed + imported orders), `revenue` and `refunds` per currency (Decimal
strings summed exactly; revenue counts payments, refunds are kept apart),
`first_order_at` / `last_order_at` (business dates), and `open_opportunities`
(id → stage, amount, currency, probability; a lost deal moves to `lost_opportunities`
and back when reopened), and `converted_from` (the lead, channel and
campaign a converted customer came from, for attribution; the name and contact points in
`LeadConvertedV1` are left to the customer stream). Other lead events are not about a customer and
never reach a 360; the sales stream adds no personal data, so `erase` has nothing to forget.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from shared.events import PublicEvent
from shared.events import sales as s

Document = dict[str, Any]


def _section(doc: Document) -> Document:
    section: Document = doc.setdefault(
        "sales",
        {
            "order_count": 0,
            "revenue": {},
            "refunds": {},
            "first_order_at": None,
            "last_order_at": None,
            "open_opportunities": {},
            "lost_opportunities": {},
            "won_opportunities": 0,
        },
    )
    return section


def _add(totals: dict[str, str], currency: str, amount: Decimal) -> None:
    totals[currency] = str(Decimal(totals.get(currency, "0")) + amount)


def _ordered(section: Document, when: str) -> None:
    section["order_count"] += 1
    section["first_order_at"] = min(section["first_order_at"] or when, when)
    section["last_order_at"] = max(section["last_order_at"] or when, when)


def _placed(doc: Document, e: s.OrderPlacedV1) -> None:
    _ordered(_section(doc), e.placed_at.isoformat())


def _imported(doc: Document, e: s.OrderImportedV1) -> None:
    section = _section(doc)
    _ordered(section, e.placed_at.isoformat())
    _add(section["revenue"], e.currency, e.total)


def _paid(doc: Document, e: s.OrderPaidV1) -> None:
    _add(_section(doc)["revenue"], e.currency, e.amount)


def _refunded(doc: Document, e: s.OrderRefundedV1) -> None:
    _add(_section(doc)["refunds"], e.currency, e.amount)


def _opened(doc: Document, e: s.OpportunityOpenedV1) -> None:
    _section(doc)["open_opportunities"][str(e.opportunity_id)] = {
        "name": e.name,
        "stage": e.stage,
        "amount": str(e.amount),
        "currency": e.currency,
        "probability": str(e.probability),
    }


def _moved(doc: Document, e: s.OpportunityStageChangedV1) -> None:
    deal = _section(doc)["open_opportunities"].get(str(e.opportunity_id))
    if deal is not None:
        deal.update(stage=e.to_stage, probability=str(e.probability))


def _won(doc: Document, e: s.OpportunityWonV1) -> None:
    section = _section(doc)
    section["open_opportunities"].pop(str(e.opportunity_id), None)
    section["won_opportunities"] += 1


def _lost(doc: Document, e: s.OpportunityLostV1) -> None:
    section = _section(doc)
    deal = section["open_opportunities"].pop(str(e.opportunity_id), None)
    if deal is not None:
        section.setdefault("lost_opportunities", {})[str(e.opportunity_id)] = deal | {"reason": e.reason}


def _reopened(doc: Document, e: s.OpportunityReopenedV1) -> None:
    section = _section(doc)
    deal = section.setdefault("lost_opportunities", {}).pop(str(e.opportunity_id), None)
    if deal is not None:
        deal.pop("reason", None)
        section["open_opportunities"][str(e.opportunity_id)] = deal | {
            "stage": e.stage,
            "probability": str(e.probability),
        }


def _converted(doc: Document, e: s.LeadConvertedV1) -> None:
    section = _section(doc)
    section["converted_from"] = {
        "lead_id": str(e.lead_id),
        "source_channel": e.source_channel,
        "campaign_id": None if e.campaign_id is None else str(e.campaign_id),
        "converted_at": e.converted_at.isoformat(),
    }


def erase(doc: Document) -> None:
    """Forget the personal data this stream put into the document (none: sales events carry no PII here)."""


def absorb(doc: Document, other: Document) -> None:
    """Fold a merged customer's sales into the survivor's: orders and money add up, deals join."""
    if "sales" not in other:
        return
    mine, theirs = _section(doc), other["sales"]
    mine["order_count"] += theirs["order_count"]
    for key in ("revenue", "refunds"):
        for currency, amount in sorted(theirs[key].items()):
            _add(mine[key], currency, Decimal(amount))
    for when in (theirs["first_order_at"], theirs["last_order_at"]):
        if when is not None:
            mine["first_order_at"] = min(mine["first_order_at"] or when, when)
            mine["last_order_at"] = max(mine["last_order_at"] or when, when)
    for key in ("open_opportunities", "lost_opportunities"):
        mine.setdefault(key, {})
        for deal_id, deal in sorted(theirs.get(key, {}).items()):
            mine[key].setdefault(deal_id, deal)
    mine["won_opportunities"] += theirs.get("won_opportunities", 0)
    if "converted_from" in theirs and "converted_from" not in mine:
        mine["converted_from"] = theirs["converted_from"]


FOLDS: dict[type[PublicEvent], Callable[[Document, Any], None]] = {
    s.LeadConvertedV1: _converted,
    s.OrderPlacedV1: _placed,
    s.OrderImportedV1: _imported,
    s.OrderPaidV1: _paid,
    s.OrderRefundedV1: _refunded,
    s.OpportunityOpenedV1: _opened,
    s.OpportunityStageChangedV1: _moved,
    s.OpportunityWonV1: _won,
    s.OpportunityLostV1: _lost,
    s.OpportunityReopenedV1: _reopened,
}
