"""Progress bars of long `crm` commands: done/total, rate and time left, on stderr (stdout stays for --json)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second over rich's recent samples (a dash before the first)."""

    def __init__(self, unit: str = "") -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        """The rate, with the unit."""
        speed = task.finished_speed or task.speed
        text = "-" if not speed else f"{speed:,.0f}"
        return Text(f"{text} {self.unit}/s".replace("  ", " "), style="progress.data.speed")


def progress_bar(*, quiet: bool, unit: str = "") -> Progress:
    """A progress bar on stderr; `quiet` (e.g. --json) hides it."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=Console(stderr=True), disable=quiet)
