"""The projection core: merges fold into the survivor once, business events are kept, replays change nothing."""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest

from services.analytics import customer360
from services.analytics.projection import BUSINESS_EVENTS, CUSTOMER_360, TIMELINE, Customer360Projection, Item
from services.analytics.tests.builders import Stream, order
from services.analytics.tests.memorydb import Database

SURVIVOR, MERGED, THIRD = (str(uuid4()) for _ in range(3))


def history() -> tuple[list[Item], list[Item], list[Item]]:
    """(before the merge, the merge, after the merge) for MERGED → SURVIVOR."""
    s = Stream()
    ticket, interaction, message = str(uuid4()), str(uuid4()), str(uuid4())
    before = [
        s.make("crm.customer.registered.v1", SURVIVOR, SURVIVOR, name="王芳"),
        s.make("crm.customer.registered.v1", MERGED, MERGED, name="王芳 (dup)"),
        order(s, MERGED, "10.50", 1),
        order(s, SURVIVOR, "20.00", 2),
        s.make("crm.support.ticket_opened.v1", ticket, MERGED, ticket_id=ticket),
        s.make("crm.marketing.message_sent.v1", message, MERGED, message_id=message),
        s.make("crm.social.interaction_linked_to_customer.v1", interaction, MERGED, interaction_id=interaction),
        s.make("crm.marketing.campaign_spend_recorded.v1", str(uuid4())),
    ]
    merge = [
        s.make("crm.customer.merged.v1", MERGED, MERGED, survivor_id=SURVIVOR),
        s.make(
            "crm.customer.duplicate_absorbed.v1", SURVIVOR, SURVIVOR, merged_id=MERGED, emails=[], phones=[], tags=[]
        ),
    ]
    moved = s.make("crm.support.ticket_status_changed.v1", ticket, MERGED, ticket_id=ticket)
    after = [order(s, MERGED, "5.25", 3), moved]
    return before, merge, after


async def run(batches: list[list[Item]], **options: Any) -> Database:
    db = Database()
    projection = Customer360Projection(db, **options)  # type: ignore[arg-type]
    for batch in batches:
        await projection.apply_batch(batch)
    return db


def dump(db: Database) -> str:
    return json.dumps({name: db[name].docs for name in (CUSTOMER_360, TIMELINE, BUSINESS_EVENTS)}, sort_keys=True)


async def test_the_survivor_absorbs_the_merged_customer_and_later_events_once() -> None:
    before, merge, after = history()
    db = await run([before, merge, after])
    survivor, merged = db[CUSTOMER_360].docs[SURVIVOR], db[CUSTOMER_360].docs[MERGED]
    assert merged["merged_into"] == SURVIVOR
    assert survivor["absorbed"] == [MERGED]
    assert survivor["name"] == "王芳"
    assert survivor["sales"]["order_count"] == 3
    assert survivor["sales"]["revenue"] == {"EUR": "35.75"}
    assert survivor["support"]["open_tickets"] == 1
    assert next(iter(survivor["support"]["tickets"].values()))["status"] == "pending"
    assert survivor["marketing"]["counts"]["sent"] == 1
    assert survivor["social"]["interaction_count"] == 1
    assert merged["sales"]["order_count"] == 2, "the merged customer's own document keeps its history"


async def test_every_event_applied_twice_gives_byte_identical_documents() -> None:
    before, merge, after = history()
    once = await run([before, merge, after])
    twice = await run([[i for item in batch for i in (item, item)] for batch in (before, merge, after)])
    replayed = await run([before, merge, after, before, merge, after])
    assert dump(once) == dump(twice) == dump(replayed)


async def test_a_late_event_about_the_merged_customer_counts_once_whether_it_arrives_before_or_after_the_merge() -> (
    None
):
    before, merge, after = history()
    merge_first = await run([before, merge, after])
    merge_last = await run([before, after, merge])
    one_batch = await run([before + merge + after])
    sections = [db[CUSTOMER_360].docs[SURVIVOR]["sales"] for db in (merge_first, merge_last, one_batch)]
    assert all(s["order_count"] == 3 and s["revenue"] == {"EUR": "35.75"} for s in sections)


