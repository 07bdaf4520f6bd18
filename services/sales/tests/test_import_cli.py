"""`crm import`'s chunking: a CDNOW chunk never splits a customer's day (the ordinal is counted per chunk)."""

from __future__ import annotations

from crm.sales_import import cdnow_chunks, csv_chunks

LINES = [
    " customer_id  date number_of_cds  dollar_value",
    " 00001 19970101  1   1.00",
    " 00001 19970101  1   2.00",
    " 00001 19970101  1   3.00",
    " 00001 19970102  1   4.00",
    " 00002 0002 19970102  1   5.00",
]


def test_cdnow_chunks_keep_customer_days_whole_and_number_their_lines() -> None:
    chunks = list(cdnow_chunks(LINES, 2))
    assert [(first, len(lines)) for first, lines in chunks] == [(1, 4), (5, 2)]
    assert [line for _, lines in chunks for line in lines] == LINES


def test_every_csv_chunk_repeats_the_header() -> None:
    lines = ["sku,name", "a,A", "b,B", "c,C"]
    assert list(csv_chunks(lines, 2)) == [(2, ["sku,name", "a,A", "b,B"]), (4, ["sku,name", "c,C"])]
