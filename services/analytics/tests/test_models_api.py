"""The models API: roles, 404 before a fit, refit with overrides, validation, and one customer's CLV."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import SecretStr

from services.analytics.api_models import get_db
from services.analytics.jobstore import JobStore, Report
from services.analytics.main import create_app
from services.analytics.reports.catalog import DASHBOARD
from services.analytics.settings import AnalyticsSettings
from services.analytics.tests.memorydb import Database
from services.analytics.tests.test_models_jobs import small, store
from shared.platform.auth import AuthSettings, issue_token
from shared.platform.kafka import KafkaSettings

SECRET = "unit-test-secret-0123456789abcdef0123"
CUSTOMER = "00000000-0000-4000-8000-000000000003"


def headers(*roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'ana@example.com', list(roles))}"}


def client_for(db: Database) -> TestClient:
    app = create_app(AnalyticsSettings(), AuthSettings(secret=SecretStr(SECRET)), KafkaSettings())
    app.dependency_overrides[get_db] = lambda: db
    app.state.jobs = JobStore(db)  # type: ignore[arg-type]
    return TestClient(app)


@pytest.fixture
def api() -> Iterator[TestClient]:
    histories = small()
    histories[CUSTOMER] = histories.pop("c3")
    with client_for(store(histories)) as client:
        yield client


def test_nothing_fitted_yet_is_a_404(api: TestClient) -> None:
    for path in ("/models/clv", "/models/churn", f"/customers/{CUSTOMER}/clv"):
        response = api.get(path, headers=headers("analyst"))
        assert response.status_code == 404, path


def finished(api: TestClient, started: Response) -> dict[str, Any]:
    """The job a 202 named, read at its `Location` until it ends."""
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    assert location == f"/jobs/{started.json()['id']}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = api.get(location, headers=headers("analyst")).json()
        if job["state"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {location} still running after 60s")


def test_only_analysts_and_admins_refit_and_read_models(api: TestClient) -> None:
    assert api.post("/models/refit", headers=headers("sales_rep")).status_code == 403
    assert api.get("/models/clv", headers=headers("marketer")).status_code == 403
    assert api.post("/models/refit").status_code == 401
    job = finished(api, api.post("/models/refit", headers=headers("admin")))
    assert api.get(f"/jobs/{job['id']}", headers=headers("sales_rep")).status_code == 403
    assert api.get(f"/jobs/{job['id']}").status_code == 401


def test_refit_is_a_job_with_progress_timings_and_its_result(api: TestClient) -> None:
    job = finished(api, api.post("/models/refit", headers=headers("analyst"), json={"horizon_days": 90}))
    assert job["state"] == "succeeded", job
    assert (job["kind"], job["started_by"], job["params"]) == (
        "refit",
        "ana@example.com",
        {"horizon_days": 90},
    )
    progress = job["progress"]
    assert (progress["stage"], progress["done"], progress["total"]) == ("done", 5, 5)
    assert list(progress["stages"]) == ["starting", "metrics", "clv", "churn", "scores", "reports", "done"]
    assert job["finished_at"] >= job["created_at"]
    assert job["seconds"] >= 0
    assert job["error"] is None
    assert set(job["result"]) == {
        "clv_model_id",
        "churn_model_id",
        "metrics_written",
        "customers_scored",
        "churn_shipped",
        "reports_kept",
    }
    assert job["result"]["reports_kept"] == len(DASHBOARD)
    assert [j["id"] for j in api.get("/jobs", headers=headers("analyst")).json()] == [job["id"]]
    assert api.get(f"/jobs/{'0' * 32}", headers=headers("analyst")).status_code == 404
    assert api.get("/jobs/not-a-job-id", headers=headers("analyst")).status_code == 422


def test_a_second_refit_while_one_runs_is_a_409_naming_the_running_job(api: TestClient) -> None:
    store: JobStore = api.app.state.jobs  # type: ignore[attr-defined]
    release = asyncio.Event()

    async def hold(report: Report) -> dict[str, Any]:
        await release.wait()
        return {}

    running = api.portal.call(store.start, "refit", hold)  # type: ignore[union-attr]
    refused = api.post("/models/refit", headers=headers("analyst"))
    assert refused.status_code == 409
    assert running.id in refused.json()["detail"]
    assert refused.headers["Location"] == f"/jobs/{running.id}"
    api.portal.call(release.set)  # type: ignore[union-attr]
    api.portal.call(store.wait, running.id)  # type: ignore[union-attr]
    assert finished(api, api.post("/models/refit", headers=headers("analyst")))["state"] == "succeeded"


def test_refit_then_read_the_models_and_a_customers_clv(api: TestClient) -> None:
    refit = finished(
        api, api.post("/models/refit", headers=headers("analyst"), json={"horizon_days": 180, "margin": 0.3})
    )
    assert refit["state"] == "succeeded", refit
    body = refit["result"]
    assert body["customers_scored"] == 12
    assert body["clv_model_id"].startswith("clv-")
    model = api.get("/models/clv", headers=headers("analyst")).json()
    assert model["id"] == body["clv_model_id"]
    assert model["settings"]["horizon_days"] == 180
    assert model["settings"]["margin"] == 0.3
    assert set(model["bgnbd"]) == {"r", "alpha", "a", "b", "log_likelihood", "converged"}
    assert model["calibration"]["end"] == model["settings"]["calibration_end"] is None or model["calibration"]["end"]
    churn = api.get("/models/churn", headers=headers("analyst")).json()
    assert churn["id"] == body["churn_model_id"]
    assert churn["clv_model_id"] == model["id"]
    assert set(churn["coefficients"]) <= set(churn["features"])
    mine = api.get(f"/customers/{CUSTOMER}/clv", headers=headers("sales_rep"))
    assert mine.status_code == 200, mine.text
    clv = mine.json()
    assert clv["model_id"] == model["id"]
    assert clv["horizon_days"] == 180
    assert clv["currency"] == "USD"
    assert isinstance(clv["clv"], str)
    assert clv["clv"].count(".") == 1
    assert len(clv["clv"].split(".")[1]) == 2
    assert 0 <= clv["churn_risk"] <= 1
    assert 0 < clv["p_alive"] <= 1


def test_a_bad_override_is_a_422_that_names_it_and_nothing_is_fitted(api: TestClient) -> None:
    for body, field in (({"margin": 2}, "margin"), ({"horizon": 30}, "horizon"), ({"currency": "usd"}, "currency")):
        response = api.post("/models/refit", headers=headers("analyst"), json=body)
        assert response.status_code == 422
        assert field in response.text
    assert api.get("/models/clv", headers=headers("analyst")).status_code == 404


def test_too_little_data_fails_the_job_with_the_reason() -> None:
    with client_for(Database()) as client:
        job = finished(client, client.post("/models/refit", headers=headers("analyst")))
    assert job["state"] == "failed"
    assert "repeat customers" in job["error"]
