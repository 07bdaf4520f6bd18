"""The disaster drill: lose a topic, recreate it, republish, rebuild — the views come back bit for bit.

Customers are written over HTTP and projected live; the live generation's checksum is
taken. Then the customer topic is deleted. `crm topics ensure` recreates it, `crm
republish customer` re-emits the history from the event store, `crm rebuild analytics
--drop-old` builds a new generation from offset 0, switches to it and drops the old
one, and `crm verify` proves the new generation's checksum equals the one taken
before the disaster.
"""

from __future__ import annotations

import asyncio

import pytest

from shared.events.topics import CUSTOMER, TopicSpec
from shared.platform.topicadmin import delete_topics
from tests.integration.platform import Platform, eventually
from tests.integration.test_ops_rebuild import _control
from tests.integration.test_ops_republish import crm, customer_topic, topics, write_history


def _projected(platform: Platform, events: int) -> bool | None:
    timeline = platform.mongo["customer_timeline"].count_documents({})
    return timeline == events or None


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_delete_recreate_republish_rebuild_gives_the_checksum_from_before(platform: Platform) -> None:
    for name in ("customer", "customer-relay", "analytics-projector", "analytics"):
        platform.start(name)
    head = write_history(platform, customers=15)
    eventually(lambda: _projected(platform, head), timeout=120, what="every event projected live")
    code, before = crm(platform, "verify", "--no-rebuild")
    assert code == 0, before
    assert before["generation"] == 0
    assert before["counts"]["customer_timeline"] == head

    asyncio.run(delete_topics(platform.kafka, [TopicSpec(CUSTOMER)]))
    eventually(lambda: not customer_topic(platform).exists, timeout=30, what="topic deleted")
    code, ensured = eventually(lambda: _recreated(platform), timeout=60, what="topic recreated")
    assert ensured["created"] == [platform.kafka.topic(CUSTOMER)]

    code, republished = crm(platform, "republish", "customer")
    assert code == 0, republished
    assert republished["published"] == head

    code, rebuilt = crm(platform, "rebuild", "analytics", "--lag-threshold", "0", "--drop-old")
    assert code == 0, rebuilt
    assert (rebuilt["switched_from"], rebuilt["dropped"]) == (0, [0])
    assert _control(platform)["active"]["number"] == rebuilt["generation"]
    assert _control(platform)["g0"]["status"] == "dropped"
    assert "customer_360" not in platform.mongo.list_collection_names()  # the old generation is gone

    code, after = crm(platform, "verify", "--no-rebuild")
    assert code == 0, after
    assert after["generation"] == rebuilt["generation"]
    assert after["counts"] == before["counts"]
    assert after["collections"] == before["collections"]
    assert after["checksum"] == before["checksum"]


def _recreated(platform: Platform) -> tuple[int, dict[str, list[str]]] | None:
    """`crm topics ensure`, retried while Kafka still finishes deleting the old topic."""
    code, ensured = topics(platform, "ensure")
    return (code, ensured) if code == 0 and ensured.get("created") else None


@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_verify_names_the_document_that_differs_from_the_log(platform: Platform) -> None:
    for name in ("customer", "customer-relay", "analytics-projector"):
        platform.start(name)
    head = write_history(platform, customers=4)
    eventually(lambda: _projected(platform, head), timeout=120, what="every event projected live")
    code, equal = crm(platform, "verify")
    assert (code, equal["equal"], equal["differences"]) == (0, True, 0), equal

    victim = platform.mongo["customer_360"].find_one({})
    assert victim is not None
    platform.mongo["customer_360"].update_one({"_id": victim["_id"]}, {"$set": {"name": "篡改"}})
    code, report = crm(platform, "verify")
    assert code == 1, report
    assert report["equal"] is False
    assert report["documents"] == [{"collection": "customer_360", "id": victim["_id"], "kind": "differs"}]
    scratch = _control(platform)[f"g{report['scratch']['generation']}"]
    assert scratch["status"] == "dropped"  # the scratch generation is not left behind
