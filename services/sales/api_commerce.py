"""HTTP routes for the price book, quotes, orders and CSV imports."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import anyio
from fastapi import APIRouter, Query, Request, status

from services.sales import importing
from services.sales.api import Admin, Reader, SalesDep, Seller, one, public, visible
from services.sales.commerce_commands import LineRequest
from services.sales.domain import InvalidInput
from services.sales.orders import Order
from services.sales.quotes import Quote
from services.sales.schemas import (
    ERROR_RESPONSES,
    ImportReportPublic,
    LineCreate,
    OrderCreate,
    Payment,
    ProductUpsert,
    QuoteAnswer,
    QuoteCreate,
    QuoteRevise,
    Reason,
    RecordPublic,
    Ref,
    Refund,
    RejectedRow,
    Versioned,
)
from shared.platform.auth import Principal, require_roles
from shared.platform.paging import PageDep

products = APIRouter(prefix="/products", tags=["price book"], responses=ERROR_RESPONSES)
quotes = APIRouter(prefix="/quotes", tags=["quotes"], responses=ERROR_RESPONSES)
orders = APIRouter(prefix="/orders", tags=["orders"], responses=ERROR_RESPONSES)
imports = APIRouter(prefix="/imports", tags=["imports"], responses=ERROR_RESPONSES)
Importer = Annotated[Principal, require_roles("integration")]
TEXT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's text (UTF-8).",
        "content": {kind: {"schema": {"type": "string"}} for kind in ("text/csv", "text/plain")},
    }
}
"""The imports read the raw body; this documents it so the API docs offer a text box."""
Offset = Annotated[int, Query(ge=0, description="Added to reported line numbers (for a chunk of a bigger file).")]


def _lines(lines: list[LineCreate]) -> list[LineRequest]:
    return [LineRequest(**line.model_dump()) for line in lines]


@products.put("/{sku}", summary="Create or change a product")
def upsert_product(sku: str, body: ProductUpsert, sales: SalesDep, user: Admin) -> Ref:
    """A product of the price book: unit price per currency, tax rate, active flag."""
    product = sales.upsert_product(sku, **body.model_dump())
    return Ref(id=product.id, version=product.version)


@products.get("", summary="The price book")
def list_products(sales: SalesDep, user: Reader, page: PageDep) -> list[RecordPublic]:
    """Every product, by SKU, a page at a time."""
    rows = sales.views.catch_up().of_kind("product")
    return [public(r, user) for r in page.of(rows, key=lambda r: (str(r.data["sku"]), str(r.id)))]


@quotes.post("", status_code=status.HTTP_201_CREATED, summary="Create a quote")
def create_quote(body: QuoteCreate, sales: SalesDep, user: Seller) -> dict[str, Any]:
    """Revision 1 of a quote for an open opportunity; totals are rounded per line, half-up."""
    quote = sales.create_quote(body.opportunity_id, _lines(body.lines), body.valid_until, user)
    return _quote(quote)


def _quote(quote: Quote) -> dict[str, Any]:
    fields = ("customer_id", "opportunity_id", "owner", "currency", "revision", "status", "lines")
    money = ("subtotal", "tax_total", "total", "valid_until")
    return {"id": quote.id, "version": quote.version} | {f: getattr(quote, f) for f in fields + money}


@quotes.get("/{quote_id}", summary="One quote")
def read_quote(quote_id: UUID, sales: SalesDep, user: Reader) -> dict[str, Any]:
    """The current revision of a quote with its priced lines."""
    return _quote(sales.read_for(Quote, quote_id, user))


@quotes.post("/{quote_id}/revise", summary="Revise a quote")
def revise_quote(quote_id: UUID, body: QuoteRevise, sales: SalesDep, user: Seller) -> dict[str, Any]:
    """Issue the next revision (back to draft)."""
    quote = sales.revise_quote(quote_id, _lines(body.lines), body.valid_until, user, body.expected_version)
    return _quote(quote)


@quotes.post("/{quote_id}/{action}", summary="Send, accept or reject a quote")
def answer_quote(
    quote_id: UUID, action: Literal["send", "accept", "reject"], body: QuoteAnswer, sales: SalesDep, user: Seller
) -> Ref:
    """Send the draft, or record the customer's acceptance or rejection (not after valid-until)."""
    quote = sales.answer_quote(quote_id, action, user, body.expected_version, body.reason)
    return Ref(id=quote.id, version=quote.version)


@quotes.post("/expire-due", summary="Expire overdue quotes")
def expire_quotes(sales: SalesDep, user: Admin) -> list[UUID]:
    """Expire every unanswered quote past its valid-until date (also run by `services.sales.expiry`)."""
    return sales.expire_quotes()


@orders.post("", status_code=status.HTTP_201_CREATED, summary="Place an order directly")
def place_order(body: OrderCreate, sales: SalesDep, user: Seller) -> Ref:
    """An order without a quote (e.g. a web shop); the same `external_id` again places nothing new."""
    order = sales.place_order(body.customer_id, _lines(body.lines), body.currency, user, body.external_id)
    return Ref(id=order.id, version=order.version)


