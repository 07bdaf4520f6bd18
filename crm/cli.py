"""`crm`: the command line of the platform's operators and developers."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from pydantic import ValidationError

from crm import dev, dlq, rebuild, refit, republish, sales_import, status, topics
from shared.platform.auth import ROLES, AuthSettings, issue_token

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


app.command("status")(status.status)
app.add_typer(dlq.app, name="dlq")
app.add_typer(topics.app, name="topics")
app.command("republish")(republish.republish)
app.add_typer(rebuild.rebuild_app, name="rebuild")
app.command("verify")(rebuild.verify)
app.command("refit")(refit.refit)
app.add_typer(rebuild.projections_app, name="projections")
app.add_typer(dev.app, name="dev")
app.add_typer(sales_import.app, name="import")
