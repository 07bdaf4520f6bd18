"""The CDNOW sample read straight from data/cdnow (no platform involved), as purchase histories."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

from services.analytics.features import History

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "cdnow" / "CDNOW_sample.txt"
CALIBRATION_END = date(1997, 9, 30)
HOLDOUT_END = date(1998, 6, 30)


def cdnow_histories(path: Path = SAMPLE) -> dict[str, History]:
    """Customer (the master id, first column) → spend per day; same-day orders summed."""
    histories: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for line in path.read_text().splitlines():
        master_id, _, day, _, dollars = line.split()
        histories[master_id][date(int(day[:4]), int(day[4:6]), int(day[6:]))] += Decimal(dollars)
    return {c: dict(sorted(days.items())) for c, days in sorted(histories.items())}
