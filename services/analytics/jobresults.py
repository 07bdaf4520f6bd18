"""Rows a job produced (a report over a chosen window, a customer export), kept in chunks to read later.

Work that can outlast a request runs as a job (`jobstore`); what it produces can be far
larger than one document may be (16 MiB), so its rows are written in chunks of
`CHUNK_ROWS`, each a document with a known `_id` (`<job id>|<chunk number>`): reading
them back is a lookup by `_id`, never a scan, whatever the store. Chunks expire after
`KEEP`; each new result first removes the expired ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from fastapi.encoders import jsonable_encoder
from pymongo.asynchronous.database import AsyncDatabase

RESULTS = "job_results"
CHUNK_ROWS = 2_000
READ_CHUNKS = 20
"""Chunks fetched per `_id: {$in: [...]}` query while reading a result back."""
KEEP = timedelta(days=7)

Db = AsyncDatabase[dict[str, Any]]


class ResultGone(LookupError):
    """The job's rows expired (or were removed) since it finished."""


def chunk_id(job_id: str, number: int) -> str:
    """The `_id` of chunk `number` of a job's rows."""
    return f"{job_id}|{number:06d}"


async def keep(db: Db, job_id: str, rows: AsyncIterable[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Write `rows` as the job's result chunks; what the job's result says about them.

    Rows are stored as their JSON form (what `GET /jobs/{id}/result` answers): money
    and times as the API writes them everywhere else.
    """
    await db[RESULTS].delete_many({"expires_at": {"$lt": now}})
    expires, chunk, chunks, count = now + KEEP, list[dict[str, Any]](), 0, 0
    async for row in rows:
        chunk.append(row)
        count += 1
        if len(chunk) == CHUNK_ROWS:
            await _write(db, job_id, chunks, chunk, expires)
            chunks, chunk = chunks + 1, []
    if chunk or chunks == 0:
        await _write(db, job_id, chunks, chunk, expires)
        chunks += 1
    return {
        "rows": count,
        "chunks": chunks,
        "result": f"/jobs/{job_id}/result",
        "expires_at": expires.isoformat(),
    }


async def _write(db: Db, job_id: str, number: int, rows: list[dict[str, Any]], expires: datetime) -> None:
    doc = {"_id": chunk_id(job_id, number), "job_id": job_id, "rows": jsonable_encoder(rows), "expires_at": expires}
    await db[RESULTS].replace_one({"_id": doc["_id"]}, doc, upsert=True)  # a retried job rewrites its chunks


async def read(db: Db, job_id: str, chunks: int) -> AsyncIterator[dict[str, Any]]:
    """The job's rows in order, `READ_CHUNKS` chunks per query; ResultGone if a chunk is missing."""
    for start in range(0, chunks, READ_CHUNKS):
        ids = [chunk_id(job_id, n) for n in range(start, min(chunks, start + READ_CHUNKS))]
        found = {doc["_id"]: doc async for doc in db[RESULTS].find({"_id": {"$in": ids}})}
        for key in ids:
            if key not in found:
                raise ResultGone(f"the rows of job {job_id} expired or were removed")
            for row in found[key]["rows"]:
                yield row


async def exists(db: Db, job_id: str) -> bool:
    """Whether the job's first chunk is still there (checked before a response starts streaming)."""
    return await db[RESULTS].find_one({"_id": chunk_id(job_id, 0)}, {"_id": 1}) is not None
