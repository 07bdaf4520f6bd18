"""The analytics API process: `create_app(settings)` wires everything; `main()` serves it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from services.analytics import api_customers, api_fxrates, api_jobs, api_reports, dashboard
from services.analytics.api import router
from services.analytics.api_models import models_router
from services.analytics.generations import ActiveProjection, Generations
from services.analytics.jobstore import JobStore
from services.analytics.settings import AnalyticsSettings, mongo_client
from shared.platform import logs
from shared.platform.auth import AuthSettings
from shared.platform.http import instrument, serve
from shared.platform.kafka import KafkaSettings, readiness

log = logging.getLogger("crm.analytics")


def create_app(settings: AnalyticsSettings, auth: AuthSettings, kafka: KafkaSettings) -> FastAPI:
    """The analytics API over the projections in `settings.database`."""
    client: AsyncMongoClient[dict[str, Any]] = mongo_client(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await _recover(app.state.jobs)
        yield
        await client.close()

    app = FastAPIOffline(  # Swagger UI served from the package: docs work without internet
        title="CRM analytics",
        version="1.0.0",
        description="Read models built from every public event stream: customer 360 and timeline.",
        lifespan=lifespan,
    )
    app.state.jwt_secret = auth.secret
    app.state.jobs = JobStore(client[settings.database])  # beside the generations' control collection
    app.state.projections = ActiveProjection(Generations(client, settings), bulk_chunk=settings.bulk_chunk)

    async def mongo_ready() -> None:
        await client.admin.command("ping")

    instrument(app, "analytics", {"mongodb": mongo_ready, "kafka": readiness(kafka)})
    app.include_router(router)
    app.state.metrics_settings = settings.metrics
    app.include_router(api_customers.router)
    app.include_router(api_reports.router)
    app.include_router(models_router(settings))
    app.include_router(api_jobs.router)
    app.include_router(api_fxrates.router)
    app.include_router(dashboard.router)
    return app


async def _recover(jobs: JobStore) -> None:
    """Fail the jobs of processes that died; a store not answering yet must not stop the API starting."""
    try:
        await asyncio.wait_for(jobs.recover(), timeout=10)
    except (PyMongoError, TimeoutError) as exc:
        log.warning("could not look for jobs of dead processes: %s", exc)


def main() -> None:
    """Entry point: `python -m services.analytics.main`."""
    settings = AnalyticsSettings()
    logs.configure("analytics", settings.log_level)
    app = create_app(settings, AuthSettings(), KafkaSettings())
    serve(app, settings.host, settings.port)


if __name__ == "__main__":
    main()
