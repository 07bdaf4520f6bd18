"""`crm import`: load CSV files into the sales service through its API, with a progress bar.

Files are sent in chunks (the API saves each chunk's rows in transactions of
`CRM_SALES_IMPORT_CHUNK_ROWS`); every row carries an external id, so running an
import again adds nothing. Rejected rows are listed with their line numbers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import httpx
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from shared.platform.auth import AuthSettings, issue_token

app = typer.Typer(help="Import CSV data into the sales service (idempotent).", no_args_is_help=True)
console = Console(stderr=True)

Url = Annotated[str, typer.Option(envvar="CRM_SALES_URL", help="Base URL of the sales API.")]
Chunk = Annotated[int, typer.Option(min=1, help="Rows per request.")]
FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


def _token() -> str:
    try:
        secret = AuthSettings().secret.get_secret_value()
    except ValidationError as exc:
        console.print("error: set CRM_JWT_SECRET to the platform's signing key")
        raise typer.Exit(2) from exc
    return issue_token(secret, "crm-import@localhost", ["integration"])


def cdnow_chunks(lines: list[str], rows: int) -> Iterator[tuple[int, list[str]]]:
    """(first line number, lines) chunks of about `rows` lines that never split a customer's day."""
    start, last_key = 1, None
    chunk: list[str] = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        key = (fields[0], fields[-3]) if len(fields) >= 4 else None
        if len(chunk) >= rows and key != last_key:
            yield start, chunk
            start, chunk = number, []
        chunk.append(line)
        last_key = key
    if chunk:
        yield start, chunk


def csv_chunks(lines: list[str], rows: int) -> Iterator[tuple[int, list[str]]]:
    """(first line number, header + rows) chunks: every request is a complete CSV file."""
    header, body = lines[0], lines[1:]
    for offset in range(0, len(body), rows):
        yield offset + 2, [header, *body[offset : offset + rows]]


def _run(url: str, path: str, chunks: list[tuple[int, list[str]]], total: int, header: bool) -> None:
    totals = {"rows": 0, "imported": 0, "skipped": 0}
    rejected: list[dict[str, object]] = []
    started = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    auth = {"Authorization": f"Bearer {_token()}"}
    with httpx.Client(base_url=url, headers=auth, timeout=600) as client, Progress(*columns, console=console) as bar:
        task = bar.add_task(f"importing {path}", total=total)
        for first, chunk in chunks:
            body = "\n".join(chunk) + "\n"
            params = {"line_offset": first - 2} if header else {"first_line": first}
            response = client.post(path, content=body.encode(), params=params)
            if response.status_code != 200:
                console.print(f"error {response.status_code} at line {first}: {response.text}")
                raise typer.Exit(1)
            report = response.json()
            for key in totals:
                totals[key] += report[key]
            rejected += report["rejected"]
            bar.advance(task, len(chunk) - (1 if header else 0))
    seconds = time.perf_counter() - started
    for row in rejected:
        console.print(f"line {row['line']}: {row['reason']}")
    rate = totals["rows"] / seconds if seconds else 0.0
    typer.echo(
        f"{totals['rows']} rows: {totals['imported']} imported, {totals['skipped']} already there, "
        f"{len(rejected)} rejected in {seconds:.1f}s ({rate:.0f} rows/s)"
    )


@app.command("cdnow")
def import_cdnow(file: FileArg, url: Url = "http://127.0.0.1:8002", chunk_rows: Chunk = 5000) -> None:
    """CDNOW purchase history (master or sample format) as customers' paid USD orders."""
    lines = file.read_text("utf-8").splitlines()
    _run(url, "/imports/cdnow-orders", list(cdnow_chunks(lines, chunk_rows)), len(lines), header=False)


@app.command("leads")
def import_leads(file: FileArg, url: Url = "http://127.0.0.1:8002", chunk_rows: Chunk = 500) -> None:
    """Leads: CSV with header external_id,name,company,email,phone,country,campaign_id."""
    lines = file.read_text("utf-8").splitlines()
    _run(url, "/imports/leads", list(csv_chunks(lines, chunk_rows)), len(lines) - 1, header=True)


@app.command("products")
def import_products(file: FileArg, url: Url = "http://127.0.0.1:8002", chunk_rows: Chunk = 500) -> None:
    """The price book: CSV with header sku,name,prices,tax_rate,active (prices `EUR:9.90;USD:10.90`)."""
    lines = file.read_text("utf-8").splitlines()
    _run(url, "/imports/products", list(csv_chunks(lines, chunk_rows)), len(lines) - 1, header=True)
