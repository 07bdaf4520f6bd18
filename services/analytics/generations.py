"""Projection generations: the analytics read models as numbered, switchable copies.

A generation is one complete set of projection collections, built by one Kafka
consumer group from offset 0. The API, the projector and the jobs all follow the
*active* generation, named by a single pointer document; a rebuild fills a new
generation under its own group while the active one keeps serving, then flips the
pointer with one compare-and-set update, so readers see either the old or the new
generation, never a half-built one.

Generation 0 is the original layout (`settings.database`, group `settings.group_id`),
so an installation that never rebuilt needs no migration. Generation N lives in the
database `<database>_g<N>` and consumes as group `<group_id>-g<N>`. The control
collection stays in `settings.database`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.analytics.projection import BUSINESS_EVENTS, CUSTOMER_360, TIMELINE, Customer360Projection
from services.analytics.settings import AnalyticsSettings
from shared.events.timestamps import IsoDateTime

CONTROL = "projection_generations"
POINTER = "active"
PROJECTION_COLLECTIONS = (CUSTOMER_360, TIMELINE, BUSINESS_EVENTS)
"""What a rebuild builds from the log (and what `crm verify` checksums)."""
DERIVED_COLLECTIONS = ("customer_metrics", "models")
"""What the jobs compute from the projection; carried into a new generation before its switch."""

Status = Literal["building", "ready", "active", "retired", "dropped", "abandoned"]
Db = AsyncDatabase[dict[str, Any]]


class GenerationConflict(RuntimeError):
    """Another operator switched, started or dropped a generation concurrently; nothing was changed."""


class Generation(BaseModel):
    """One numbered copy of the projections and the consumer group that builds it."""

    number: int
    database: str
    group: str
    status: Status
    until: IsoDateTime | None = None
    """Only events up to this time are projected (a point-in-time generation; never switched live)."""
    started_at: IsoDateTime | None = None
    caught_up_at: IsoDateTime | None = None
    switched_at: IsoDateTime | None = None
    events: int = 0
    """Records the rebuild has consumed so far (applied, skipped as duplicates, or past `until`)."""
    checksum: str | None = None
    scratch: bool = False
    """Built by `crm verify` to compare against; never resumed by a rebuild, never switched."""
    staged: bool = False
    """A rebuild checkpoint's staging collection is complete and replaces the documents next."""

    def document(self) -> dict[str, Any]:
        """The control document of this generation."""
        return {"_id": f"g{self.number}"} | self.model_dump()


def name_of(settings: AnalyticsSettings, number: int) -> tuple[str, str]:
    """(database, group) of generation `number`."""
    if number == 0:
        return settings.database, settings.group_id
    return f"{settings.database}_g{number}", f"{settings.group_id}-g{number}"


def _now() -> datetime:
    return datetime.now(UTC)


