"""Support report per period of ticket opening: first response and resolution times, SLA breaches, CSAT, NPS.

First response = the first public reply's time minus the opening; resolution = the first
move to `resolved` (or `closed`, if never resolved) minus the opening, both in wall-clock
hours. SLA breach rate = tickets with at least one breach ÷ tickets opened. CSAT = mean
score (1-5) of surveys answered in the period; NPS = % promoters (9-10) − % detractors (0-6).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from services.analytics.reports.periods import parse_time, period_key
from services.analytics.reports.source import Db, Report, Window, mean_median, ratio, timeline

S = "crm.support."
OPENED, REPLIED, STATUS, BREACHED, SURVEY = (S + k + ".v1" for k in (
    "ticket_opened", "ticket_replied", "ticket_status_changed", "sla_breached", "survey_answered"))  # fmt: skip


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds() / 3600


Survey = tuple[datetime, int, int | None]


def fold(tickets: dict[str, dict[str, Any]], surveys: list[Survey], e: dict[str, Any]) -> None:
    """Apply one support event to its ticket (or record a survey answer)."""
    data = e.get("data") or {}
    if "ticket_id" not in data:
        return
    t = tickets.setdefault(data["ticket_id"], {"opened": None, "replied": None, "resolved": None, "breached": False})
    if e["type"] == OPENED:
        t["opened"], t["priority"] = parse_time(data["opened_at"]), data["priority"]
    elif e["type"] == REPLIED and data["first_response"]:
        t["replied"] = min(t["replied"] or parse_time(data["replied_at"]), parse_time(data["replied_at"]))
    elif e["type"] == STATUS and data["to_status"] in ("resolved", "closed") and t["resolved"] is None:
        t["resolved"] = parse_time(data["changed_at"])
    elif e["type"] == BREACHED:
        t["breached"] = True
    elif e["type"] == SURVEY:
        surveys.append((parse_time(data["answered_at"]), int(data["csat"]), data.get("nps")))


def nps(scores: list[int]) -> float | None:
    """Net promoter score in points (-100..100), None without answers."""
    if not scores:
        return None
    promoters, detractors = sum(s >= 9 for s in scores), sum(s <= 6 for s in scores)
    return round(100 * (promoters - detractors) / len(scores), 1)


async def support(db: Db, w: Window) -> Report:
    """Per period: tickets, first response and resolution hours (mean, median), breach rate, CSAT, NPS."""
    tickets: dict[str, dict[str, Any]] = {}
    surveys: list[Survey] = []
    entries = [e async for e in timeline(db, [OPENED, REPLIED, STATUS, BREACHED, SURVEY])]
    for e in sorted(entries, key=lambda x: (x["time"], x.get("aggregate_version", 0))):
        fold(tickets, surveys, e)
    groups: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for t in tickets.values():
        if t["opened"] is not None and w.holds(t["opened"]):
            g = groups[period_key(t["opened"], w.period)]
            g["tickets"].append(t)
            g["first"] += [h] if (h := _hours(t["opened"], t["replied"])) is not None else []
            g["resolution"] += [h] if (h := _hours(t["opened"], t["resolved"])) is not None else []
    for at, csat, score in surveys:
        if w.holds(at):
            groups[period_key(at, w.period)]["csat"].append(csat)
            groups[period_key(at, w.period)]["nps"] += [] if score is None else [int(score)]
    rows = [_row(p, g) for p, g in sorted(groups.items())]
    answered = [s for s in surveys if w.holds(s[0])]
    summary = {
        "tickets": sum(r["tickets"] for r in rows),
        "csat": _mean([s[1] for s in answered]),
        "nps": nps([int(s[2]) for s in answered if s[2] is not None]),
    }
    return Report(list(rows[0]) if rows else COLUMNS, rows, summary)


COLUMNS = ["period", "tickets", "first_response_hours_mean", "first_response_hours_median", "resolution_hours_mean",
           "resolution_hours_median", "sla_breach_rate", "csat", "surveys", "nps"]  # fmt: skip


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _row(period: str, g: dict[str, list[Any]]) -> dict[str, Any]:
    first, resolution = mean_median(g["first"]), mean_median(g["resolution"])
    return dict(zip(COLUMNS, (
        period, len(g["tickets"]), *first, *resolution,
        ratio(sum(t["breached"] for t in g["tickets"]), len(g["tickets"])),
        _mean(g["csat"]), len(g["csat"]), nps(g["nps"]),
    ), strict=True))  # fmt: skip
