"""`make bench QUICK=1` once per suite run, so the benchmarks never rot: every bench runs and reports a figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.integration.servers import Servers

BENCHES = {
    "GET /customers/{id}/360",
    "POST /customers -> 360",
    "projector catch-up",
    "blue/green rebuild",
    "campaign send",
    "CDNOW refit end to end",
}


def test_every_benchmark_runs_at_quick_size_and_writes_its_figures(real_servers: Servers) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick"], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "make bench QUICK=1" in done.stdout
    latest = json.loads(Path(".local/bench/latest.json").read_text())
    assert latest["quick"] is True
    assert latest["errors"] == {}
    assert {f["bench"] for f in latest["figures"]} == BENCHES
    for figure in latest["figures"]:
        assert figure["value"] > 0, figure
        assert figure["met"] is None, "quick sizes are not judged against the goals"
