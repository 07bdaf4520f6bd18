"""`crm rebuild`, `crm verify` and `crm projections`: rebuild views from the log, prove them, switch them.

Exit codes: 0 done (or checksums equal), 1 the views differ or the rebuild ran out of
time (it resumes when run again), 2 bad arguments or a conflicting operator, 3 Kafka
or MongoDB unreachable.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from aiokafka.errors import KafkaError
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from rich.console import Console
from rich.table import Table

from crm.progress import progress_bar
from services.analytics.checksum import Checksum, checksum, differences
from services.analytics.generations import GenerationConflict, Generations
from services.analytics.rebuild import Rebuild, RebuildResult, group_members
from services.analytics.settings import AnalyticsSettings, mongo_client
from shared.platform.kafka import KafkaSettings

OK, DIFFERENT, CONFLICT, UNREACHABLE = 0, 1, 2, 3

rebuild_app = typer.Typer(help="Rebuild read models from the event log.", no_args_is_help=True)
projections_app = typer.Typer(help="Projection generations: list, switch, drop.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
T = TypeVar("T")
err = Console(stderr=True)


def _client(settings: AnalyticsSettings) -> AsyncMongoClient[dict[str, Any]]:
    return mongo_client(settings)


def _run(work: Callable[[AsyncMongoClient[dict[str, Any]]], Awaitable[T]]) -> T:
    """Run `work` with a Mongo client; map outages and conflicts to exit codes."""

    async def go() -> T:
        client = _client(AnalyticsSettings())
        try:
            return await work(client)
        finally:
            await client.close()

    try:
        return asyncio.run(go())
    except GenerationConflict as exc:
        err.print(f"[red]conflict:[/] {exc}")
        raise typer.Exit(CONFLICT) from exc
    except LookupError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(CONFLICT) from exc
    except (PyMongoError, KafkaError, OSError) as exc:
        err.print(f"[red]unreachable:[/] {exc}")
        raise typer.Exit(UNREACHABLE) from exc


@contextmanager
def _bar(description: str, *, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    with progress_bar(quiet=quiet, unit="ev") as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=max(total, done))

        yield update


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise typer.BadParameter("give a timezone, e.g. 2026-01-31T23:59:59Z")
    return parsed.astimezone(UTC)


@rebuild_app.command("analytics")
def rebuild_analytics(
    until: Annotated[
        str | None, typer.Option(help="Build the world as it stood at this time (kept for reading, never switched).")
    ] = None,
    lag_threshold: Annotated[int, typer.Option(min=0, help="Switch when at most this many events are left.")] = 100,
    switch: Annotated[bool, typer.Option(help="Switch the API to the new generation when caught up.")] = True,
    drop_old: Annotated[bool, typer.Option(help="Drop the previous generation after the switch.")] = False,
    restart: Annotated[bool, typer.Option(help="Abandon an unfinished rebuild instead of resuming it.")] = False,
    max_seconds: Annotated[float | None, typer.Option(min=1, help="Stop after this long; run again to resume.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build a new analytics generation from offset 0 while the current one serves; switch when caught up."""
    when = _parse_time(until)

    async def work(client: AsyncMongoClient[dict[str, Any]]) -> RebuildResult:
        with _bar("rebuilding analytics", quiet=as_json) as update:
            rebuild = Rebuild(
                client, AnalyticsSettings(), KafkaSettings(), lag_threshold=lag_threshold, on_progress=update
            )
            return await rebuild.run(
                until=when, switch=switch, drop_old=drop_old, restart=restart, max_seconds=max_seconds
            )

    result = _run(work)
    summary = asdict(result) | {"rate": round(result.rate, 1)}
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        verb = "resumed" if result.resumed else "built"
        typer.echo(
            f"generation {result.generation} {verb}: {result.consumed:,} records in {result.seconds:.1f}s "
            f"({result.rate:,.0f}/s); applied {result.applied:,}, duplicates {result.duplicates:,}, "
            f"after --until {result.after_until:,}, not events {result.unprocessable:,}, failed {result.failed:,}"
        )
        if result.switched_from is not None:
            typer.echo(f"switched: generation {result.generation} is active (was {result.switched_from})")
            hint = f"helm upgrade … --set projector.generation={result.generation}"
            typer.echo(f"on Kubernetes, let KEDA follow it: {hint}")
        for number in result.dropped:
            typer.echo(f"dropped generation {number}")
        if result.drop_skipped:
            typer.echo(result.drop_skipped, err=True)
    if result.lag_at_switch is None and result.until is None and switch and result.switched_from is None:
        typer.echo("out of time before catching up; run the same command again to resume", err=True)
        raise typer.Exit(DIFFERENT)


def _checksum_json(found: Checksum) -> dict[str, Any]:
    return {"checksum": found.value, "collections": found.collections, "counts": found.counts}


