"""Social report per period: engagement gained by published posts, and interactions by sentiment.

Engagement updates carry running totals per post, so a period's engagement is the growth
of each post's totals over its previous measurement (the first measurement counts whole).
Net sentiment = (positive − negative) ÷ interactions.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from services.analytics.reports.periods import parse_time, period_key
from services.analytics.reports.source import Db, Report, Window, business, ratio

SO = "crm.social."
ENGAGEMENT, PUBLISHED, RECEIVED = (SO + k + ".v1" for k in (
    "post_engagement_updated", "post_published", "interaction_received"))  # fmt: skip
METRICS = ("likes", "comments", "shares")
COLUMNS = ["period", "posts_published", *METRICS, "engagement", "interactions", "positive", "neutral", "negative",
           "net_sentiment"]  # fmt: skip


async def social(db: Db, w: Window) -> Report:
    """Per period: posts published, likes/comments/shares gained, interactions by sentiment."""
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    measurements: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    async for e in business(db, [ENGAGEMENT, PUBLISHED, RECEIVED]):
        data = e.get("data") or {}
        if e["type"] == ENGAGEMENT:
            measurements[data["post_id"]].append((parse_time(data["measured_at"]), *(data[m] for m in METRICS)))
        elif e["type"] == PUBLISHED and w.holds(at := parse_time(data["published_at"])):
            groups[period_key(at, w.period)]["posts_published"] += 1
        elif e["type"] == RECEIVED and w.holds(at := parse_time(data["occurred_at"])):
            groups[period_key(at, w.period)]["interactions"] += 1
            groups[period_key(at, w.period)][data["sentiment"]] += 1
    for series in measurements.values():
        previous: tuple[Any, ...] = (None, 0, 0, 0)
        for point in sorted(set(series)):
            if w.holds(point[0]):
                gains = {m: point[i + 1] - previous[i + 1] for i, m in enumerate(METRICS)}
                groups[period_key(point[0], w.period)].update(gains | {"engagement": sum(gains.values())})
            previous = point
    rows = []
    for period, g in sorted(groups.items()):
        row: dict[str, Any] = {c: g[c] for c in COLUMNS[1:-1]}
        net = ratio(g["positive"] - g["negative"], g["interactions"])
        rows.append({"period": period} | row | {"net_sentiment": net})
    return Report(COLUMNS, rows)
