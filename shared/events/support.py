"""Public events of the support service on `crm.support.v1` (customer service and support)."""

from __future__ import annotations

from shared.events import topics
from shared.events.base import CustomerKeyedEvent, PublicEvent


class SupportEvent(PublicEvent):
    """Base of the support stream's events that are not about one customer (queues, policies)."""

    topic = topics.SUPPORT


class SupportCustomerEvent(CustomerKeyedEvent):
    """Base of the support stream's events about one customer (tickets, surveys, feedback)."""

    topic = topics.SUPPORT


EVENTS: tuple[type[PublicEvent], ...] = ()
