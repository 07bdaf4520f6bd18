"""`crm token`: a signed development JWT, for `curl` and the dashboard on a local stack."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from pydantic import ValidationError

from shared.platform.tokens import ROLES, AuthSettings, issue_token


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
