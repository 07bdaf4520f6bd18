"""The models API: roles, 404 before a fit, refit with overrides, validation, and one customer's CLV."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.analytics.api_models import get_db
from services.analytics.main import create_app
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


def test_only_analysts_and_admins_refit_and_read_models(api: TestClient) -> None:
    assert api.post("/models/refit", headers=headers("sales_rep")).status_code == 403
    assert api.get("/models/clv", headers=headers("marketer")).status_code == 403
    assert api.post("/models/refit").status_code == 401
    assert api.post("/models/refit", headers=headers("admin")).status_code == 200


def test_refit_then_read_the_models_and_a_customers_clv(api: TestClient) -> None:
    refit = api.post("/models/refit", headers=headers("analyst"), json={"horizon_days": 180, "margin": 0.3})
    assert refit.status_code == 200, refit.text
    body = refit.json()
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


def test_too_little_data_is_a_409_with_the_reason() -> None:
    with client_for(Database()) as client:
        response = client.post("/models/refit", headers=headers("analyst"))
    assert response.status_code == 409
    assert "repeat customers" in response.json()["detail"]
