"""`crm keys`: the data keys of each service's store, and sealing them under a new master key.

Rotating the master key (`shared/platform/keywrap.py`): set the new key as
`CRM_KEYS_MASTER_KEY` and the old one in `CRM_KEYS_PREVIOUS_MASTER_KEYS` for every
process and for this command; run `crm keys reseal`; once `crm keys status` shows no key
under a previous master key, remove it from `CRM_KEYS_PREVIOUS_MASTER_KEYS`.

Exit codes: 0 done, 1 a store could not be read or a key could not be opened, 2 bad arguments.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from crm.progress import progress_bar
from shared.platform.eventstore import EventStoreSettings, persistence_env
from shared.platform.keystore import SealedKeyStore, key_states, keystore_for, reseal_all
from shared.platform.keywrap import KeySettings, KeyWrap, KeyWrapError

STORES = ("customer", "sales", "marketing", "support", "social")
"""Services whose event store seals personal data with per-subject keys."""
STATES = ("current", "previous", "unsealed")

app = typer.Typer(help="Data keys of the services' stores: status, reseal after a master-key rotation.")

ServicesArg = Annotated[
    list[str] | None, typer.Argument(help=f"Services: {', '.join(STORES)} (default: all).", show_default=False)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _services(names: list[str] | None) -> list[str]:
    unknown = [n for n in names or () if n not in STORES]
    if unknown:
        raise typer.BadParameter(f"unknown service {', '.join(unknown)}; one of: {', '.join(STORES)}")
    return list(names or STORES)


def _store(service: str, wrap: KeyWrap) -> SealedKeyStore:
    """The key store beside `service`'s event store, as `CRM_<SERVICE>_STORE__*` configures it."""
    from crm.republish import SOURCES  # the services' settings classes, imported only when a command runs

    store: EventStoreSettings = SOURCES[service].settings().store
    if store.backend == "sqlite" and not Path(store.sqlite_path).exists():
        typer.echo(f"error: no {service} event store at {store.sqlite_path} (check CRM_{service.upper()}_STORE__*)",
                   err=True)  # fmt: skip
        raise typer.Exit(1)
    keys = keystore_for(persistence_env(store).get, wrap)
    if not hasattr(keys, "rows"):
        typer.echo(f"error: {service} has no key store on disk (an in-memory event store)", err=True)
        raise typer.Exit(1)
    return keys  # type: ignore[return-value]


def _wrap() -> KeyWrap:
    try:
        return KeyWrap.from_settings(KeySettings())
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _print(title: str, rows: dict[str, Counter[str]], columns: tuple[str, ...], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({s: {c: counts[c] for c in columns} for s, counts in rows.items()}, indent=2))
        return
    table = Table(title=title)
    for column in ("service", *columns):
        table.add_column(column, justify="left" if column == "service" else "right")
    for service, counts in rows.items():
        table.add_row(service, *(f"{counts[c]:,}" for c in columns))
    Console().print(table)


@app.command("status")
def status(services: ServicesArg = None, as_json: JsonOpt = False) -> None:
    """How many data keys each store holds sealed under the current master key, a previous one, or none."""
    wrap = _wrap()
    rows = {}
    for service in _services(services):
        try:
            rows[service] = key_states(_store(service, wrap))
        except KeyWrapError as exc:
            typer.echo(f"error: {service}: {exc}", err=True)
            raise typer.Exit(1) from exc
    _print("Data keys by master key", rows, STATES, as_json)


@app.command("reseal")
def reseal(services: ServicesArg = None, as_json: JsonOpt = False) -> None:
    """Seal every data key under the current master key (after a rotation, or once one is set); safe to rerun."""
    wrap = _wrap()
    if not wrap.sealing:
        typer.echo("error: CRM_KEYS_MASTER_KEY is not set: there is nothing to seal under", err=True)
        raise typer.Exit(2)
    stores = {service: _store(service, wrap) for service in _services(services)}
    rows, failed = {}, None
    with progress_bar(quiet=as_json, unit="keys") as bar:  # it holds stderr: errors are printed after it
        for service, keys in stores.items():
            task = bar.add_task(service, total=sum(1 for _ in keys.rows()))
            try:
                rows[service] = reseal_all(keys, lambda task=task: bar.advance(task))  # type: ignore[misc]
            except KeyWrapError as exc:
                failed = f"{service}: {exc}"
                break
    if failed is not None:
        typer.echo(f"error: {failed}", err=True)
        raise typer.Exit(1)
    _print("Data keys sealed under the current master key", rows, ("resealed", "current", "changed"), as_json)