@orders.post("/from-quote/{quote_id}", status_code=status.HTTP_201_CREATED, summary="Order an accepted quote")
def order_from_quote(quote_id: UUID, sales: SalesDep, user: Seller) -> Ref:
    """Place the order of an accepted quote (once: a retry returns the same order)."""
    order = sales.order_from_quote(quote_id, user)
    return Ref(id=order.id, version=order.version)


@orders.get("", summary="Orders")
def list_orders(sales: SalesDep, user: Reader, page: PageDep) -> list[RecordPublic]:
    """Orders the caller may see, newest first, a page at a time."""
    rows = page.of(visible(sales, user, "order"), key=lambda r: (str(r.data["placed_at"]), str(r.id)), reverse=True)
    return [public(r, user) for r in rows]


@orders.get("/{order_id}", summary="One order")
def read_order(order_id: UUID, sales: SalesDep, user: Reader) -> RecordPublic:
    """An order's status, totals and refunds."""
    return one(sales, user, order_id, "order")


@orders.post("/{order_id}/pay", summary="Record payment")
def pay_order(order_id: UUID, body: Payment, sales: SalesDep, user: Seller) -> Ref:
    """Full payment of a placed order."""
    return _ref(sales.progress_order(order_id, "pay", user, body.expected_version, amount=body.amount))


@orders.post("/{order_id}/cancel", summary="Cancel before shipment")
def cancel_order(order_id: UUID, body: Reason, sales: SalesDep, user: Seller) -> Ref:
    """Cancel a placed or paid order that has not shipped."""
    return _ref(sales.progress_order(order_id, "cancel", user, body.expected_version, reason=body.reason))


@orders.post("/{order_id}/refund", summary="Refund")
def refund_order(order_id: UUID, body: Refund, sales: SalesDep, user: Seller) -> Ref:
    """Refund part or all of what was paid (never more)."""
    order = sales.progress_order(
        order_id, "refund", user, body.expected_version, amount=body.amount, reason=body.reason
    )
    return _ref(order)


@orders.post("/{order_id}/{action}", summary="Ship or deliver")
def move_order(
    order_id: UUID, action: Literal["ship", "deliver"], body: Versioned, sales: SalesDep, user: Seller
) -> Ref:
    """The order left the warehouse, or reached the customer."""
    return _ref(sales.progress_order(order_id, action, user, body.expected_version))


def _ref(order: Order) -> Ref:
    return Ref(id=order.id, version=order.version)


def _report(report: importing.ImportReport, line_offset: int = 0) -> ImportReportPublic:
    rejected = [RejectedRow(line=r.line + line_offset, reason=r.reason) for r in report.rejected]
    return ImportReportPublic(rows=report.rows, imported=report.imported, skipped=report.skipped, rejected=rejected)


@imports.post("/cdnow-orders", openapi_extra=TEXT_BODY, summary="Import CDNOW purchase history")
async def import_cdnow(
    request: Request,
    sales: SalesDep,
    user: Importer,
    first_line: Annotated[int, Query(ge=1, description="Line number of the first line, for the report.")] = 1,
) -> ImportReportPublic:
    """Paid USD orders from CDNOW rows (master or sample format, `text/plain`); a re-import adds nothing."""
    text = await _text(request)
    return _report(await anyio.to_thread.run_sync(importing.import_cdnow, sales, text, first_line))


@imports.post("/leads", openapi_extra=TEXT_BODY, summary="Import leads from CSV")
async def import_leads(
    request: Request, sales: SalesDep, user: Importer, line_offset: Offset = 0
) -> ImportReportPublic:
    """CSV (`text/csv`) with header `external_id,name,company,email,phone,country,campaign_id`; idempotent."""
    text = await _text(request)
    return _report(await anyio.to_thread.run_sync(importing.import_leads, sales, text, user), line_offset)


@imports.post("/products", openapi_extra=TEXT_BODY, summary="Import the price book from CSV")
async def import_products(
    request: Request, sales: SalesDep, user: Importer, line_offset: Offset = 0
) -> ImportReportPublic:
    """CSV with header `sku,name,prices,tax_rate,active`, prices as `EUR:9.90;USD:10.90`; unchanged rows skipped."""
    text = await _text(request)
    return _report(await anyio.to_thread.run_sync(importing.import_products, sales, text), line_offset)


async def _text(request: Request) -> str:
    """The request body as UTF-8 text (the `eventsourcing` work then runs in a worker thread).

    The body is required: a request with none at all (no content type, no bytes) is refused,
    while an empty file sent as `text/csv` is an empty import.
    """
    body = await request.body()
    if not body and "content-type" not in request.headers:
        raise InvalidInput("the file's text is required as the request body (text/csv or text/plain)")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the file must be UTF-8 text") from None