class Generations:
    """Reads and changes the control collection: which generations exist and which one is active."""

    def __init__(self, client: AsyncMongoClient[dict[str, Any]], settings: AnalyticsSettings) -> None:
        self.client = client
        self.settings = settings
        self.control = client[settings.database][CONTROL]

    def _initial(self) -> Generation:
        database, group = name_of(self.settings, 0)
        return Generation(number=0, database=database, group=group, status="active")

    async def active_number(self) -> int:
        """The number of the active generation (0 until the first switch)."""
        pointer = await self.control.find_one({"_id": POINTER})
        return int(pointer["number"]) if pointer else 0

    async def get(self, number: int) -> Generation | None:
        """Generation `number`, if it was ever started (generation 0 always exists)."""
        doc = await self.control.find_one({"_id": f"g{number}"})
        if doc is None:
            return self._initial() if number == 0 else None
        return Generation.model_validate({k: v for k, v in doc.items() if k != "_id"})

    async def active(self) -> Generation:
        """The generation every reader and the live projector use."""
        found = await self.get(await self.active_number())
        return found or self._initial()

    async def all(self) -> list[Generation]:
        """Every generation ever started, oldest first (generation 0 included)."""
        docs = [d async for d in self.control.find({"_id": {"$ne": POINTER}})]
        found = {int(d["number"]): Generation.model_validate({k: v for k, v in d.items() if k != "_id"}) for d in docs}
        found.setdefault(0, self._initial())
        active = await self.active_number()
        return [g.model_copy(update={"status": "active"}) if n == active else g for n, g in sorted(found.items())]

    def database(self, generation: Generation) -> Db:
        """The database holding `generation`'s collections."""
        return self.client[generation.database]

    async def begin(self, *, until: datetime | None = None, scratch: bool = False) -> Generation:
        """Start a new generation numbered after every existing one (safe against a concurrent start)."""
        for _ in range(10):
            number = max(g.number for g in await self.all()) + 1
            database, group = name_of(self.settings, number)
            generation = Generation(
                number=number,
                database=database,
                group=group,
                status="building",
                until=until,
                started_at=_now(),
                scratch=scratch,
            )
            try:
                await self.control.insert_one(generation.document())
            except DuplicateKeyError:
                continue
            return generation
        raise GenerationConflict("could not reserve a new generation number")

    async def unfinished(self, *, until: datetime | None) -> Generation | None:
        """The newest generation still building with the same `until`: a crashed rebuild to resume."""
        for generation in reversed(await self.all()):
            if generation.status == "building" and generation.until == until and not generation.scratch:
                return generation
        return None

    async def record(self, number: int, **fields: Any) -> None:
        """Record progress or a status change of generation `number`."""
        await self.control.update_one({"_id": f"g{number}"}, {"$set": fields})

    async def switch(self, number: int, *, expected: int) -> None:
        """Make `number` active, if `expected` is still the active one: one atomic compare-and-set.

        Raises `GenerationConflict` (and changes nothing) if someone else switched first.
        """
        if expected == 0 and await self.control.find_one({"_id": POINTER}) is None:
            try:
                await self.control.insert_one({"_id": POINTER, "number": number, "switched_at": _now()})
            except DuplicateKeyError as exc:
                raise GenerationConflict("the active generation changed during the switch") from exc
        else:
            result = await self.control.update_one(
                {"_id": POINTER, "number": expected}, {"$set": {"number": number, "switched_at": _now()}}
            )
            if result.modified_count != 1:
                raise GenerationConflict("the active generation changed during the switch")
        await self.record(number, status="active", switched_at=_now())
        await self.control.update_one({"_id": f"g{expected}"}, {"$set": {"status": "retired"}})
        if expected == 0:
            retired = self._initial().model_copy(update={"status": "retired"})
            await self.control.update_one({"_id": "g0"}, {"$setOnInsert": retired.document()}, upsert=True)

    async def drop(self, number: int) -> None:
        """Drop generation `number`'s collections; the active generation is refused."""
        if number == await self.active_number():
            raise GenerationConflict(f"generation {number} is active; switch to another before dropping it")
        generation = await self.get(number)
        if generation is None:
            raise LookupError(f"no generation {number}")
        db = self.database(generation)
        for name in PROJECTION_COLLECTIONS + DERIVED_COLLECTIONS:
            await db.drop_collection(name)
        await self.control.update_one(
            {"_id": f"g{number}"},
            {"$set": generation.model_copy(update={"status": "dropped"}).model_dump()},
            upsert=True,
        )


class ActiveProjection:
    """The projection of the active generation, re-read at most every `ttl` seconds.

    The API resolves it per request: after a switch, requests move to the new
    generation within `ttl`, and every request reads one complete generation.
    """

    def __init__(self, generations: Generations, *, bulk_chunk: int = 1_000, ttl: float = 1.0) -> None:
        self.generations = generations
        self.bulk_chunk = bulk_chunk
        self.ttl = ttl
        self._current: tuple[int, Customer360Projection] | None = None
        self._checked = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> Customer360Projection:
        """The active generation's projection."""
        if self._current is not None and time.monotonic() - self._checked < self.ttl:
            return self._current[1]
        async with self._lock:
            if self._current is None or time.monotonic() - self._checked >= self.ttl:
                generation = await self.generations.active()
                if self._current is None or self._current[0] != generation.number:
                    db = self.generations.database(generation)
                    self._current = (generation.number, Customer360Projection(db, bulk_chunk=self.bulk_chunk))
                self._checked = time.monotonic()
        return self._current[1]
