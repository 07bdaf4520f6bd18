"""How support events (`crm.support.v1`) fold into the 360: tickets, SLAs and CSAT/NPS.

Each fold keeps its data in the document's `support` section (created on first use):
per ticket its status, priority and subject; counts of open and closed tickets and by
priority; the last ticket; SLA breaches; CSAT scores and average; NPS answers; feedback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.events import PublicEvent
from shared.events import support as s

Document = dict[str, Any]
CLOSED = ("resolved", "closed")


def _section(doc: Document) -> Document:
    section: Document = doc.setdefault(
        "support",
        {
            "tickets": {},
            "open_tickets": 0,
            "closed_tickets": 0,
            "by_priority": {},
            "last_ticket": None,
            "sla_breaches": 0,
            "sla_warnings": 0,
            "csat_scores": [],
            "csat_average": None,
            "nps_answers": [],
            "feedback": [],
        },
    )
    return section


def _ticket(doc: Document, ticket_id: Any) -> Document:
    """The ticket's entry (a stub if its opening was not seen, e.g. it moved here in a customer merge)."""
    entry: Document = _section(doc)["tickets"].setdefault(
        str(ticket_id), {"status": "new", "priority": None, "subject": None, "category": None, "opened_at": None}
    )
    return entry


def _recount(doc: Document) -> None:
    section = _section(doc)
    tickets = section["tickets"].values()
    section["open_tickets"] = sum(1 for t in tickets if t["status"] not in CLOSED)
    section["closed_tickets"] = sum(1 for t in tickets if t["status"] in CLOSED)
    by_priority: dict[str, int] = {}
    for t in tickets:
        if t["priority"]:
            by_priority[t["priority"]] = by_priority.get(t["priority"], 0) + 1
    section["by_priority"] = dict(sorted(by_priority.items()))
    scores = section["csat_scores"]
    section["csat_average"] = round(sum(scores) / len(scores), 2) if scores else None


def _opened(doc: Document, e: s.TicketOpenedV1) -> None:
    _ticket(doc, e.ticket_id).update(
        status="new",
        priority=e.priority,
        subject=e.subject,
        category=e.category,
        channel=e.channel,
        opened_at=e.opened_at.isoformat(),
    )
    section = _section(doc)
    last = section["last_ticket"]
    if last is None or (last["opened_at"], last["ticket_id"]) <= (e.opened_at.isoformat(), str(e.ticket_id)):
        section["last_ticket"] = {"ticket_id": str(e.ticket_id), "opened_at": e.opened_at.isoformat()}
    _recount(doc)


def _status(doc: Document, e: s.TicketStatusChangedV1) -> None:
    _ticket(doc, e.ticket_id)["status"] = e.to_status
    _recount(doc)


def _merged(doc: Document, e: s.TicketMergedV1) -> None:
    _ticket(doc, e.ticket_id).update(status="closed", merged_into=str(e.survivor_id))
    _recount(doc)


def _priority(doc: Document, e: s.TicketPriorityChangedV1) -> None:
    _ticket(doc, e.ticket_id)["priority"] = e.priority
    _recount(doc)


def _moved_here(doc: Document, e: s.TicketCustomerChangedV1) -> None:
    _ticket(doc, e.ticket_id)
    _recount(doc)


def _warned(doc: Document, e: s.SlaWarnedV1) -> None:
    _section(doc)["sla_warnings"] += 1


def _breached(doc: Document, e: s.SlaBreachedV1) -> None:
    _section(doc)["sla_breaches"] += 1
    ticket = _ticket(doc, e.ticket_id)
    ticket["breached"] = sorted({*ticket.get("breached", []), e.target})


def _survey(doc: Document, e: s.SurveyAnsweredV1) -> None:
    section = _section(doc)
    section["csat_scores"].append(e.csat)
    if e.nps is not None:
        section["nps_answers"].append(e.nps)
    _ticket(doc, e.ticket_id).update(csat=e.csat, nps=e.nps, survey_comment=e.comment)
    _recount(doc)


def _feedback(doc: Document, e: s.FeedbackRecordedV1) -> None:
    _section(doc)["feedback"].append(
        {
            "feedback_id": str(e.feedback_id),
            "ticket_id": str(e.ticket_id) if e.ticket_id else None,
            "kind": e.kind,
            "text": e.text,
            "recorded_at": e.recorded_at.isoformat(),
        }
    )


def _combined(mine: Document, theirs: Document) -> Document:
    """One ticket known to both customers (e.g. moved to the survivor): what the survivor knows wins, gaps filled."""
    entry = theirs | {k: v for k, v in mine.items() if v is not None}
    if mine.get("status") == "new" and theirs.get("status") not in (None, "new"):
        entry["status"] = theirs["status"]
    return entry


def absorb(doc: Document, other: Document) -> None:
    """Fold a merged customer's tickets, SLA counts, surveys and feedback into the survivor's."""
    if "support" not in other:
        return
    mine, theirs = _section(doc), other["support"]
    for ticket_id, ticket in sorted(theirs["tickets"].items()):
        known = mine["tickets"].get(ticket_id)
        mine["tickets"][ticket_id] = ticket if known is None else _combined(known, ticket)
    for key in ("sla_breaches", "sla_warnings"):
        mine[key] += theirs[key]
    for key in ("csat_scores", "nps_answers", "feedback"):
        mine[key] += theirs[key]
    last = theirs["last_ticket"]
    if last is not None and (mine["last_ticket"] is None or _key(mine["last_ticket"]) < _key(last)):
        mine["last_ticket"] = last
    _recount(doc)


def _key(last: Document) -> tuple[str, str]:
    return (last["opened_at"] or "", last["ticket_id"])


FOLDS: dict[type[PublicEvent], Callable[[Document, Any], None]] = {
    s.TicketOpenedV1: _opened,
    s.TicketStatusChangedV1: _status,
    s.TicketMergedV1: _merged,
    s.TicketPriorityChangedV1: _priority,
    s.TicketCustomerChangedV1: _moved_here,
    s.SlaWarnedV1: _warned,
    s.SlaBreachedV1: _breached,
    s.SurveyAnsweredV1: _survey,
    s.FeedbackRecordedV1: _feedback,
}


def erase(doc: Document) -> None:
    """Forget the personal data this stream put into the document (after `CustomerErased`)."""
    section = doc.get("support")
    if section is None:
        return
    for ticket in section["tickets"].values():
        ticket["subject"] = None
        ticket.pop("survey_comment", None)
    for entry in section["feedback"]:
        entry["text"] = None
