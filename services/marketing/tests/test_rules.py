"""Segment rules: attribute conditions from the audience view; metric conditions refused until analytics serves them."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from services.marketing.rules import Member, MetricCondition, MetricsUnavailable, NoMetrics, SegmentRules, select


def member(**fields: object) -> Member:
    base: dict[str, object] = {
        "id": uuid4(),
        "name": "张伟",
        "emails": ("z@example.cn",),
        "phones": ("+8613812345678",),
        "source": "web",
        "tags": ("vip",),
        "consent": {"email": True},
        "country": "CN",
    }
    return Member(**(base | fields))  # type: ignore[arg-type]


def rules(*conditions: dict[str, object], match: str = "all") -> SegmentRules:
    return SegmentRules.model_validate({"match": match, "conditions": list(conditions)})


CN_VIP = member()
DE_VIP = member(country="DE", phones=("+4915112345678",))
CN_PLAIN = member(tags=(), consent={"email": False})
ALL = [CN_VIP, DE_VIP, CN_PLAIN]


def test_country_tags_and_consent_combine_with_all() -> None:
    found = select(
        rules(
            {"attribute": "country", "values": ["CN"]},
            {"attribute": "tags", "values": ["vip"]},
            {"attribute": "consent", "channel": "email"},
        ),
        ALL,
        NoMetrics(),
    )
    assert found == [CN_VIP]


def test_any_is_a_union() -> None:
    found = select(
        rules(
            {"attribute": "country", "values": ["DE"]},
            {"attribute": "tags", "op": "none", "values": ["vip"]},
            match="any",
        ),
        ALL,
        NoMetrics(),
    )
    assert found == [DE_VIP, CN_PLAIN]


def test_not_in_and_withheld_consent() -> None:
    assert select(rules({"attribute": "country", "op": "not_in", "values": ["CN"]}), ALL, NoMetrics()) == [DE_VIP]
    assert select(rules({"attribute": "consent", "channel": "email", "granted": False}), ALL, NoMetrics()) == [CN_PLAIN]


def test_source_and_all_tags() -> None:
    tagged = member(tags=("vip", "tennis"), source="referral")
    found = select(
        rules(
            {"attribute": "tags", "op": "all", "values": ["vip", "tennis"]},
            {"attribute": "source", "values": ["referral"]},
        ),
        [*ALL, tagged],
        NoMetrics(),
    )
    assert found == [tagged]


def test_unknown_attribute_or_bad_country_is_rejected() -> None:
    with pytest.raises(ValidationError):
        rules({"attribute": "shoe_size", "values": ["42"]})
    with pytest.raises(ValidationError):
        rules({"attribute": "country", "values": ["China"]})
    with pytest.raises(ValidationError):
        SegmentRules.model_validate({"conditions": []})


def test_metric_conditions_need_analytics() -> None:
    dormant_high_value = rules(
        {"metric": "value_tier", "op": "in", "values": ["high_value"]},
        {"metric": "lifecycle_stage", "op": "in", "values": ["dormant"]},
    )
    assert len(dormant_high_value.metric_conditions) == 2
    with pytest.raises(MetricsUnavailable):
        select(dormant_high_value, ALL, NoMetrics())


def test_metric_answers_are_intersected() -> None:
    class Source:
        def matching(self, condition: MetricCondition, candidates: set[UUID]) -> set[UUID]:
            return {CN_VIP.id, DE_VIP.id}

        def check(self, condition: MetricCondition) -> None:
            """Every condition is answerable here."""

    found = select(
        rules({"metric": "clv", "op": "gte", "threshold": 500}, {"attribute": "country", "values": ["CN"]}),
        ALL,
        Source(),
    )
    assert found == [CN_VIP]


@pytest.mark.parametrize(
    ("condition", "why"),
    [
        ({"metric": "clv", "op": "gte", "values": []}, "needs a threshold"),
        ({"metric": "clv", "op": "in", "values": ["5"]}, "numeric"),
        ({"metric": "churn_risk", "op": "lte"}, "needs a threshold"),
        ({"metric": "value_tier", "op": "in", "values": []}, "at least one value"),
        ({"metric": "lifecycle_stage", "op": "gte", "threshold": 2}, "categorical"),
    ],
)
def test_a_condition_analytics_can_never_answer_is_refused_when_written(condition: dict[str, object], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        MetricCondition.model_validate(condition)
