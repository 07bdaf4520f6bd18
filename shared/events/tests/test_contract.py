"""Contract tests: every public event round-trips, and its committed schema is the model's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from shared.events import REGISTRY, EventEnvelope, PublicEvent, asyncapi, schemas
from shared.events.customer import CustomerRegisteredV1
from shared.events.tests import samples_customer, samples_marketing, samples_sales, samples_social, samples_support
from shared.events.topics import STREAMS

CUSTOMER = UUID("8a7c4a52-5d0e-4c55-9d53-0e4b3c1f2a10")

SAMPLES: dict[str, dict[str, Any]] = {
    **samples_customer.SAMPLES,
    **samples_sales.SAMPLES,
    **samples_marketing.SAMPLES,
    **samples_support.SAMPLES,
    **samples_social.SAMPLES,
}
"""Valid data per event type; each stream's samples live beside this file."""


def sample(model: type[PublicEvent]) -> PublicEvent:
    """A valid instance of `model` from the samples above."""
    return model.model_validate({"customer_id": str(CUSTOMER), **SAMPLES[model.event_type]})


def test_every_registered_event_has_a_sample() -> None:
    assert sorted(SAMPLES) == sorted(m.event_type for m in REGISTRY)


@pytest.mark.parametrize("model", list(REGISTRY), ids=lambda m: m.event_type)
def test_event_round_trips_through_json(model: type[PublicEvent]) -> None:
    event = sample(model)
    assert model.model_validate_json(event.model_dump_json()) == event


@pytest.mark.parametrize("model", list(REGISTRY), ids=lambda m: m.event_type)
def test_event_round_trips_through_a_kafka_record(model: type[PublicEvent]) -> None:
    event = sample(model)
    envelope = EventEnvelope.wrap(
        event, source="/crm/test", aggregate_id=CUSTOMER, aggregate_version=3, time=datetime(2026, 1, 1, tzinfo=UTC)
    )
    rebuilt = EventEnvelope.from_kafka([(k, v.encode()) for k, v in envelope.headers().items()], envelope.body())
    assert rebuilt == envelope
    assert REGISTRY.model(rebuilt.type).model_validate(rebuilt.data) == event
    assert REGISTRY.parse(rebuilt) == REGISTRY.upcast(event)


@pytest.mark.parametrize("model", list(REGISTRY), ids=lambda m: m.event_type)
def test_event_type_is_versioned_and_routed_to_a_stream(model: type[PublicEvent]) -> None:
    assert model.event_type.rsplit(".", 1)[-1].startswith("v")
    assert model.topic in STREAMS
    assert model.__doc__, "the docstring feeds the AsyncAPI summary"


def test_committed_schemas_match_the_models() -> None:
    breaking, drift = schemas.problems()
    assert not breaking, f"breaking changes to published events: {breaking}"
    assert not drift, f"schemas out of date, run `make schemas`: {drift}"


def test_committed_asyncapi_document_matches_the_registry() -> None:
    assert asyncapi.DOCUMENT.read_text("utf-8") == asyncapi.render(asyncapi.document())


def test_asyncapi_lists_every_event_on_its_channel() -> None:
    doc = asyncapi.document()
    for model in REGISTRY:
        assert model.event_type in doc["channels"][model.topic]["messages"]


def test_unknown_fields_from_a_newer_producer_are_ignored() -> None:
    data = {"customer_id": str(CUSTOMER), **SAMPLES["crm.customer.registered.v1"], "loyalty_tier": "gold"}
    assert CustomerRegisteredV1.model_validate(data).name == "张伟"


def test_invalid_data_is_rejected() -> None:
    with pytest.raises(ValidationError):
        CustomerRegisteredV1.model_validate({"customer_id": "not-a-uuid", "name": "x"})


def test_a_schema_file_without_a_model_is_reported(tmp_path: Path) -> None:
    for model in REGISTRY:
        (tmp_path / model.schema_name()).write_text(schemas.render(schemas.schema_of(model)), "utf-8")
    (tmp_path / "crm.customer.vanished.v1.json").write_text("{}", "utf-8")
    _, drift = schemas.problems(directory=tmp_path)
    assert drift == ["crm.customer.vanished.v1.json (no model)"]


def _edited(model: type[PublicEvent], **changes: Any) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(json.dumps(schemas.schema_of(model)))
    for path, value in changes.items():
        target = schema
        *parents, leaf = path.split("/")
        for part in parents:
            target = target[part]
        if value is None:
            del target[leaf]
        else:
            target[leaf] = value
    return schema


def test_write_refuses_a_breaking_change_to_a_published_version(tmp_path: Path) -> None:
    old = _edited(CustomerRegisteredV1, **{"properties/nickname": {"type": "string"}})
    (tmp_path / CustomerRegisteredV1.schema_name()).write_text(schemas.render(old), "utf-8")
    with pytest.raises(SystemExit, match="field 'nickname' was removed"):
        schemas.write(directory=tmp_path)


def test_a_breaking_change_against_a_published_revision_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    published = _edited(CustomerRegisteredV1, **{"properties/name": {"type": "integer"}})
    monkeypatch.setattr(
        schemas, "published_at", lambda rev, model: published if model is CustomerRegisteredV1 else None
    )
    assert schemas.breaking_since("origin/main") == ["crm.customer.registered.v1: field 'name' changed type"]


def test_the_current_models_break_nothing_published_at_head() -> None:
    assert schemas.breaking_since("HEAD") == []