def verify(
    generation: Annotated[int | None, typer.Option(help="Generation to check (default: the active one).")] = None,
    rebuild: Annotated[
        bool, typer.Option(help="Compare with a fresh scratch rebuild from the log (else: print the checksum).")
    ] = True,
    keep_scratch: Annotated[bool, typer.Option(help="Keep the scratch generation for inspection.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="Differing documents to list.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """Checksum a projection generation; with a scratch rebuild, prove it equals what the log gives."""

    async def work(client: AsyncMongoClient[dict[str, Any]]) -> dict[str, Any]:
        settings = AnalyticsSettings()
        generations = Generations(client, settings)
        target = await generations.get(generation) if generation is not None else await generations.active()
        if target is None:
            raise LookupError(f"no generation {generation}")
        live = await checksum(generations.database(target))
        await generations.record(target.number, checksum=live.value)
        report: dict[str, Any] = {"generation": target.number} | _checksum_json(live)
        if not rebuild:
            return report
        with _bar("scratch rebuild", quiet=as_json) as update:
            scratch = await Rebuild(client, settings, KafkaSettings(), lag_threshold=0, on_progress=update).run(
                scratch=True
            )
        built = await generations.get(scratch.generation)
        assert built is not None  # the rebuild just recorded it
        fresh = await checksum(generations.database(built))
        await generations.record(built.number, checksum=fresh.value)
        diffs = differences(live.digests, fresh.digests)
        report |= {
            "scratch": {"generation": built.number} | _checksum_json(fresh),
            "equal": fresh.value == live.value,
            "differences": len(diffs),
            "documents": [asdict(d) for d in diffs[:limit]],
        }
        if not keep_scratch:
            await generations.drop(built.number)
        return report

    report = _run(work)
    if as_json:
        typer.echo(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        _print_verify(report)
    if report.get("equal") is False:
        raise typer.Exit(DIFFERENT)


def _print_verify(report: dict[str, Any]) -> None:
    table = Table("collection", "documents", f"generation {report['generation']}", title="projection checksums")
    scratch = report.get("scratch")
    if scratch:
        table.add_column(f"scratch {scratch['generation']}")
    for name, value in report["collections"].items():
        row = [name, f"{report['counts'][name]:,}", value[:16]]
        table.add_row(*row, *([scratch["collections"].get(name, "")[:16]] if scratch else []))
    Console().print(table)
    typer.echo(f"checksum {report['checksum']}")
    if scratch is None:
        return
    if report["equal"]:
        typer.echo("equal: the live generation is exactly what the log gives")
        return
    typer.echo(f"DIFFERENT: {report['differences']} documents differ")
    for doc in report["documents"]:
        typer.echo(f"  {doc['collection']} {doc['id']}: {doc['kind']} (first = live, second = scratch)")


@projections_app.command("list")
def projections_list(as_json: JsonOpt = False) -> None:
    """Every projection generation: status, database, consumer group, progress."""

    async def work(client: AsyncMongoClient[dict[str, Any]]) -> list[dict[str, Any]]:
        return [g.model_dump(mode="json") for g in await Generations(client, AnalyticsSettings()).all()]

    rows = _run(work)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("generation", "status", "database", "group", "events", "until", "switched at", "checksum")
    for row in rows:
        cells = ("number", "status", "database", "group", "events", "until", "switched_at", "checksum")
        table.add_row(*[str(row.get(k) or "")[:19] if k != "events" else f"{row[k]:,}" for k in cells])
    Console().print(table)


@projections_app.command("switch")
def projections_switch(number: Annotated[int, typer.Argument(help="Generation to make active.")]) -> None:
    """Make a ready or retired generation active again (a rollback); the projector catches it up."""

    async def work(client: AsyncMongoClient[dict[str, Any]]) -> int:
        generations = Generations(client, AnalyticsSettings())
        target = await generations.get(number)
        if target is None or target.status not in ("ready", "retired", "active"):
            raise LookupError(f"generation {number} is not ready to serve ({target.status if target else 'absent'})")
        if target.until is not None:
            raise LookupError(f"generation {number} is a point-in-time generation (--until); it is never live")
        active = await generations.active_number()
        if active != number:
            await generations.switch(number, expected=active)
        return active

    previous = _run(work)
    typer.echo(f"generation {number} is active (was {previous})")


@projections_app.command("drop")
def projections_drop(number: Annotated[int, typer.Argument(help="Generation to drop.")]) -> None:
    """Drop a generation's collections (never the active one)."""

    async def work(client: AsyncMongoClient[dict[str, Any]]) -> None:
        generations = Generations(client, AnalyticsSettings())
        target = await generations.get(number)
        if target is None:
            raise LookupError(f"no generation {number}")
        if await group_members(KafkaSettings(), target.group):
            raise GenerationConflict(f"a consumer still reads as {target.group}; stop it (or let it move) first")
        await generations.drop(number)

    _run(work)
    typer.echo(f"dropped generation {number}")
