"""`crm`: the command line of the platform's operators and developers.

Its commands are imported when they run, not when `crm` starts: `crm refit` needs scipy,
`crm dev` the whole local stack, `crm dlq` a Kafka client, and loading them all made
every `crm --help` and `crm token` take 4–5 s. `LAZY` lists each command with its
one-line help (a test keeps those equal to the commands' own); `crm --help` reads only
the table.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

LAZY: dict[str, tuple[str, str, str]] = {
    "token": ("crm.token", "token", "Print a signed development JWT (key from CRM_JWT_SECRET)."),
    "status": (
        "crm.status",
        "status",
        "Per service: store head vs relay position; per group and partition: lag; Kafka and store health.",
    ),
    "dlq": ("crm.dlq", "app", "Dead-lettered messages: list, show, redrive."),
    "topics": ("crm.topics", "app", "Kafka topics as code: ensure, describe."),
    "republish": (
        "crm.republish",
        "republish",
        "Re-emit a service's public events from its event store to Kafka as its relay did (same ids, keys, values).",
    ),
    "rebuild": ("crm.rebuild", "rebuild_app", "Rebuild read models from the event log."),
    "verify": (
        "crm.rebuild",
        "verify",
        "Checksum a projection generation; with a scratch rebuild, prove it equals what the log gives.",
    ),
    "refit": (
        "crm.refit",
        "refit",
        "Recompute metrics, refit CLV and retrain churn on the active generation now; a progress bar until done.",
    ),
    "projections": ("crm.rebuild", "projections_app", "Projection generations: list, switch, drop."),
    "dev": ("crm.dev", "app", "Run the platform's services locally (after deploy/local/up.sh)."),
    "keys": ("crm.keys", "app", "Data keys of the services' stores: status, reseal after a master-key rotation."),
    "import": ("crm.sales_import", "app", "Import CSV data into the sales service (idempotent)."),
}
"""Command name → (module, attribute: a Typer app or a command function, the start of its help)."""


def load_command(name: str) -> Any:
    """The click command of `LAZY[name]`, importing its module now."""
    module, attribute, _ = LAZY[name]
    found = getattr(importlib.import_module(module), attribute)
    if isinstance(found, typer.Typer):  # a group even with one command: `crm rebuild analytics`
        return typer.main.get_group(found)
    single = typer.Typer()
    single.command(name)(found)
    return typer.main.get_command(single)


class LazyGroup(TyperGroup):
    """`crm`'s group: the `LAZY` commands are listed from the table and loaded only to run."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *LAZY]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in LAZY:  # for the help listing: a stand-in holding the command's help
            return TyperCommand(cmd_name, help=LAZY[cmd_name][2], callback=None)
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        return name, load_command(name) if name in LAZY else command, rest


app = typer.Typer(cls=LazyGroup, help="Operate the CRM platform.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Operate the CRM platform."""
