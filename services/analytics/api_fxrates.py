"""`/fx-rates`: the dated exchange-rate table reports convert with (see `fxrates`).

Admins maintain it; analysts read it. Rates are entered by hand or by a script an
admin runs: the platform never fetches one, so a converted figure always names a
rate someone answered for (`set_by`, `set_at`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, Response, status

from services.analytics import fxrates
from services.analytics.api_jobs import JobStoreDep
from services.analytics.api_reports import rules_of
from services.analytics.fxrates import Rate, RateIn
from shared.platform import money
from shared.platform.auth import Principal, require_roles
from shared.platform.paging import PageDep

router = APIRouter(prefix="/fx-rates", tags=["exchange rates"])

Analyst = Annotated[Principal, require_roles("analyst")]
Admin = Annotated[Principal, require_roles("admin")]
Currency = Annotated[
    str, Path(pattern="^[A-Z]{3}$", description="ISO 4217 code of the currency converted from.", examples=["CNY"])
]
ValidFrom = Annotated[date, Path(description="First day (UTC) the rate is in effect.", examples=["2026-12-01"])]
EARLIEST = date(1900, 1, 1)
LATEST = date(3000, 1, 1)


def _reporting(request: Request) -> str:
    return rules_of(request).currency


def _checked(currency: str, valid_from: date, to: str) -> None:
    """422 for a currency that is not ISO 4217, the reporting currency itself, or a day off the report calendar."""
    try:
        money.currency(currency)
    except money.BadAmount as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if currency == to:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{to} is the reporting currency: it converts at 1")
    if not EARLIEST <= valid_from < LATEST:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "valid_from lies between 1900-01-01 and 2999-12-31")


@router.get("", summary="The exchange rates into the reporting currency")
async def list_rates(request: Request, user: Analyst, store: JobStoreDep, page: PageDep) -> list[Rate]:
    """Every rate into the reporting currency, by currency and then date."""
    cursor = store.db[fxrates.RATES].find({"to": _reporting(request)})
    rates = [fxrates.from_document(d) async for d in cursor]
    return page.of(rates, key=lambda r: (r.currency, r.valid_from.isoformat()))


@router.put(
    "/{currency}/{valid_from}",
    summary="Enter or correct the rate of a currency from a day on",
    responses={
        200: {"description": "The rate, corrected."},
        201: {"description": "The rate, entered."},
    },
)
async def put_rate(
    currency: Currency, valid_from: ValidFrom, body: RateIn, request: Request, response: Response,
    user: Admin, store: JobStoreDep,
) -> Rate:  # fmt: skip
    """One unit of `currency` was worth `rate` units of the reporting currency from `valid_from` until the next rate."""
    to = _reporting(request)
    _checked(currency, valid_from, to)
    rate = Rate(currency=currency, to=to, valid_from=valid_from, rate=body.rate, set_by=user.subject,
                set_at=datetime.now(UTC))  # fmt: skip
    doc: dict[str, Any] = fxrates.to_document(rate)
    written = await store.db[fxrates.RATES].replace_one({"_id": doc["_id"]}, doc, upsert=True)
    response.status_code = status.HTTP_200_OK if written.matched_count else status.HTTP_201_CREATED
    return rate


@router.delete(
    "/{currency}/{valid_from}",
    summary="Remove a rate (the one before it then holds on)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "No rate of that currency from that day."}},
)
async def delete_rate(
    currency: Currency, valid_from: ValidFrom, request: Request, user: Admin, store: JobStoreDep
) -> Response:
    """Remove one rate; reports asked to convert then use the rate in effect before it."""
    removed = await store.db[fxrates.RATES].delete_one({"_id": fxrates.rate_id(_reporting(request), currency,
                                                                               valid_from)})  # fmt: skip
    if removed.deleted_count == 0:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {currency} rate from {valid_from.isoformat()}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
