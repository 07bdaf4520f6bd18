"""CSV imports: leads, products and historical orders (the CDNOW format), row by row.

Every row is validated on its own; a bad row is reported with its line number and
reason and the others go on. Each row has an external id that fixes the id of what it
creates, so importing the same file again adds nothing (`skipped`).

CDNOW rows (`data/cdnow/README.md`): the master file has `customer_id date cds dollars`
(with a header line), the sample `customer_id sample_index date cds dollars`; in both the
first column is the master file's customer id, so both give the same customers. CDNOW has no
order id: a row's external id is `cdnow:<customer>:<YYYYMMDD>:<n>`, n counting that customer's
rows of that day in file order (so a chunk sent to the API must hold whole customer-days).
Orders are saved `import_chunk_rows` at a time, each chunk in one transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from uuid import UUID, uuid5

from services.sales import money
from services.sales.application import SalesApplication
from services.sales.catalogue import Product, product_id
from services.sales.domain import SalesError, StaleVersion
from services.sales.lead_commands import LeadInput
from services.sales.orders import Order
from shared.events.sales import customer_id_for_external
from shared.platform.auth import Principal
from shared.platform.inputpolicy import Refused, check_value, nfc

IMPORT_NAMESPACE = UUID("a4b3c2d1-e0f9-4a8b-9c7d-6e5f4a3b2c1d")
"""Namespace of the uuid5 of imported records: `order:<external id>`, `lead:<external id>`."""


@dataclass(frozen=True)
class Rejected:
    """A row that was not imported, and why."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did."""

    rows: int = 0
    imported: int = 0
    skipped: int = 0
    rejected: list[Rejected] = field(default_factory=list)


def order_id_for(external_id: str) -> UUID:
    """The id of an imported order."""
    return uuid5(IMPORT_NAMESPACE, f"order:{external_id}")


def _cdnow_row(fields: list[str]) -> tuple[str, datetime, int, Decimal]:
    if len(fields) == 5:
        fields = [fields[0], *fields[2:]]
    if len(fields) != 4:
        raise ValueError(f"expected 4 or 5 columns, got {len(fields)}")
    customer, day, cds, dollars = fields
    if not customer.isdigit():
        raise ValueError(f"customer id {customer!r} is not a number")
    try:
        placed = datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC)
        amount = Decimal(dollars)
    except (ValueError, InvalidOperation):
        raise ValueError(f"bad date {day!r} or amount {dollars!r}") from None
    if not cds.isdigit():
        raise ValueError(f"number of CDs {cds!r} is not a whole number")
    return customer, placed, int(cds), money.amount(amount, "USD")


def import_cdnow(app: SalesApplication, text: str, first_line: int = 1) -> ImportReport:
    """Import CDNOW purchase rows as paid USD orders of customers derived from their CDNOW id."""
    report = ImportReport()
    known = app.views.catch_up().external_ids  # the log's index: no query per row
    ordinals: dict[tuple[str, str], int] = {}
    pending: list[Order] = []
    for line_no, line in enumerate(text.splitlines(), start=first_line):
        fields = line.split()
        if not fields or fields[0] == "customer_id":
            continue
        report.rows += 1
        try:
            customer, placed, cds, amount = _cdnow_row(fields)
        except (ValueError, SalesError) as exc:
            report.rejected.append(Rejected(line_no, str(exc)))
            continue
        day = placed.strftime("%Y%m%d")
        ordinals[(customer, day)] = ordinals.get((customer, day), 0) + 1
        external_id = f"cdnow:{customer}:{day}:{ordinals[(customer, day)]}"
        if f"order:{external_id}" in known:
            report.skipped += 1
            continue
        pending.append(_historical(customer, placed, cds, amount, external_id, order_id_for(external_id)))
        if len(pending) >= app.settings.import_chunk_rows:
            _save(app, pending, report)
    _save(app, pending, report)
    return report


def _historical(customer: str, placed: datetime, cds: int, amount: Decimal, external_id: str, order_id: UUID) -> Order:
    return Order(
        customer_id=customer_id_for_external("cdnow", customer),
        owner=None,
        source="import",
        quote_id=None,
        currency="USD",
        lines=[],
        total=amount,
        quantity=cds,
        placed_at=placed,
        paid_at=placed,
        external_id=external_id,
        id=order_id,
    )


