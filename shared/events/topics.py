"""Kafka topics of the platform, as configuration in code.

One public stream per service, partitioned by customer id and kept forever so any
subscriber can replay from the start; one dead-letter topic per consumer group.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PARTITIONS = 6
"""Partitions of every stream: the most consumer replicas a group can usefully run."""

CUSTOMER = "crm.customer.v1"
SALES = "crm.sales.v1"
MARKETING = "crm.marketing.v1"
SUPPORT = "crm.support.v1"
SOCIAL = "crm.social.v1"

STREAMS = (CUSTOMER, SALES, MARKETING, SUPPORT, SOCIAL)

CONSUMER_GROUPS = ("analytics", "customer", "sales", "marketing", "support", "social")
"""Consumer groups that own a dead-letter topic."""


def dead_letter_topic(group: str) -> str:
    """The dead-letter topic of consumer group `group`."""
    return f"crm.dlq.{group}.v1"


@dataclass(frozen=True)
class TopicSpec:
    """A topic with its partitions and configs, for `ensure`-style creation."""

    name: str
    partitions: int = PARTITIONS
    configs: dict[str, str] = field(
        default_factory=lambda: {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}
    )


def all_topics() -> list[TopicSpec]:
    """Every topic the platform needs: the streams and each group's dead letters."""
    return [TopicSpec(name) for name in STREAMS] + [TopicSpec(dead_letter_topic(group)) for group in CONSUMER_GROUPS]
