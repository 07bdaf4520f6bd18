"""CSV imports: row-by-row validation with reasons, idempotent on external ids, both CDNOW formats."""

from __future__ import annotations

from decimal import Decimal

from services.sales.application import SalesApplication
from services.sales.catalogue import Product, product_id
from services.sales.importing import import_cdnow, import_leads, import_products, order_id_for
from services.sales.orders import Order
from shared.events.sales import customer_id_for_external
from shared.platform.auth import Principal

SHOP = Principal("shop@example.com", frozenset({"integration"}))
MASTER = """ customer_id  date number_of_cds  dollar_value
 00004 19970101  2   29.33
 00004 19970101  2   29.33
 00005 19970102  1   -3.00
"""
SAMPLE = " 00004 0001 19970101  2   29.33\n 00004 0001 19970101  2   29.33\n"


def test_the_sample_and_the_master_format_give_the_same_orders() -> None:
    sales = SalesApplication()
    report = import_cdnow(sales, MASTER)
    assert (report.rows, report.imported, report.skipped) == (3, 2, 0)
    assert [(r.line, "zero or more" in r.reason) for r in report.rejected] == [(4, True)]
    again = import_cdnow(sales, SAMPLE)
    assert (again.imported, again.skipped) == (0, 2), "same customer, day and ordinal: the same orders"
    order = sales.load(Order, order_id_for("cdnow:00004:19970101:2"))
    assert order.customer_id == customer_id_for_external("cdnow", "00004")
    assert (order.total, order.quantity, order.status, order.placed_at.isoformat()) == (
        Decimal("29.33"),
        2,
        "paid",
        "1997-01-01T00:00:00+00:00",
    )


def test_orders_are_saved_in_chunks() -> None:
    sales = SalesApplication()
    sales.settings.import_chunk_rows = 2
    lines = "".join(f" {n:05d} 19970101  1   1.00\n" for n in range(5))
    assert import_cdnow(sales, lines).imported == 5
    assert sales.recorder.max_notification_id() == 5


LEADS = """external_id,name,company,email,phone,country,campaign_id
L1,王芳,深圳电子,wang.fang@example.cn,,CN,
L2,Bad Phone,,,123,CN,
L3,Same Person,,WANG.FANG@example.cn,,CN,
,No Id,,x@example.com,,,
"""


def test_leads_import_reports_each_bad_row_and_adds_nothing_the_second_time() -> None:
    sales = SalesApplication()
    report = import_leads(sales, LEADS, SHOP)
    assert (report.rows, report.imported) == (4, 1)
    reasons = {r.line: r.reason for r in report.rejected}
    assert sorted(reasons) == [3, 4, 5]
    assert "phone" in reasons[3]
    assert "same email" in reasons[4]
    assert "external_id" in reasons[5]
    again = import_leads(sales, LEADS, SHOP)
    assert (again.imported, again.skipped) == (0, 1)
    lead = sales.views.catch_up().of_kind("lead")[0]
    assert (lead.data["name"], lead.data["source"]) == ("王芳", "csv_import")


def test_products_import_upserts_by_sku() -> None:
    sales = SalesApplication()
    text = "sku,name,prices,tax_rate,active\nA-1,标准版,EUR:9.90;JPY:1300,0.19,true\nB-2,Bad,EUR:abc,0.1,true\n"
    report = import_products(sales, text)
    assert (report.imported, len(report.rejected)) == (1, 1)
    assert sales.load(Product, product_id("A-1")).prices == {"EUR": Decimal("9.90"), "JPY": Decimal("1300")}
    again = import_products(sales, text)
    assert (again.imported, again.skipped) == (0, 1)


def test_a_products_file_without_its_header_is_refused_once_not_row_by_row() -> None:
    """Schemathesis sent `[]`: it was read as a header and the import reported nothing at all."""
    sales = SalesApplication()
    for text in ("[]", "A-1,标准版,EUR:9.90,0.19,true\n"):
        report = import_products(sales, text)
        assert (report.rows, report.imported) == (0, 0)
        assert [(r.line, r.reason) for r in report.rejected] == [
            (1, "the header must name sku, name, prices, tax_rate, active")
        ]
    assert import_products(sales, "").rejected == []  # an empty file is an empty import


def test_a_file_that_is_not_csv_is_reported_not_a_500() -> None:
    """Schemathesis sent a lone carriage return and a NUL: csv.Error escaped the import (500)."""
    sales = SalesApplication()
    header = "sku,name,prices,tax_rate,active\n"
    report = import_products(sales, header + "A-1,Mac\rBook,EUR:9.90,0.19,true\r")  # a lone \r ends a row
    assert [(r.line, r.reason) for r in report.rejected] == [
        (2, "a price or the tax rate is not a decimal number"),  # "A-1,Mac": no prices
        (3, "a price or the tax rate is not a decimal number"),  # "Book,EUR:9.90,...": prices "0.19"
    ]
    nul = import_products(sales, header + "A-2,Null\x00,EUR:1,0,true\nA-3,Fine,EUR:1,0,true\n")
    assert (nul.rows, nul.imported) == (2, 1)
    assert [(r.line, r.reason) for r in nul.rejected] == [(2, "column name: text holds the control character U+0000")]
    assert not sales.exists(product_id("A-2"))  # stored, it would have been refused by every consumer of its event
    leads = import_leads(sales, "external_id,name\nx1,Wang\x1bFang\n", SHOP)
    assert [r.line for r in leads.rejected] == [2]
    broken = import_products(sales, header + "A-4," + "x" * 200_000 + "\n")
    assert [r.reason for r in broken.rejected] == ["not CSV: field larger than field limit (131072)"]


def test_a_leads_national_phone_is_read_in_the_leads_own_country() -> None:
    """A Chinese mobile written as people write it (no +86) on a CN lead; a German one on a DE lead."""
    sales = SalesApplication()
    report = import_leads(
        sales,
        "external_id,name,company,email,phone,country\nc1,王芳,,,138 0013 8000,CN\nd1,Jonas,,,030 123456,DE\n",
        SHOP,
    )
    assert report.rejected == []
    phones = sorted(lead.data["phone"] for lead in sales.views.catch_up().of_kind("lead"))
    assert phones == ["+4930123456", "+8613800138000"]
