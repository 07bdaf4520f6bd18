"""How marketing events (`crm.marketing.v1`) fold into the 360: campaign touches: sent, opened, clicked, unsubscribed.

Each fold keeps its data in the document's `marketing` section (created on first use):
a count per kind of touch and the ids of the campaigns that touched the customer so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.events import PublicEvent
from shared.events import marketing as m

Document = dict[str, Any]
TOUCHES = ("sent", "bounced", "opened", "clicked", "unsubscribed")


def section(doc: Document) -> Document:
    """The document's marketing section, created empty on first use."""
    empty: Document = {
        "counts": dict.fromkeys(TOUCHES, 0),
        "campaigns": {touch: [] for touch in TOUCHES},
        "unsubscribed_channels": [],
        "last_touch_at": None,
    }
    found: Document = doc.setdefault("marketing", empty)
    return found


def _touch(doc: Document, touch: str, campaign_id: Any, at: Any) -> Document:
    data = section(doc)
    data["counts"][touch] += 1
    if str(campaign_id) not in data["campaigns"][touch]:
        data["campaigns"][touch].append(str(campaign_id))
    when = at.isoformat()
    data["last_touch_at"] = max(data["last_touch_at"] or when, when)
    return data


def _sent(doc: Document, e: m.MessageSentV1) -> None:
    _touch(doc, "sent", e.campaign_id, e.sent_at)


def _bounced(doc: Document, e: m.MessageBouncedV1) -> None:
    _touch(doc, "bounced", e.campaign_id, e.bounced_at)


def _opened(doc: Document, e: m.EmailOpenedV1) -> None:
    _touch(doc, "opened", e.campaign_id, e.opened_at)


def _clicked(doc: Document, e: m.LinkClickedV1) -> None:
    _touch(doc, "clicked", e.campaign_id, e.clicked_at)


def _unsubscribed(doc: Document, e: m.UnsubscribedV1) -> None:
    data = _touch(doc, "unsubscribed", e.campaign_id, e.unsubscribed_at)
    if e.channel not in data["unsubscribed_channels"]:
        data["unsubscribed_channels"].append(e.channel)


def erase(doc: Document) -> None:
    """Nothing personal lives in the marketing section (counts, campaign ids, channels): it is kept for analysis."""


def absorb(doc: Document, other: Document) -> None:
    """Fold a merged customer's campaign touches into the survivor's: counts add up, campaigns and channels join."""
    if "marketing" not in other:
        return
    mine, theirs = section(doc), other["marketing"]
    for touch in TOUCHES:
        mine["counts"][touch] += theirs["counts"].get(touch, 0)
        mine["campaigns"][touch] += [c for c in theirs["campaigns"].get(touch, []) if c not in mine["campaigns"][touch]]
    mine["unsubscribed_channels"] += [
        c for c in theirs["unsubscribed_channels"] if c not in mine["unsubscribed_channels"]
    ]
    when = theirs["last_touch_at"]
    if when is not None:
        mine["last_touch_at"] = max(mine["last_touch_at"] or when, when)


FOLDS: dict[type[PublicEvent], Callable[[Document, Any], None]] = {
    m.MessageSentV1: _sent,
    m.MessageBouncedV1: _bounced,
    m.EmailOpenedV1: _opened,
    m.LinkClickedV1: _clicked,
    m.UnsubscribedV1: _unsubscribed,
}
