"""Which orders are transactions for the models, and the (x, t_x, T, m) summary of a history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.analytics.features import histories, spend_between, summarise, transactions_between
from services.analytics.purchases import Order


def order(order_id: str, day: str, paid: str, **kw: object) -> Order:
    placed = datetime.fromisoformat(day).replace(tzinfo=UTC)
    return Order(
        order_id,
        "c1",
        placed_at=placed,
        currency=str(kw.get("currency", "USD")),
        paid=Decimal(paid),
        refunded=Decimal(str(kw.get("refunded", "0"))),
        cancelled=bool(kw.get("cancelled", False)),
    )


def test_same_day_orders_are_one_transaction_and_their_spend_is_summed() -> None:
    result = histories({"c1": [order("o1", "1997-01-01T09:00", "10"), order("o2", "1997-01-01T18:00", "5.50")]}, "USD")
    assert result == {"c1": {date(1997, 1, 1): Decimal("15.50")}}


def test_cancelled_fully_refunded_and_foreign_currency_orders_do_not_count() -> None:
    orders = [
        order("kept", "1997-01-01", "20", refunded="5"),
        order("cancelled", "1997-01-02", "20", cancelled=True),
        order("refunded", "1997-01-03", "20", refunded="20"),
        order("unpaid or free", "1997-01-04", "0"),
        order("euro", "1997-01-05", "20", currency="EUR"),
    ]
    expected = {date(1997, 1, 1): Decimal("15"), date(1997, 1, 4): Decimal("0")}
    assert histories({"c1": orders}, "USD") == {"c1": expected}
    assert histories({"c1": orders}, "EUR") == {"c1": {date(1997, 1, 5): Decimal("20")}}


def test_summary_by_hand() -> None:
    history = {date(1997, 1, 1): Decimal(10), date(1997, 1, 15): Decimal(20), date(1997, 1, 29): Decimal(40)}
    later = {date(1997, 1, 29): Decimal(7)}
    summary = summarise({"b": later, "a": history, "z": {date(1997, 3, 1): Decimal(1)}}, date(1997, 2, 12), 7.0)
    assert summary.customer_ids == ["a", "b"]  # sorted; z had not bought by the cut
    assert summary.x.tolist() == [2, 0]
    assert summary.t_x.tolist() == [4, 0]  # weeks from first to last purchase
    assert summary.big_t.tolist() == [6, 2]  # weeks from first purchase to the cut
    assert summary.m.tolist() == [30, 0]  # the first purchase is not in the repeat average


def test_windows_are_open_at_the_start_and_closed_at_the_end() -> None:
    history = {date(1997, 1, 1): Decimal(10), date(1997, 1, 15): Decimal(20)}
    assert transactions_between(history, date(1997, 1, 1), date(1997, 1, 15)) == 1
    assert spend_between(history, date(1996, 12, 31), date(1997, 1, 15)) == Decimal(30)
    assert summarise({}, date(1997, 1, 1), 7.0).customer_ids == []


@pytest.mark.parametrize("unit", [1.0, 7.0])
def test_time_unit_scales_t_x_and_t(unit: float) -> None:
    summary = summarise({"a": {date(1997, 1, 1): Decimal(1), date(1997, 1, 8): Decimal(1)}}, date(1997, 1, 15), unit)
    assert (summary.t_x[0], summary.big_t[0]) == (7 / unit, 14 / unit)
