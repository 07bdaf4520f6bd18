"""The segment rule language: conditions on customer attributes and on analytics metrics.

A segment is `match` ("all" or "any") over a list of conditions. Attribute conditions
are answered from marketing's own audience view; metric conditions (lifecycle stage,
value tier, RFM, churn risk, CLV, days since the last purchase) are answered by the
analytics query API through a `MetricsSource`, asked once per condition per evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Literal, Protocol
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

Country = Annotated[str, Field(pattern="^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. CN.")]
MetricName = Literal["lifecycle_stage", "value_tier", "rfm_segment", "churn_risk", "clv", "days_since_last_purchase"]
CATEGORICAL: frozenset[str] = frozenset({"lifecycle_stage", "value_tier", "rfm_segment"})
"""Metrics compared with `in` / `not_in`; the others are numbers compared with `gte` / `lte`."""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountryIs(_Rule):
    """The customer's country (from their first phone number's region) is one of `values`."""

    attribute: Literal["country"]
    op: Literal["in", "not_in"] = "in"
    values: list[Country] = Field(min_length=1, max_length=250)


class SourceIs(_Rule):
    """The channel the customer came from (web, referral, lead, ...) is one of `values`."""

    attribute: Literal["source"]
    op: Literal["in", "not_in"] = "in"
    values: list[str] = Field(min_length=1, max_length=50)


class TagsMatch(_Rule):
    """The customer's tags contain any / all / none of `values`."""

    attribute: Literal["tags"]
    op: Literal["any", "all", "none"] = "any"
    values: list[str] = Field(min_length=1, max_length=50)


class ConsentIs(_Rule):
    """The customer granted (or withheld) marketing consent on `channel`."""

    attribute: Literal["consent"]
    channel: Literal["email", "sms", "phone", "social"]
    granted: bool = True


class MetricCondition(_Rule):
    """A condition on an analytics metric, e.g. `value_tier in [high_value]` or `clv >= 500`."""

    metric: MetricName
    op: Literal["in", "not_in", "gte", "lte"]
    values: list[str] = Field(default_factory=list, max_length=20, description="For in / not_in.")
    threshold: float | None = Field(default=None, description="For gte / lte.")

    @model_validator(mode="after")
    def _fits_its_metric(self) -> MetricCondition:
        """The op fits the metric's kind and has what it compares with, as analytics requires.

        Checked when the segment is saved: a condition analytics can never answer (`clv in
        []`) used to be saved, then made every preview and send of its segment a 503.
        """
        if self.metric in CATEGORICAL:
            if self.op not in ("in", "not_in"):
                raise ValueError(f"metric {self.metric!r} is categorical: use in or not_in")
            if not self.values:
                raise ValueError(f"op {self.op!r} needs at least one value")
        else:
            if self.op not in ("gte", "lte"):
                raise ValueError(f"metric {self.metric!r} is numeric: use gte or lte")
            if self.threshold is None:
                raise ValueError(f"op {self.op!r} needs a threshold")
        return self


AttributeCondition = CountryIs | SourceIs | TagsMatch | ConsentIs
Condition = AttributeCondition | MetricCondition


class SegmentRules(_Rule):
    """Which customers belong to a segment: all (AND) or any (OR) of the conditions."""

    match: Literal["all", "any"] = "all"
    conditions: list[Condition] = Field(min_length=1, max_length=50)

    @property
    def metric_conditions(self) -> list[MetricCondition]:
        """The conditions analytics must answer."""
        return [c for c in self.conditions if isinstance(c, MetricCondition)]


@dataclass(frozen=True)
class Member:
    """What the audience view knows about one active customer."""

    id: UUID
    name: str
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    source: str
    tags: tuple[str, ...]
    consent: dict[str, bool]
    country: str | None


class MetricsUnavailable(Exception):
    """The analytics query API cannot answer metric conditions (not deployed, or not yet built)."""


class MetricConditionRefused(ValueError):
    """Analytics will never answer this metric condition (e.g. a stage it does not know)."""


class MetricsSource(Protocol):
    """Answers metric conditions for a set of candidate customers."""

    def matching(self, condition: MetricCondition, candidates: set[UUID]) -> set[UUID]:
        """The candidates for which `condition` holds."""

    def check(self, condition: MetricCondition) -> None:
        """Raise `MetricConditionRefused` if analytics would refuse `condition` (asked when a segment is saved)."""


class NoMetrics:
    """The metrics source while analytics does not expose lifecycle/value/RFM/churn/CLV: it refuses."""

    def matching(self, condition: MetricCondition, candidates: set[UUID]) -> set[UUID]:
        raise MetricsUnavailable(
            f"metric condition {condition.metric!r} needs the analytics query API, which does not expose it yet"
        )

    def check(self, condition: MetricCondition) -> None:
        """Nothing to ask: the condition's own rules were checked; using it will answer 503."""


def holds(condition: AttributeCondition, member: Member) -> bool:
    """Whether an attribute condition holds for `member`."""
    if isinstance(condition, ConsentIs):
        return member.consent.get(condition.channel, False) is condition.granted
    if isinstance(condition, TagsMatch):
        wanted, tags = set(condition.values), set(member.tags)
        return {"any": bool(wanted & tags), "all": wanted <= tags, "none": not wanted & tags}[condition.op]
    value = member.country if isinstance(condition, CountryIs) else member.source
    return (value in condition.values) is (condition.op == "in")


def select(rules: SegmentRules, members: Iterable[Member], metrics: MetricsSource) -> list[Member]:
    """The members the rules select, in the order given."""
    pool = list(members)
    attributes = [c for c in rules.conditions if not isinstance(c, MetricCondition)]
    candidates = {m.id for m in pool}
    answers = [metrics.matching(c, candidates) for c in rules.metric_conditions]
    combine = all if rules.match == "all" else any
    return [m for m in pool if combine([*(holds(c, m) for c in attributes), *(m.id in answer for answer in answers)])]
