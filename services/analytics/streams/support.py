"""How support events (`crm.support.v1`) fold into the 360: tickets, SLAs and CSAT/NPS.

Each fold keeps its data in the document's `support` section (created on first use).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.events import PublicEvent

Document = dict[str, Any]

FOLDS: dict[type[PublicEvent], Callable[[Document, Any], None]] = {}


def erase(doc: Document) -> None:
    """Forget the personal data this stream put into the document (after `CustomerErased`)."""
