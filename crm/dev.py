"""`crm dev`: the whole platform on this machine, for `make run` (servers from deploy/local)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from crm.devstack import ROOT, SERVICES, Stack, environment, free_port
from crm.sales_import import import_cdnow
from crm.seed import seed
from shared.platform.auth import AuthSettings, issue_token

CDNOW_SAMPLE = ROOT / "data" / "cdnow" / "CDNOW_sample.txt"
"""Order history `crm dev seed` imports, so the analytics views have purchases to show."""

app = typer.Typer(help="Run the platform's services locally (after deploy/local/up.sh).", no_args_is_help=True)

RUN_DIR = ROOT / ".local" / "run"


def _pid_file(name: str) -> Path:
    return RUN_DIR / f"{name}.pid"


def _alive(name: str) -> int | None:
    path = _pid_file(name)
    if not path.exists():
        return None
    pid = int(path.read_text().split()[0])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


def urls() -> dict[str, str]:
    """Base URLs of the running HTTP services, as recorded by `up`."""
    found = {}
    for service in SERVICES:
        path = _pid_file(service.name)
        if service.port_var and path.exists() and _alive(service.name):
            found[service.name] = f"http://127.0.0.1:{path.read_text().split()[1]}"
    return found


@app.command()
def up() -> None:
    """Start every service in the background (those already running are kept)."""
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    stack = Stack(environment(), log_dir=ROOT / ".local" / "logs", detach=True)
    already = urls()
    for service in SERVICES:  # every port first: services are told where the others answer
        if service.port_var:
            url = already.get(service.name)
            stack.env[service.port_var] = url.rsplit(":", 1)[1] if url else str(free_port(service.default_port))
    stack.env.setdefault("CRM_MARKETING_ANALYTICS_URL", f"http://127.0.0.1:{stack.env['CRM_ANALYTICS_PORT']}")
    for service in SERVICES:
        if _alive(service.name):
            typer.echo(f"{service.name:20} already running")
            continue
        running = stack.start(service)
        _pid_file(service.name).write_text(f"{running.process.pid} {running.port or ''}\n")
        typer.echo(f"{service.name:20} started (pid {running.process.pid}, log {running.log.relative_to(ROOT)})")


@app.command()
def down() -> None:
    """Stop the services started by `up`."""
    for service in reversed(SERVICES):
        pid = _alive(service.name)
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            typer.echo(f"{service.name:20} stopped")
        _pid_file(service.name).unlink(missing_ok=True)


@app.command("seed")
def seed_command(
    count: Annotated[int, typer.Option(help="How many demo customers (at least the 8 named ones).")] = 40,
    orders: Annotated[
        bool, typer.Option(help="Also import the CDNOW sample's 6,919 orders through the sales API.")
    ] = True,
) -> None:
    """Load demo customers through the customer API, and order history through sales (idempotent)."""
    found = urls()
    if "customer" not in found:
        raise typer.BadParameter("the customer service is not running: run `crm dev up` first")
    seed(found["customer"], count)
    if orders:
        if "sales" not in found:
            raise typer.BadParameter("the sales service is not running: run `crm dev up` first")
        import_cdnow(CDNOW_SAMPLE, url=found["sales"])


@app.command("urls")
def urls_command() -> None:
    """Print where the running services answer, with a token to try them."""
    found = urls()
    token = issue_token(AuthSettings().secret.get_secret_value(), "dev@example.com", ["admin"])
    apis = [s.name for s in SERVICES if s.port_var]
    lines = [f"{name.capitalize() + ' API docs':26}: {found.get(name, '(not running)')}/docs" for name in apis]
    lines += [
        f"Analytics customer 360    : {found.get('analytics', '(not running)')}/customers/<id>/360",
        f"AsyncAPI of the events    : {found.get('customer', '(not running)')}/asyncapi.json",
        "",
        "Bearer token (admin, 8 h; `make token ROLES=analyst` for others):",
        token,
    ]
    typer.echo("\n".join(lines))
