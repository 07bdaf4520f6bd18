"""What every benchmark reports: a figure next to its baseline from the same run, and the goal it is held to.

Absolute numbers on a shared 2-core machine are noise; a ratio against a baseline run
in the same invocation (raw aiokafka, raw pymongo, a bare POST, raw SMTP) is not. `make
bench` prints every figure in one table on stdout and writes the same figures as JSON
under `.local/bench/` (`latest.json` and one file per run).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

BENCH_DIR = Path(".local/bench")


@dataclass(frozen=True)
class Figure:
    """One measured figure; `ratio` = value ÷ baseline_value (higher is better for rates, lower for latencies)."""

    bench: str
    size: str
    figure: str
    value: float
    unit: str
    baseline: str
    baseline_value: float | None
    goal: str
    met: bool | None
    """None when the run has no goal for this figure (e.g. quick mode's tiny sizes)."""
    seconds: float
    """How long the measured part ran."""
    notes: str = ""
    """What else the run found (e.g. the fitted parameters), printed under the table."""

    @property
    def ratio(self) -> float | None:
        """value ÷ baseline value."""
        if not self.baseline_value:
            return None
        return self.value / self.baseline_value


def table(figures: list[Figure], errors: dict[str, str], *, quick: bool) -> Table:
    """One table of every figure (and every benchmark that failed to run)."""
    result = Table(title=f"make bench{' QUICK=1 (sizes for a smoke run: goals not judged)' if quick else ''}")
    for column in ("bench", "size", "figure", "value", "baseline", "ratio", "goal", "met", "run s"):
        result.add_column(column, justify="right" if column in ("value", "ratio", "run s") else "left")
    for f in figures:
        baseline = f"{f.baseline} {f.baseline_value:,.1f}" if f.baseline_value is not None else f.baseline
        ratio = f"{f.ratio:.3f}" if f.ratio is not None else "-"
        met = {True: "yes", False: "NO", None: "-"}[f.met]
        row = (f.bench, f.size, f.figure, f"{f.value:,.1f} {f.unit}", baseline, ratio, f.goal, met, f"{f.seconds:.0f}")
        result.add_row(*row, style="red" if f.met is False else None)
    for bench, error in errors.items():
        result.add_row(bench, "", "FAILED TO RUN", "", "", "", error[:80], "NO", "", style="red")
    return result


def write(figures: list[Figure], errors: dict[str, str], *, quick: bool, directory: Path = BENCH_DIR) -> Path:
    """The run as JSON: `<directory>/bench-<UTC time>.json`, also copied to `latest.json`; returns the first."""
    directory.mkdir(parents=True, exist_ok=True)
    at = datetime.now(UTC)
    body = {
        "at": at.isoformat(),
        "quick": quick,
        "figures": [asdict(f) | {"ratio": f.ratio} for f in figures],
        "errors": errors,
    }
    text = json.dumps(body, indent=2, ensure_ascii=False)
    path = directory / f"bench-{at:%Y%m%dT%H%M%SZ}{'-quick' if quick else ''}.json"
    path.write_text(text)
    (directory / "latest.json").write_text(text)
    return path


def show(figures: list[Figure], errors: dict[str, str], *, quick: bool) -> None:
    """Print the table on stdout."""
    console = Console(width=200)
    console.print(table(figures, errors, quick=quick))
    for f in figures:
        if f.notes:
            console.print(f"{f.bench}: {f.notes}")
