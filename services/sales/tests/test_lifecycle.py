"""Commands on an in-memory store: state rules, refund limits, expiry, merges, erasure, clicks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.sales import expiry
from services.sales.application import SalesApplication
from services.sales.commerce_commands import LineRequest
from services.sales.deal_commands import DealInput
from services.sales.domain import InvalidTransition, NotOwner, QuoteExpired, RefundTooLarge
from services.sales.lead_commands import LeadInput
from services.sales.leads import Lead
from services.sales.quotes import Quote
from shared.events.sales import customer_id_for_lead
from shared.platform.auth import Principal


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


REP = Principal("rep@example.com", frozenset({"sales_rep"}))
OTHER = Principal("other@example.com", frozenset({"sales_rep"}))
ADMIN = Principal("admin@example.com", frozenset({"admin"}))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sales(clock: Clock) -> SalesApplication:
    return SalesApplication(clock=clock)


def deal(sales: SalesApplication, currency: str = "EUR") -> UUID:
    body = DealInput("Deal", Decimal("100"), currency, date(2026, 6, 30))
    return sales.open_opportunity(uuid4(), body, REP, None, None).id


def quote(sales: SalesApplication, valid_until: date = date(2026, 3, 10)) -> UUID:
    product = sales.upsert_product(
        "SKU-1", name="Thing", prices={"EUR": Decimal("10.00")}, tax_rate=Decimal("0.2"), active=True
    )
    line = LineRequest(product.id, Decimal(2))
    return sales.create_quote(deal(sales), [line], valid_until, REP).id


def test_only_the_owner_changes_a_deal(sales: SalesApplication) -> None:
    opportunity = deal(sales)
    with pytest.raises(Exception, match="not found"):
        sales.move_opportunity(opportunity, "proposal", OTHER, None)
    assert sales.move_opportunity(opportunity, "proposal", REP, None).probability == Decimal("0.5")
    analyst = Principal("a@example.com", frozenset({"analyst"}))
    with pytest.raises(NotOwner):
        sales.move_opportunity(opportunity, "negotiation", analyst, None)


def test_a_won_deal_cannot_be_reopened_or_moved(sales: SalesApplication) -> None:
    opportunity = deal(sales)
    won = sales.win_opportunity(opportunity, Decimal("90.00"), REP, None)
    assert (won.status, won.amount) == ("won", Decimal("90.00"))
    with pytest.raises(InvalidTransition):
        sales.reopen_opportunity(opportunity, None, REP, None)
    with pytest.raises(InvalidTransition):
        sales.move_opportunity(opportunity, "proposal", REP, None)


def test_revisions_are_new_versions_of_the_quote(sales: SalesApplication) -> None:
    quote_id = quote(sales)
    sales.answer_quote(quote_id, "send", REP, None)
    product = sales.views.catch_up().of_kind("product")[0]
    revised = sales.revise_quote(quote_id, [LineRequest(product.id, Decimal(5))], date(2026, 3, 20), REP, None)
    assert (revised.revision, revised.status, revised.total) == (2, "draft", Decimal("60.00"))


def test_a_quote_is_not_accepted_after_valid_until_and_expires(sales: SalesApplication, clock: Clock) -> None:
    quote_id = quote(sales)
    sales.answer_quote(quote_id, "send", REP, None)
    clock.now += timedelta(days=9)
    with pytest.raises(QuoteExpired):
        sales.answer_quote(quote_id, "accept", REP, None)
    assert sales.expire_quotes() == [quote_id]
    assert sales.expire_quotes() == [], "expiring is done once"


def paid_order(sales: SalesApplication) -> UUID:
    quote_id = quote(sales)
    sales.answer_quote(quote_id, "send", REP, None)
    sales.answer_quote(quote_id, "accept", REP, None)
    order = sales.order_from_quote(quote_id, REP)
    assert order.total == Decimal("24.00")
    sales.progress_order(order.id, "pay", REP, None)
    return order.id


def test_refunds_never_exceed_what_was_paid(sales: SalesApplication) -> None:
    order_id = paid_order(sales)
    sales.progress_order(order_id, "refund", REP, None, amount=Decimal("20.00"))
    with pytest.raises(RefundTooLarge):
        sales.progress_order(order_id, "refund", REP, None, amount=Decimal("4.01"))
    assert sales.progress_order(order_id, "refund", REP, None, amount=Decimal("4.00")).status == "refunded"
    with pytest.raises(RefundTooLarge):
        sales.progress_order(order_id, "refund", REP, None, amount=Decimal("0.01"))


def test_cancel_only_before_shipment(sales: SalesApplication) -> None:
    order_id = paid_order(sales)
    sales.progress_order(order_id, "ship", REP, None)
    with pytest.raises(InvalidTransition, match="before shipment"):
        sales.progress_order(order_id, "cancel", REP, None, reason="late")
    assert sales.progress_order(order_id, "deliver", REP, None).status == "delivered"


def test_payment_must_equal_the_total(sales: SalesApplication) -> None:
    quote_id = quote(sales)
    sales.answer_quote(quote_id, "send", REP, None)
    sales.answer_quote(quote_id, "accept", REP, None)
    order = sales.order_from_quote(quote_id, REP)
    with pytest.raises(InvalidTransition):
        sales.progress_order(order.id, "pay", REP, None, amount=Decimal("1.00"))


def lead(sales: SalesApplication, email: str = "li.na@example.cn") -> Lead:
    return sales.capture_lead(LeadInput(name="李娜", email=email, country="CN", source="campaign"), REP)


def test_merge_repoints_deals_quotes_and_orders_idempotently(sales: SalesApplication) -> None:
    order_id = paid_order(sales)
    merged = sales.views.catch_up().rows[order_id].customer_id
    assert merged is not None
    survivor = uuid4()
    assert sales.repoint_customer(merged, survivor) == 3
    assert sales.repoint_customer(merged, survivor) == 0
    assert {r.kind for r in sales.views.catch_up().of_customer(survivor)} == {"opportunity", "quote", "order"}


def test_a_click_of_a_known_customer_rescores_their_open_lead_once(sales: SalesApplication) -> None:
    captured = lead(sales)
    customer = uuid4()
    sales.remember_emails(customer, ["Li.Na@example.cn"])
    assert sales.record_click(customer, "m1:t1") == [captured.id]
    assert sales.record_click(customer, "m1:t1") == []
    scored = sales.load(Lead, captured.id)
    assert scored.score == captured.score + 5
    assert scored.reasons[-1] == "engagement 1 clicks +5"


def test_erasure_shreds_the_leads_of_the_customer_and_the_views_forget_them(sales: SalesApplication) -> None:
    captured = lead(sales)
    sales.qualify_lead(captured.id, REP, None)
    sales.convert_lead(captured.id, None, REP, None)
    customer = customer_id_for_lead(captured.id)
    sales.remember_emails(customer, ["li.na@example.cn"])
    assert sales.forget_customer(customer) == 1
    row = sales.views.catch_up().rows[captured.id]
    assert (row.data["name"], row.data["email"]) == ("", None)
    assert customer not in sales.views.customer_emails
    assert sales.pii_keys.existing_key(captured.id) is None
    assert sales.load(Lead, captured.id).name == ""
    assert sales.forget_customer(customer) == 1, "a redelivered erasure is harmless"


def test_a_converted_lead_cannot_be_converted_again(sales: SalesApplication) -> None:
    captured = lead(sales)
    sales.qualify_lead(captured.id, REP, None)
    sales.convert_lead(captured.id, None, REP, None)
    with pytest.raises(InvalidTransition):
        sales.convert_lead(captured.id, None, REP, None)
    again = lead(sales)
    assert again.id != captured.id, "a converted lead is not open: the same email may come back"


def test_the_expiry_worker_expires_each_due_quote_once_across_restarts(tmp_path: Any, clock: Clock) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "s.sqlite")}
    first = SalesApplication(env=env, clock=clock)
    quote_id = quote(first)
    assert expiry.run_once(first) == []
    clock.now += timedelta(days=30)
    assert expiry.run_once(first) == [quote_id]
    restarted = SalesApplication(env=env, clock=clock)
    assert expiry.run_once(restarted) == []
    assert restarted.load(Quote, quote_id).status == "expired"
