"""How social events (`crm.social.v1`) fold into the 360: social interactions and their sentiment.

Each fold keeps its data in the document's `social` section (created on first use): per
linked interaction its kind, sentiment, platform, handle and text; counts by kind and by
sentiment; the last interaction; and the escalations to support. Counts are recomputed
from the entries, so a redelivered or re-linked interaction is never counted twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from shared.events import PublicEvent
from shared.events import social as so

Document = dict[str, Any]


def _section(doc: Document) -> Document:
    section: Document = doc.setdefault(
        "social",
        {
            "interactions": {},
            "interaction_count": 0,
            "by_kind": {},
            "by_sentiment": {},
            "last_interaction": None,
            "handles": [],
            "escalations": {},
            "escalation_count": 0,
        },
    )
    return section


def _recount(section: Document) -> None:
    entries = section["interactions"].values()
    section["interaction_count"] = len(section["interactions"])
    section["by_kind"] = dict(sorted(Counter(e["kind"] for e in entries).items()))
    section["by_sentiment"] = dict(sorted(Counter(e["sentiment"] for e in entries).items()))
    latest = max(section["interactions"].items(), key=lambda item: (item[1]["occurred_at"], item[0]), default=None)
    section["last_interaction"] = (
        None
        if latest is None
        else {k: latest[1][k] for k in ("kind", "sentiment", "platform", "occurred_at")} | {"interaction_id": latest[0]}
    )
    section["handles"] = sorted({e["author_handle"] for e in entries if e["author_handle"]})
    section["escalation_count"] = len(section["escalations"])


def _linked(doc: Document, e: so.InteractionLinkedToCustomerV1) -> None:
    section = _section(doc)
    section["interactions"][str(e.interaction_id)] = {
        "kind": e.kind,
        "sentiment": e.sentiment,
        "platform": e.platform,
        "account_id": str(e.account_id),
        "author_handle": e.author_handle,
        "text": e.text,
        "occurred_at": e.occurred_at.isoformat(),
        "link_method": e.method,
    }
    _recount(section)


def _unlinked(doc: Document, e: so.InteractionUnlinkedFromCustomerV1) -> None:
    section = _section(doc)
    section["interactions"].pop(str(e.interaction_id), None)
    _recount(section)


def _escalated(doc: Document, e: so.InteractionEscalatedV1) -> None:
    section = _section(doc)
    section["escalations"][str(e.interaction_id)] = {
        "priority": e.priority,
        "reason": e.reason,
        "sentiment": e.sentiment,
        "escalated_at": e.escalated_at.isoformat(),
    }
    _recount(section)


def erase(doc: Document) -> None:
    """Forget the personal data this stream put into the document (after `CustomerErased`)."""
    section = doc.get("social")
    if section is None:
        return
    for entry in section["interactions"].values():
        entry.update(author_handle="", text="")
    for escalation in section["escalations"].values():
        escalation["reason"] = ""
    section["handles"] = []


def absorb(doc: Document, other: Document) -> None:
    """Fold a merged customer's social interactions into the survivor's (by id, so none counts twice)."""
    if "social" not in other:
        return
    mine, theirs = _section(doc), other["social"]
    for key in ("interactions", "escalations"):
        for entry_id, entry in sorted(theirs[key].items()):
            mine[key].setdefault(entry_id, entry)
    _recount(mine)


FOLDS: dict[type[PublicEvent], Callable[[Document, Any], None]] = {
    so.InteractionLinkedToCustomerV1: _linked,
    so.InteractionUnlinkedFromCustomerV1: _unlinked,
    so.InteractionEscalatedV1: _escalated,
}
