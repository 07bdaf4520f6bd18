"""Refit jobs on the real servers: dead processes' jobs failed at restart, `crm refit` under the same lock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from typer.testing import CliRunner

from crm.cli import app
from services.analytics.jobstore import JOBS, LOCKS
from tests.integration.platform import Platform

pytestmark = pytest.mark.parametrize("store_backend", ["sqlite"])


def running_refit(platform: Platform, job_id: str, owner: str, heartbeat: datetime) -> None:
    """A refit job holding the lock, as another process (alive or dead since `heartbeat`) would leave it."""
    job = {"_id": job_id, "kind": "refit", "state": "running", "params": {}, "owner": owner}
    platform.mongo[JOBS].insert_one(job | {"created_at": heartbeat, "heartbeat_at": heartbeat})
    platform.mongo[LOCKS].insert_one({"_id": "lock:refit", "job_id": job_id, "taken_at": heartbeat})


def test_a_job_of_a_dead_process_is_failed_at_start_and_refits_run_again(platform: Platform) -> None:
    orphan = "0123456789abcdef0123456789abcdef"
    running_refit(platform, orphan, "old-pod:1:deadbeef", datetime.now(UTC) - timedelta(minutes=10))

    platform.start("analytics")
    url, analyst = platform.url("analytics"), platform.headers("analyst")
    job = httpx.get(f"{url}/jobs/{orphan}", headers=analyst).json()
    assert job["state"] == "failed"
    assert "old-pod:1:deadbeef" in job["error"]
    assert platform.mongo[LOCKS].find_one({"_id": "lock:refit"}) is None

    first = platform.refit()  # nothing projected: the job fails with the reason, and frees the lock
    assert first["state"] == "failed"
    assert "repeat customers" in first["error"]
    second = platform.refit()
    assert second["id"] != first["id"]
    listed = [j["id"] for j in httpx.get(f"{url}/jobs", headers=analyst).json()]
    assert listed == [second["id"], first["id"], orphan]


def test_crm_refit_runs_a_job_the_api_shows_and_names_a_running_one(platform: Platform) -> None:
    platform.start("analytics")
    url, analyst = platform.url("analytics"), platform.headers("analyst")
    failed = CliRunner().invoke(app, ["refit", "--json"], env=platform.stack.env)
    assert failed.exit_code == 1, failed.output
    job = json.loads(failed.stdout)
    assert (job["state"], job["started_by"]) == ("failed", "crm refit")
    assert "repeat customers" in job["error"]
    assert httpx.get(f"{url}/jobs/{job['id']}", headers=analyst).json()["state"] == "failed"

    busy = "fedcba9876543210fedcba9876543210"
    running_refit(platform, busy, "other-pod:7:cafe", datetime.now(UTC))
    refused = CliRunner().invoke(app, ["refit"], env=platform.stack.env)
    assert refused.exit_code == 2
    assert busy in refused.output
    assert httpx.post(f"{url}/models/refit", headers=analyst).status_code == 409
    bad = CliRunner().invoke(app, ["refit", "--calibration-end", "1997-13-01"], env=platform.stack.env)
    assert bad.exit_code == 2
