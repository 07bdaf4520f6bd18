"""`crm`: the command line of the platform's operators and developers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

import typer
from pydantic import ValidationError

from crm import dev, dlq, sales_import, status
from shared.platform.auth import ROLES, AuthSettings, issue_token
from shared.platform.kafka import KafkaSettings
from shared.platform.topicadmin import ensure_topics

app = typer.Typer(help="Operate the CRM platform.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Operate the CRM platform."""


@app.command()
def token(
    subject: Annotated[str, typer.Option(help="Who the token is for.")] = "dev@example.com",
    role: Annotated[
        list[str] | None, typer.Option("--role", "-r", help=f"Repeatable; one of: {', '.join(ROLES)}.")
    ] = None,
    hours: Annotated[float, typer.Option(help="Validity in hours.")] = 8.0,
) -> None:
    """Print a signed development JWT (key from CRM_JWT_SECRET)."""
    roles = role or ["admin"]
    try:
        secret = AuthSettings().secret.get_secret_value()
        typer.echo(issue_token(secret, subject, roles, timedelta(hours=hours)))
    except ValidationError as exc:
        typer.echo("error: set CRM_JWT_SECRET to 32+ random characters (e.g. `openssl rand -hex 32`)", err=True)
        raise typer.Exit(2) from exc
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


topics_app = typer.Typer(help="Kafka topics as code.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")


@topics_app.command("ensure")
def topics_ensure() -> None:
    """Create missing topics (streams and dead-letter topics) with partitions and unlimited retention."""
    created = asyncio.run(ensure_topics(KafkaSettings()))
    for name in created:
        typer.echo(f"created {name}")
    typer.echo(f"{len(created)} created; all topics present")


app.command("status")(status.status)
app.add_typer(dlq.app, name="dlq")
app.add_typer(dev.app, name="dev")
app.add_typer(sales_import.app, name="import")
