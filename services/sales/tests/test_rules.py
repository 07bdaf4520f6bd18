"""The pure rules: scoring, assignment, money and quote arithmetic, forecast."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from services.sales.assignment import AssignmentRules, RepEntry, choose_owner
from services.sales.domain import InvalidInput
from services.sales.forecast import forecast, period_of
from services.sales.money import amount, currency, minor_units, round_money
from services.sales.quotes import LineInput, price
from services.sales.scoring import ScoringRules, score
from services.sales.views import Row

RULES = ScoringRules()


def test_score_adds_the_points_of_every_rule_that_fired_with_reasons() -> None:
    points, reasons = score(
        RULES, source="campaign", company="ACME", email="a@acme.de", phone="+4930123456", country="DE", clicks=0
    )
    assert points == 20 + 4 * 5 + 15 + 10
    assert reasons == [
        "source campaign +20",
        "complete company +5",
        "complete email +5",
        "complete phone +5",
        "complete country +5",
        "fit country DE +15",
        "fit business email +10",
    ]


def test_free_mail_and_unknown_country_do_not_fit() -> None:
    points, reasons = score(RULES, source="api", company=None, email="x@gmail.com", phone=None, country="ZZ", clicks=0)
    assert points == 10 + 5 + 5
    assert not any(r.startswith("fit") for r in reasons)


def test_clicks_raise_the_score_up_to_their_cap_and_the_score_stays_at_most_100() -> None:
    base = {"source": "campaign", "company": "A", "email": "a@acme.de", "phone": "+4930123456", "country": "DE"}
    assert score(RULES, **base, clicks=2)[0] == 65 + 10
    assert score(RULES, **base, clicks=50)[0] == 65 + 25
    generous = ScoringRules(click_points=50, max_click_points=100)
    assert score(generous, **base, clicks=3)[0] == 100


def test_scoring_weights_are_configurable() -> None:
    rules = ScoringRules(source_points={"web_form": 40}, completeness_points=0, target_countries=[])
    assert score(rules, source="web_form", company="A", email=None, phone="+1", country="US", clicks=0) == (
        40,
        ["source web_form +40"],
    )


REPS = [
    RepEntry("cn@x.com", ("CN",), True),
    RepEntry("emea@x.com", ("EMEA",), True),
    RepEntry("emea2@x.com", ("DE",), True),
    RepEntry("away@x.com", ("FR",), False),
]


def test_territory_by_country_or_region_wins_and_reps_take_turns() -> None:
    rules = AssignmentRules()
    assert choose_owner(rules, REPS, country="CN", sequence=7) == ("cn@x.com", "territory")
    assert choose_owner(rules, REPS, country="DE", sequence=0) == ("emea2@x.com", "territory")
    assert choose_owner(rules, REPS, country="DE", sequence=1) == ("emea@x.com", "territory")
    assert choose_owner(rules, REPS, country="GB", sequence=5) == ("emea@x.com", "territory")


def test_without_a_territory_match_active_reps_take_turns_and_inactive_ones_none() -> None:
    rules = AssignmentRules()
    owners = [choose_owner(rules, REPS, country="BR", sequence=n) for n in range(4)]
    assert owners == [
        ("cn@x.com", "round_robin"),
        ("emea2@x.com", "round_robin"),
        ("emea@x.com", "round_robin"),
        ("cn@x.com", "round_robin"),
    ]
    assert choose_owner(rules, REPS, country="FR", sequence=0) == ("emea@x.com", "territory")
    assert choose_owner(rules, [], country="CN", sequence=0) is None


def test_currencies_have_their_minor_units() -> None:
    assert (minor_units("JPY"), minor_units("EUR"), minor_units("KWD")) == (0, 2, 3)
    assert currency(" eur ") == "EUR"
    with pytest.raises(InvalidInput, match="ISO 4217"):
        currency("EURO")
    with pytest.raises(InvalidInput, match="decimals"):
        amount("10.5", "JPY")
    with pytest.raises(InvalidInput):
        amount("-1", "USD")
    assert amount("10.5", "USD") == Decimal("10.50")


@pytest.mark.parametrize(
    ("value", "code", "expected"),
    [("0.125", "EUR", "0.13"), ("0.135", "EUR", "0.14"), ("2.5", "JPY", "3"), ("1.0005", "KWD", "1.001")],
)
def test_rounding_is_half_up_to_the_minor_unit(value: str, code: str, expected: str) -> None:
    assert round_money(Decimal(value), code) == Decimal(expected)


def line(unit: str, quantity: str = "1", discount: str = "0", tax: str = "0") -> LineInput:
    return LineInput(uuid4(), "SKU", "名", Decimal(quantity), Decimal(unit), Decimal(discount), Decimal(tax))


def test_each_line_is_rounded_and_totals_are_sums_of_rounded_lines() -> None:
    lines, subtotal, tax, total = price([line("0.05", discount="10", tax="0.19")] * 3, "EUR")
    # gross 0.05, discount 0.005 → 0.01 (half-up), net 0.04, tax 0.0076 → 0.01, per line
    assert [(p["net"], p["tax"]) for p in lines] == [(Decimal("0.04"), Decimal("0.01"))] * 3
    assert (subtotal, tax, total) == (Decimal("0.12"), Decimal("0.03"), Decimal("0.15"))


def test_yen_quotes_have_no_minor_units() -> None:
    _, subtotal, tax, total = price([line("999", quantity="3", discount="3.3", tax="0.1")], "JPY")
    assert (subtotal, tax, total) == (Decimal("2898"), Decimal("290"), Decimal("3188"))


def test_quote_lines_are_validated() -> None:
    with pytest.raises(InvalidInput, match="at least one line"):
        price([], "EUR")
    with pytest.raises(InvalidInput, match="discount"):
        price([line("1", discount="101")], "EUR")
    with pytest.raises(InvalidInput, match="quantity"):
        price([line("1", quantity="0")], "EUR")


def deal(owner: str, close: str, amount_: str, p: str, status: str = "open", cur: str = "EUR") -> Row:
    data = {"status": status, "close_date": close, "amount": Decimal(amount_), "probability": Decimal(p)}
    return Row(uuid4(), "opportunity", 1, owner, None, data | {"currency": cur})


def test_forecast_per_owner_period_and_currency() -> None:
    deals = [
        deal("a", "2026-01-15", "100", "0.9"),
        deal("a", "2026-02-15", "200", "0.5"),
        deal("a", "2026-03-01", "50", "1", status="won"),
        deal("a", "2026-03-01", "999", "0", status="lost"),
        deal("a", "2026-03-01", "70", "0.1", cur="JPY"),
    ]
    rows = forecast(deals, period="quarter", commit_threshold=Decimal("0.7"), best_case_threshold=Decimal("0.3"))
    eur, jpy = rows[0], rows[1]
    assert (eur.period, eur.currency, eur.pipeline, eur.weighted) == ("2026-Q1", "EUR", Decimal(300), Decimal("190.0"))
    assert (eur.commit, eur.best_case, eur.won, eur.deals) == (Decimal(150), Decimal(350), Decimal(50), 3)
    assert (jpy.currency, jpy.commit, jpy.best_case) == ("JPY", Decimal(0), Decimal(0))
    assert period_of(date(2026, 11, 2), "month") == "2026-11"
