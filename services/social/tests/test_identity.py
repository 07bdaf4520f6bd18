"""Identity resolution and the customer lifecycle: auto-link by handle or email, unlink, merge, erase."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from services.social.accounts import Account
from services.social.application import SocialApplication
from services.social.identities import Identity, identity_id
from services.social.inbox import Inbox
from services.social.interactions import Interaction
from services.social.lifecycle import CustomerLifecycle
from services.social.tests.conftest import connect, mention


@pytest.fixture
def account(app: SocialApplication) -> Account:
    return app.load(Account, connect(app))


@pytest.fixture
def lifecycle(inbox: Inbox) -> CustomerLifecycle:
    return CustomerLifecycle(inbox)


def receive(inbox: Inbox, account: Account, n: int = 1, **overrides: Any) -> Interaction:
    interaction_id, _ = inbox.receive(account, f"d-{n}", mention(n, **overrides))
    return inbox.app.load(Interaction, interaction_id)


def test_an_unknown_author_stays_unlinked(inbox: Inbox, account: Account) -> None:
    assert receive(inbox, account).customer_id is None


def test_an_author_writing_from_a_customers_email_is_linked(
    inbox: Inbox, account: Account, lifecycle: CustomerLifecycle
) -> None:
    customer = uuid4()
    lifecycle.emails_added(customer, ["wang.fang@example.cn"])
    linked = receive(inbox, account, author_email="Wang.Fang@Example.CN")
    assert (linked.customer_id, linked.link_method) == (customer, "email")


def test_waiting_interactions_link_when_the_customer_appears(
    inbox: Inbox, account: Account, lifecycle: CustomerLifecycle
) -> None:
    waiting = receive(inbox, account, author_email="wang.fang@example.cn")
    customer = uuid4()
    lifecycle.emails_added(customer, ["wang.fang@example.cn"])
    assert inbox.app.load(Interaction, waiting.id).customer_id == customer


def test_a_manual_link_teaches_the_handle(inbox: Inbox, account: Account) -> None:
    first = receive(inbox, account, 1)
    earlier_unlinked = receive(inbox, account, 2, author_handle="@Wang_Fang")
    customer = uuid4()
    inbox.link(first.id, customer, by="agent@example.com", expected_version=first.version)
    assert inbox.app.load(Interaction, earlier_unlinked.id).customer_id == customer, "same handle, any case"
    later = receive(inbox, account, 3, author_handle="wang_fang")
    assert (later.customer_id, later.link_method) == (customer, "handle")


def test_unlink_forgets_the_handle(inbox: Inbox, account: Account) -> None:
    first = receive(inbox, account, 1)
    customer = uuid4()
    inbox.link(first.id, customer, by="agent@example.com", expected_version=None)
    inbox.unlink(first.id, by="agent@example.com", expected_version=None)
    assert inbox.app.load(Interaction, first.id).customer_id is None
    assert receive(inbox, account, 2).customer_id is None


def test_a_merge_repoints_interactions_and_handles_to_the_survivor(
    inbox: Inbox, account: Account, lifecycle: CustomerLifecycle
) -> None:
    first = receive(inbox, account, 1)
    merged, survivor = uuid4(), uuid4()
    inbox.link(first.id, merged, by="agent@example.com", expected_version=None)
    lifecycle.merged(merged, survivor)
    lifecycle.merged(merged, survivor)  # a redelivery changes nothing
    moved = inbox.app.load(Interaction, first.id)
    assert (moved.customer_id, moved.link_method) == (survivor, "manual")
    assert receive(inbox, account, 2).customer_id == survivor


def test_erasure_forgets_texts_and_handles_and_shreds_keys(
    inbox: Inbox, account: Account, lifecycle: CustomerLifecycle
) -> None:
    app = inbox.app
    first = receive(inbox, account, 1)
    customer = uuid4()
    lifecycle.emails_added(customer, ["wang.fang@example.cn"])
    inbox.link(first.id, customer, by="agent@example.com", expected_version=None)
    lifecycle.erased(customer)
    lifecycle.erased(customer)  # idempotent
    erased = app.load(Interaction, first.id)
    assert (erased.text, erased.author_handle, erased.erased) == ("", "", True)
    assert app.pii_keys.existing_key(first.id) is None
    identity = app.load(Identity, identity_id("weibo", "@wang_fang"))
    assert identity.customer_id is None
    assert app.views.customer_by_email("wang.fang@example.cn") is None
    assert receive(inbox, account, 2).customer_id is None, "the handle no longer links"


def test_an_email_removed_from_the_customer_no_longer_links(
    inbox: Inbox, account: Account, lifecycle: CustomerLifecycle
) -> None:
    customer = uuid4()
    lifecycle.emails_added(customer, ["wang.fang@example.cn"])
    lifecycle.email_removed(customer, "wang.fang@example.cn")
    assert receive(inbox, account, author_email="wang.fang@example.cn").customer_id is None


def test_linked_interaction_ids_are_derived_from_the_platform_id(inbox: Inbox, account: Account) -> None:
    once = receive(inbox, account, 1)
    same, new = inbox.receive(account, "d-99", mention(1))
    assert (same, new) == (once.id, False)
    assert isinstance(once.id, UUID)