async def test_erasing_the_survivor_erases_the_absorbed_duplicate_too() -> None:
    before, merge, after = history()
    s = Stream()
    s.versions = {SURVIVOR: 10}
    erased = [s.make("crm.customer.erased.v1", SURVIVOR, SURVIVOR)]
    db = await run([before, merge, after, erased])
    docs = db[CUSTOMER_360].docs
    assert (docs[SURVIVOR]["name"], docs[MERGED]["name"]) == (None, None)
    assert docs[MERGED]["erased"] is True
    assert docs[SURVIVOR]["sales"]["order_count"] == 3, "counts stay for analysis"
    entries = db[TIMELINE].docs.values()
    assert all(e["data"] == {} for e in entries if e["customer_id"] in (SURVIVOR, MERGED))


async def test_merges_chain_down_to_the_last_survivor() -> None:
    before, merge, _ = history()
    s = Stream()
    s.versions = {SURVIVOR: 10, MERGED: 10}
    second = [s.make("crm.customer.merged.v1", SURVIVOR, SURVIVOR, survivor_id=THIRD)]
    late = [order(s, MERGED, "1.00", 9)]
    db = await run([before, merge, second, late])
    third = db[CUSTOMER_360].docs[THIRD]
    assert third["absorbed"] == [SURVIVOR, MERGED]
    assert third["sales"]["order_count"] == 3
    assert third["sales"]["revenue"] == {"EUR": "31.50"}


async def test_events_without_a_customer_go_to_business_events_once() -> None:
    before, _, _ = history()
    spend = before[-1]
    db = await run([[spend], [spend]])
    [entry] = db[BUSINESS_EVENTS].docs.values()
    assert entry["_id"] == spend[0].id
    assert entry["type"] == "crm.marketing.campaign_spend_recorded.v1"
    assert entry["data"]["amount"] == spend[0].data["amount"]
    assert "customer_id" not in entry
    assert db[CUSTOMER_360].docs == {}


async def test_new_documents_are_inserted_and_known_ones_replaced_in_bulk_chunks() -> None:
    s, customers = Stream(), [str(uuid4()) for _ in range(5)]
    db = await run([[order(s, c, "1.00", 1) for c in customers]], bulk_chunk=2)
    assert db[CUSTOMER_360].bulk_sizes == [], "first seen: one insert_many, no replace"
    assert len(db[CUSTOMER_360].docs) == 5
    projection = Customer360Projection(db, bulk_chunk=2)  # type: ignore[arg-type]
    await projection.apply_batch([order(s, c, "2.00", 2) for c in customers])
    assert db[CUSTOMER_360].bulk_sizes == [2, 2, 1]
    assert {d["sales"]["order_count"] for d in db[CUSTOMER_360].docs.values()} == {2}


async def test_a_fold_that_fails_writes_nothing_for_that_event(monkeypatch: pytest.MonkeyPatch) -> None:
    before, merge, _ = history()
    model = type(merge[0][1])

    def broken(doc: customer360.Document, event: Any) -> None:
        raise KeyError("a bug in a fold")

    monkeypatch.setitem(customer360.FOLDS, model, broken)
    db = Database()
    projection = Customer360Projection(db)  # type: ignore[arg-type]
    await projection.apply_batch(before)
    result = await projection.apply_batch(merge)
    assert [index for index, _ in result.failed] == [0]
    assert db[CUSTOMER_360].docs[MERGED]["merged_into"] is None
    assert db[CUSTOMER_360].docs[SURVIVOR].get("absorbed") == [], "the survivor absorbed nothing"


def test_absorbing_the_same_customer_twice_changes_nothing() -> None:
    survivor = customer360.new_document(SURVIVOR)
    merged = customer360.new_document(MERGED) | {"event_count": 3, "versions": {MERGED: 3}}
    once = customer360.absorb(survivor, merged)
    snapshot = json.dumps(once, sort_keys=True)
    assert json.dumps(customer360.absorb(once, merged), sort_keys=True) == snapshot
    assert once["event_count"] == 3