def _save(app: SalesApplication, pending: list[Order], report: ImportReport) -> None:
    """Save a chunk in one transaction; if a concurrent import got some first, save the rest one by one."""
    try:
        app.store(*pending)
        report.imported += len(pending)
    except StaleVersion:
        for order in pending:
            if app.exists(order.id):
                report.skipped += 1
            else:
                app.store(order)
                report.imported += 1
    pending.clear()


def _rows(reader: csv.DictReader[str], report: ImportReport) -> Iterator[dict[str, str]]:
    """The rows of `reader` that keep the input policy, in NFC; the others are reported and skipped.

    An import is a body the HTTP input policy does not read (`text/csv`), so its rules are
    applied here, per row: a product or lead name holding NUL would be stored and then
    refused by every consumer of its event. A file that is not CSV at all ends the import.
    """
    try:
        for row in reader:
            try:
                check_value(row, [])
            except Refused as refused:
                report.rows += 1
                report.rejected.append(Rejected(reader.line_num, f"column {refused.loc[0]}: {refused.message}"))
                continue
            yield nfc(row)
    except csv.Error as exc:
        report.rejected.append(Rejected(reader.line_num, f"not CSV: {exc}"))


LEAD_COLUMNS = ("external_id", "name", "company", "email", "phone", "country", "campaign_id")


def import_leads(app: SalesApplication, text: str, user: Principal) -> ImportReport:
    """Import leads from CSV (header: external_id,name,company,email,phone,country,campaign_id)."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text, newline=""))  # newline="": a lone \r ends a row, as csv expects
    if reader.fieldnames is None or "external_id" not in reader.fieldnames or "name" not in reader.fieldnames:
        report.rejected.append(Rejected(1, f"the header must name {', '.join(LEAD_COLUMNS)}"))
        return report
    for row in _rows(reader, report):
        report.rows += 1
        line = reader.line_num
        external_id = (row.get("external_id") or "").strip()
        if not external_id:
            report.rejected.append(Rejected(line, "external_id is empty"))
            continue
        lead_id = uuid5(IMPORT_NAMESPACE, f"lead:{external_id}")
        if app.exists(lead_id):
            report.skipped += 1
            continue
        try:
            campaign = (row.get("campaign_id") or "").strip()
            data = LeadInput(
                name=row.get("name") or "",
                company=row.get("company"),
                email=row.get("email") or None,
                phone=row.get("phone") or None,
                country=row.get("country"),
                source="csv_import",
                campaign_id=UUID(campaign) if campaign else None,
                external_id=external_id,
            )
            app.store(app.new_lead(data, user, lead_id=lead_id))
        except (ValueError, SalesError) as exc:
            report.rejected.append(Rejected(line, str(exc)))
            continue
        report.imported += 1
    return report


PRODUCT_COLUMNS = ("sku", "name", "prices", "tax_rate", "active")


def import_products(app: SalesApplication, text: str) -> ImportReport:
    """Import the price book from CSV (header: sku,name,prices,tax_rate,active; prices `EUR:9.90;USD:10.90`)."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text, newline=""))  # newline="": a lone \r ends a row, as csv expects
    if text.strip() and (reader.fieldnames is None or not {"sku", "prices"} <= set(reader.fieldnames)):
        # Without it every row would be read as a product with no SKU: say so once, as leads do.
        report.rejected.append(Rejected(1, f"the header must name {', '.join(PRODUCT_COLUMNS)}"))
        return report
    for row in _rows(reader, report):
        report.rows += 1
        try:
            prices = {}
            for pair in (row.get("prices") or "").split(";"):
                code, _, value = pair.partition(":")
                prices[code.strip()] = Decimal(value.strip())
            active = (row.get("active") or "true").strip().lower() in ("true", "1", "yes")
            sku = (row.get("sku") or "").strip()
            before = app.load(Product, product_id(sku)).version if app.exists(product_id(sku)) else 0
            product = app.upsert_product(
                sku,
                name=row.get("name") or "",
                prices=prices,
                tax_rate=Decimal((row.get("tax_rate") or "0").strip()),
                active=active,
            )
        except InvalidOperation:  # its own text is a list of decimal signal classes
            report.rejected.append(Rejected(reader.line_num, "a price or the tax rate is not a decimal number"))
            continue
        except (ValueError, SalesError) as exc:
            report.rejected.append(Rejected(reader.line_num, str(exc)))
            continue
        if product.version == before:
            report.skipped += 1
        else:
            report.imported += 1
    return report
