"""Marketing reports: campaign funnels, and CAC / ROI per channel and campaign (first- and last-touch).

Attribution: a customer's touches are the campaign messages sent to them, opened and
clicked, and the campaign of the lead they converted from; only touches on or before the
customer's first purchase count. First-touch credits the earliest, last-touch the latest.
A new customer without a touch is "organic". CAC = spend ÷ attributed new customers;
ROI = (attributed customers' net revenue − spend) ÷ spend. Spend and revenue count the
reporting currency only. A customer converts for a campaign if they purchase within
`conversion_days` after a message of it was sent to them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from services.analytics.purchases import merges, resolve
from services.analytics.reports.periods import parse_time
from services.analytics.reports.source import (
    METRICS,
    Db,
    Report,
    Window,
    business,
    money,
    purchase_dates,
    ratio,
    timeline,
)  # fmt: skip

M = "crm.marketing."
SENT, OPENED, CLICKED, BOUNCED, UNSUBSCRIBED = (M + k + ".v1" for k in (
    "message_sent", "email_opened", "link_clicked", "message_bounced", "unsubscribed"))  # fmt: skip
TOUCH_AT = {SENT: "sent_at", OPENED: "opened_at", CLICKED: "clicked_at", "crm.sales.lead_converted.v1": "converted_at"}
ORGANIC = "organic"


async def campaigns_of(db: Db) -> dict[str, dict[str, Any]]:
    """Campaign id → name and channel, and its spend in each currency."""
    found: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"name": None, "channel": None, "spend": defaultdict(Decimal)}
    )
    async for e in business(db, [M + "campaign_created.v1", M + "campaign_spend_recorded.v1"]):
        data = e.get("data") or {}
        campaign = found[data["campaign_id"]]
        if e["type"].endswith("campaign_created.v1"):
            campaign.update(name=data["name"], channel=data["channel"])
        else:
            campaign["spend"][data["currency"]] += Decimal(data["amount"])
    return found


async def _first_purchases(db: Db, w: Window, others: dict[str, Decimal]) -> dict[str, tuple[datetime, int]]:
    """Customer → (first purchase time, net revenue in millionths) for first purchases inside the window.

    Their revenue in other currencies than the reporting one is added up in `others`.
    """
    result = {}
    async for doc in db[METRICS].find({"merged_into": None, "first_purchase_at": {"$ne": None}}):
        first = parse_time(doc["first_purchase_at"])
        if w.holds(first):
            result[doc["_id"]] = (first, int(doc.get("revenue_micros", 0)))
            for currency, amount in (doc.get("revenue_by_currency") or {}).items():
                if currency != w.currency:
                    others[currency] += Decimal(amount)
    return result


Touch = tuple[datetime, str]


async def touches(db: Db, firsts: dict[str, tuple[datetime, int]]) -> dict[str, tuple[Touch, Touch]]:
    """Customer → (first touch, last touch) as (time, campaign id), counting touches up to the first purchase."""
    merged, found = await merges(db), dict[str, tuple[Touch, Touch]]()
    async for e in timeline(db, list(TOUCH_AT)):
        data, customer = e.get("data") or {}, resolve(merged, e["customer_id"])
        if not data.get("campaign_id") or customer not in firsts:
            continue
        touch = (parse_time(data[TOUCH_AT[e["type"]]]), data["campaign_id"])
        if touch[0] <= firsts[customer][0]:
            low, high = found.get(customer, (touch, touch))
            found[customer] = (min(low, touch), max(high, touch))
    return found


def _row(group: str, key: str, name: Any, spend: Decimal, credit: dict[str, list[int]]) -> dict[str, Any]:
    """One acquisition row: spend, and per model the new customers, CAC, revenue and ROI."""
    row: dict[str, Any] = {"group": group, "key": key, "name": name, "spend": money(spend)}
    for model in ("first_touch", "last_touch"):
        customers, micros = credit[model]
        revenue = Decimal(micros).scaleb(-6)
        row[f"{model}_customers"] = customers
        row[f"{model}_cac"] = money(spend / customers) if customers and spend else None
        row[f"{model}_revenue"] = money(revenue)
        row[f"{model}_roi"] = ratio(revenue - spend, spend)
    return row


async def acquisition(db: Db, w: Window) -> Report:
    """CAC and ROI per campaign and per channel, under first- and last-touch attribution.

    Spend and revenue count in the reporting currency; what was spent or earned in any
    other currency is not mixed in, and is totalled per currency in `summary.other_currencies`.
    """
    other_revenue: dict[str, Decimal] = defaultdict(Decimal)
    campaigns, firsts = await campaigns_of(db), await _first_purchases(db, w, other_revenue)
    credited = await touches(db, firsts)
    credit: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(
        lambda: {"first_touch": [0, 0], "last_touch": [0, 0]}
    )
    for customer, (_, micros) in firsts.items():
        first, last = credited.get(customer, (None, None))
        for model, touch in (("first_touch", first), ("last_touch", last)):
            campaign = touch[1] if touch else None
            channel = ((campaigns.get(campaign) or {}).get("channel") if campaign else None) or ORGANIC
            for key in (("campaign", campaign or ORGANIC), ("channel", channel)):
                credit[key][model][0] += 1
                credit[key][model][1] += micros
    spend_by_channel: dict[str, Decimal] = defaultdict(Decimal)
    other_spend: dict[str, Decimal] = defaultdict(Decimal)
    for c in campaigns.values():
        spend_by_channel[c["channel"] or ORGANIC] += c["spend"].get(w.currency, Decimal(0))
        for currency, amount in c["spend"].items():
            if currency != w.currency:
                other_spend[currency] += amount
    rows = [_row("channel", ch, ch, spend_by_channel.get(ch, Decimal(0)), credit[("channel", ch)])
            for ch in sorted(set(spend_by_channel) | {k for g, k in credit if g == "channel"})]  # fmt: skip
    rows += [_row("campaign", cid, (campaigns.get(cid) or {}).get("name"), _spend(campaigns, cid, w.currency),
                  credit[("campaign", cid)])
             for cid in sorted(set(campaigns) | {k for g, k in credit if g == "campaign"})]  # fmt: skip
    columns = ["group", "key", "name", "spend"] + [
        f"{m}_{x}" for m in ("first_touch", "last_touch") for x in ("customers", "cac", "revenue", "roi")
    ]
    not_counted = {"spend": {k: money(v) for k, v in sorted(other_spend.items())},
                   "new_customers_revenue": {k: money(v) for k, v in sorted(other_revenue.items())}}  # fmt: skip
    return Report(
        columns, rows, {"currency": w.currency, "new_customers": len(firsts), "other_currencies": not_counted}
    )


def _spend(campaigns: dict[str, dict[str, Any]], campaign_id: str, currency: str) -> Decimal:
    spend: Decimal = (campaigns.get(campaign_id) or {}).get("spend", {}).get(currency, Decimal(0))
    return spend


async def campaigns(db: Db, w: Window) -> Report:
    """Funnel per campaign: sent, bounced, opened, clicked, converted (distinct customers) and unsubscribed."""
    names, merged = await campaigns_of(db), await merges(db)
    purchases = await purchase_dates(db, w)
    sets: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    sent_at: dict[tuple[str, str], datetime] = {}
    kinds = {SENT: "sent", BOUNCED: "bounced", OPENED: "opened", CLICKED: "clicked", UNSUBSCRIBED: "unsubscribed"}
    async for e in timeline(db, list(kinds)):
        data, customer = e.get("data") or {}, resolve(merged, e["customer_id"])
        if data.get("campaign_id") and w.holds(parse_time(e["time"])):
            sets[data["campaign_id"]][kinds[e["type"]]].add(customer)
            if e["type"] == SENT:
                key, at = (data["campaign_id"], customer), parse_time(data["sent_at"])
                sent_at[key] = min(sent_at.get(key, at), at)
    window = timedelta(days=w.conversion_days)
    for (campaign, customer), at in sent_at.items():
        if any(at.date() <= day <= (at + window).date() for day in purchases.get(customer, [])):
            sets[campaign]["converted"].add(customer)
    rows = []
    for cid in sorted(sets):
        n = {k: len(sets[cid][k]) for k in ("sent", "bounced", "opened", "clicked", "converted", "unsubscribed")}
        rates = {f"{k}_rate": ratio(n[k], n["sent"]) for k in ("opened", "clicked", "converted")}
        info = names.get(cid) or {}
        rows.append({"campaign_id": cid, "name": info.get("name"), "channel": info.get("channel")} | n | rates)
    columns = ["campaign_id", "name", "channel", "sent", "bounced", "opened", "clicked", "converted", "unsubscribed",
               "opened_rate", "clicked_rate", "converted_rate"]  # fmt: skip
    return Report(columns, rows, {"conversion_days": w.conversion_days})
