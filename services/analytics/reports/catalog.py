"""Every report by name: how it is built, which watermarked sources it reads, and what it answers.

One table, read by the API (one route per entry) and by the refit job, which computes the
dashboard's reports when it ends so the dashboard reads only snapshots (`snapshots.py`).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from pymongo.errors import PyMongoError

from services.analytics.reports import customers, marketing, pipeline, scores, social, support
from services.analytics.reports.periods import Period
from services.analytics.reports.snapshots import Build, served
from services.analytics.reports.source import Db, Window
from services.analytics.settings import MetricsSettings
from services.analytics.watermarks import Source

log = logging.getLogger("crm.analytics.reports")

METRICS: tuple[Source, ...] = ("metrics",)
PROJECTED: tuple[Source, ...] = ("projected",)

REPORTS: dict[str, tuple[Build, tuple[Source, ...], str]] = {
    "kpis": (customers.kpis, METRICS, "Headline KPIs: customers, revenue, AOV, repeat rate, stages, CLV"),
    "revenue": (customers.revenue, PROJECTED, "Orders and revenue per period and currency"),
    "cohorts": (customers.cohorts, PROJECTED, "Cohort retention by period of first purchase"),
    "lifecycle": (customers.lifecycle, METRICS, "Customers by lifecycle stage and value tier"),
    "churn-rate": (customers.churn_rate, PROJECTED, "Churn rate per period"),
    "clv": (scores.clv, METRICS, "Predicted CLV: customers and value per band, mean, median, 90th percentile"),
    "churn-watch": (scores.churn_watch, METRICS, "The customers most likely to churn, with their value"),
    "acquisition": (
        marketing.acquisition,
        METRICS + PROJECTED,
        "CAC and ROI per channel and campaign, first- and last-touch",
    ),
    "pipeline": (pipeline.pipeline, PROJECTED, "Pipeline by stage, win rate, sales cycle, weighted forecast"),
    "campaigns": (marketing.campaigns, PROJECTED, "Campaign funnel: sent, opened, clicked, converted"),
    "support": (support.support, PROJECTED, "Support first response, resolution, SLA breach rate, CSAT, NPS"),
    "social": (social.social, PROJECTED, "Social engagement and sentiment over time"),
}

DASHBOARD: tuple[tuple[str, Period], ...] = (
    ("kpis", "month"),
    ("revenue", "month"),
    ("cohorts", "month"),
    ("lifecycle", "month"),
    ("pipeline", "month"),
    ("clv", "month"),
    ("churn-watch", "month"),
)
"""The reports and periods `static/dashboard.js` asks for (no `since` or `until`: served from snapshots)."""


def default_window(rules: MetricsSettings, period: Period, now: datetime) -> Window:
    """The window of a report asked without `since` and `until`: everything before `now`.

    `now` is cut to milliseconds, what BSON keeps, so a snapshot reports the time it was computed at.
    """
    now = now.astimezone(UTC)
    return Window(
        period=period,
        since=None,
        until=now.replace(microsecond=now.microsecond // 1000 * 1000),
        currency=rules.currency,
        churned_days=rules.churned_days,
        conversion_days=rules.conversion_days,
    )


async def keep_dashboard(db: Db, rules: MetricsSettings, now: datetime) -> int:
    """Compute (or confirm) the snapshot of every dashboard report as of `now`; returns how many are kept.

    Run when a refit ends, so the first dashboard load after it reads documents by `_id`
    instead of every collection. A report that fails here is only computed on request.
    """
    kept = 0
    for name, period in DASHBOARD:
        build, sources, _ = REPORTS[name]
        try:
            await served(db, name, default_window(rules, period, now), sources, build)
            kept += 1
        except PyMongoError:
            log.exception("dashboard report %s not kept", name)
    return kept
