"""A JSON body holds the types its document says: no `true` or `"3"` silently read as a number."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from shared.platform.inputpolicy import install_input_policy
from shared.platform.problems import install_problems

STORED: list[Any] = []


class Line(BaseModel):
    sku: str
    quantity: int = Field(ge=1)
    price: Decimal


class Order(BaseModel):
    lines: list[Line]
    expected_version: int | None = None
    discount_rate: float | None = None
    gift: bool = False
    note: str | None = None
    weights: dict[str, float] = {}
    pair: tuple[int, str] | None = None
    kind: Literal["web", "shop"] = "web"


def client() -> TestClient:
    api = FastAPI()
    install_input_policy(api)
    install_problems(api)

    @api.post("/orders/{order_id}", status_code=201)
    def place(order_id: int, order: Order) -> dict[str, str]:
        STORED.append(order)
        return {"ok": "yes"}

    return TestClient(api)


GOOD = {"lines": [{"sku": "A-1", "quantity": 2, "price": "9.90"}]}


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"expected_version": True}, ["body", "expected_version"]),
        ({"discount_rate": False}, ["body", "discount_rate"]),
        ({"expected_version": "3"}, ["body", "expected_version"]),
        ({"lines": [{"sku": "A-1", "quantity": True, "price": "1"}]}, ["body", "lines", 0, "quantity"]),
        ({"weights": {"a": 1.5, "b": True}}, ["body", "weights", "b"]),
        ({"pair": [True, "x"]}, ["body", "pair", 0]),
    ],
)
def test_a_boolean_or_text_where_only_a_number_goes_is_refused(change: dict[str, Any], loc: list[Any]) -> None:
    STORED.clear()
    response = client().post("/orders/1", json=GOOD | change)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["loc"], error["type"]) == (loc, "number_type")
    assert STORED == []


def test_what_the_document_allows_passes() -> None:
    """Money as text (Decimal allows it), a float for a float, booleans for booleans, numbers as numbers."""
    STORED.clear()
    body = GOOD | {"expected_version": 3, "discount_rate": 0.5, "gift": True, "note": "3", "weights": {"a": 2},
                   "pair": [1, "x"], "kind": "shop"}  # fmt: skip
    response = client().post("/orders/1", json=body)
    assert response.status_code == 201, response.text
    assert STORED[0].lines[0].price == Decimal("9.90")


@pytest.mark.parametrize(
    ("change", "loc", "kind"),
    [
        ({"gift": 0}, ["body", "gift"], "bool_type"),  # `{"active": 0}` switched a product off
        ({"gift": "yes"}, ["body", "gift"], "bool_type"),
        ({"note": 7}, ["body", "note"], "string_type"),  # a date read 0 as 1970-01-01
        ({"kind": 7}, ["body", "kind"], "string_type"),
    ],
)
def test_a_number_or_text_where_only_true_or_false_or_text_goes_is_refused(
    change: dict[str, Any], loc: list[Any], kind: str
) -> None:
    STORED.clear()
    response = client().post("/orders/1", json=GOOD | change)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["loc"], error["type"]) == (loc, kind)
    assert STORED == []


def test_what_pydantic_refuses_itself_keeps_its_own_message() -> None:
    response = client().post("/orders/1", json=GOOD | {"lines": [{"sku": ["A"], "quantity": 1, "price": "1"}]})
    assert response.status_code == 422
    assert {e["type"] for e in response.json()["errors"]} == {"string_type"}
