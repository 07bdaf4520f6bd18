"""Streamed CSV: rows go out as they come from a MongoDB cursor, a chunk at a time.

A million-row export never sits in memory: the response body is an async generator that
formats `CHUNK_ROWS` rows, yields them, and reads on. UTF-8 with a BOM so spreadsheet
programs open Chinese names correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

from fastapi.responses import StreamingResponse

CHUNK_ROWS = 500
MEDIA_TYPE = "text/csv; charset=utf-8"


def cell(value: Any) -> Any:
    """A CSV cell: None empty, Decimal exact, a mapping as `key value` pairs (`CNY 118659.95; USD 3.00`)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return "; ".join(f"{key} {cell(item)}" for key, item in value.items())
    return value


async def csv_lines(columns: Sequence[str], rows: AsyncIterable[dict[str, Any]]) -> AsyncIterator[str]:
    """The header, then the rows in chunks of `CHUNK_ROWS` lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    async for row in rows:
        writer.writerow([cell(row.get(column)) for column in columns])
        count += 1
        if count % CHUNK_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


async def _with_bom(lines: AsyncIterator[str]) -> AsyncIterator[bytes]:
    yield "\ufeff".encode()
    async for chunk in lines:
        yield chunk.encode("utf-8")


def csv_response(columns: Sequence[str], rows: AsyncIterable[dict[str, Any]], filename: str) -> StreamingResponse:
    """A streamed CSV download of `rows` (dicts) with these columns, in this order."""
    return StreamingResponse(
        _with_bom(csv_lines(columns, rows)),
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def from_list(rows: Sequence[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    """Rows already computed (a report's aggregate, small by construction) as an async stream."""
    for row in rows:
        yield row
