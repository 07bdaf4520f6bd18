"""A test app with the metrics and report routers over an in-memory database."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.analytics import api_customers, api_fxrates, api_jobs, api_reports
from services.analytics.jobstore import JobStore
from services.analytics.settings import MetricsSettings
from services.analytics.tests.memorydb import Database
from shared.platform.auth import issue_token

SECRET = "s" * 40


def client(db: Database, rules: MetricsSettings | None = None, now: datetime | None = None) -> TestClient:
    """A client of an app serving `/customers`, `/segments/customers`, `/reports/*` and `/jobs/*` from `db`.

    With `now`, the customer list and segments count recency to that time instead of the clock's.
    """
    app = FastAPI()
    app.state.jwt_secret = SecretStr(SECRET)
    projection = SimpleNamespace(customers=db["customer_360"])

    async def current() -> SimpleNamespace:
        return projection

    app.state.projections = SimpleNamespace(current=current)
    app.state.metrics_settings = rules or MetricsSettings()
    app.state.jobs = JobStore(db)  # type: ignore[arg-type]
    app.include_router(api_customers.router)
    app.include_router(api_reports.router)
    app.include_router(api_jobs.router)
    app.include_router(api_fxrates.router)
    if now is not None:
        app.dependency_overrides[api_customers.utcnow] = lambda: now
    return TestClient(app)


def auth(*roles: str) -> dict[str, str]:
    """Bearer header of a user with these roles."""
    return {"Authorization": f"Bearer {issue_token(SECRET, 'ana@example.com', list(roles))}"}
