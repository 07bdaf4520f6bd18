"""`crm topics ensure|describe`: the platform's Kafka topics as code.

`describe` shows every platform topic (the streams and each group's dead letters) as
the cluster has it: whether it exists, its partitions, replication factor and the
configs the platform sets, each against the spec in code. `ensure` creates what is
missing and sets drifted configs back. Both exit non-zero when something still differs,
so a deployment job or a probe can act on it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from shared.platform.kafka import KafkaSettings
from shared.platform.topicadmin import TopicState, describe_topics, reconcile_topics

OK, DRIFT, UNREACHABLE = 0, 1, 2
"""Exit codes: as wanted; a topic missing or drifting; Kafka unreachable or refusing."""

T = TypeVar("T")

app = typer.Typer(help="Kafka topics as code: ensure, describe.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _run(call: Awaitable[T], kafka: KafkaSettings) -> T:
    try:
        return asyncio.run(asyncio.wait_for(call, kafka.request_timeout_ms / 1000 * 4))
    except Exception as exc:
        typer.echo(f"error: Kafka unreachable or refusing: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(UNREACHABLE) from exc


def topics_table(topics: list[TopicState], title: str) -> Table:
    """One row per topic; a value that differs from the spec is shown in red with the wanted one."""
    keys = sorted({key for t in topics for key in t.wanted_configs})
    table = Table(title=title)
    for column in ("topic", "status", "partitions", "replication", *keys):
        table.add_column(column)
    for t in topics:
        if not t.exists:
            table.add_row(t.name, "[red]missing[/red]", *["-"] * (2 + len(keys)))
            continue
        drift = t.config_drift()
        cells = [
            _cell(str(t.partitions), str(t.wanted_partitions)),
            _cell(str(t.replication_factor), str(t.wanted_replication_factor)),
            *[_cell(str(t.configs.get(k)), t.wanted_configs[k]) if k in drift else str(t.configs.get(k)) for k in keys],
        ]
        table.add_row(t.name, "ok" if t.healthy else "[red]drift[/red]", *cells)
    return table


def _cell(actual: str, wanted: str) -> str:
    return actual if actual == wanted else f"[red]{actual}[/red] (wanted {wanted})"


@app.command("describe")
def describe(as_json: JsonOpt = False) -> None:
    """Every platform topic: exists?, partitions, replication, configs, and drift from the specs in code."""
    kafka = KafkaSettings()
    topics = _run(describe_topics(kafka), kafka)
    code = OK if all(t.healthy for t in topics) else DRIFT
    if as_json:
        typer.echo(json.dumps({"exit_code": code, "topics": [t.as_json() for t in topics]}, indent=2))
    else:
        console = Console() if sys.stdout.isatty() else Console(width=200)  # a log or a pipe: never truncate names
        console.print(topics_table(topics, f"Platform topics on {kafka.bootstrap_servers}"))
        bad = [t for t in topics if not t.healthy]
        for t in bad:
            typer.echo(f"{t.name}: {'; '.join(t.drift())}")
        typer.echo(f"{len(topics) - len(bad)} of {len(topics)} topics as specified")
    raise typer.Exit(code)


@app.command("ensure")
def ensure(as_json: JsonOpt = False) -> None:
    """Create missing topics (streams and dead-letter topics) and set drifted configs back to the specs."""
    kafka = KafkaSettings()
    done = _run(reconcile_topics(kafka), kafka)
    unfixable = done.unfixable
    code = OK if not unfixable else DRIFT
    if as_json:
        summary = {
            "exit_code": code,
            "created": done.created,
            "repaired": done.repaired,
            "unfixable": {t.name: t.drift() for t in unfixable},
        }
        typer.echo(json.dumps(summary, indent=2))
        raise typer.Exit(code)
    for name in done.created:
        typer.echo(f"created {name}")
    for name, keys in done.repaired.items():
        typer.echo(f"repaired {name}: {', '.join(keys)}")
    for t in unfixable:
        typer.echo(f"not changed by ensure: {t.name}: {'; '.join(t.drift())}", err=True)
    typer.echo(
        f"{len(done.created)} created, {len(done.repaired)} repaired; "
        + ("all topics present and as specified" if not unfixable else f"{len(unfixable)} still differ")
    )
    raise typer.Exit(code)
