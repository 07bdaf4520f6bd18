"""The sales API process: `create_app(settings)` wires everything; `main()` serves it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from services.sales import api, api_commerce, errors
from services.sales.application import SalesApplication
from services.sales.settings import SalesSettings
from services.sales.store import Clock, utc_now
from shared.platform import logs
from shared.platform.auth import AuthSettings
from shared.platform.eventstore import persistence_env
from shared.platform.http import broker_checks, instrument, serve, service_checks
from shared.platform.kafka import KafkaSettings


def create_app(
    settings: SalesSettings, auth: AuthSettings, kafka: KafkaSettings | None = None, clock: Clock = utc_now
) -> FastAPI:
    """The sales API over the store in `settings`; readiness reports `kafka` (advisory) when given."""
    sales = SalesApplication(env=persistence_env(settings.store), settings=settings, clock=clock)
    app = FastAPIOffline(
        title="CRM sales service",
        version="1.0.0",
        description="Sales automation: leads (capture, score, assign, qualify, convert), opportunities through "
        "a configurable pipeline, price book, quotes, orders, refunds, forecast and CSV imports. "
        "Every change is an event on `crm.sales.v1`.",
    )
    app.state.jwt_secret = auth.secret
    app.state.sales = sales

    instrument(app, "sales", service_checks(sales.recorder), advisory=broker_checks(kafka))
    errors.install(app)
    for router in (api.leads, api.opportunities, api.team, api.reports):
        app.include_router(router)
    for router in (api_commerce.products, api_commerce.quotes, api_commerce.orders, api_commerce.imports):
        app.include_router(router)
    return app


def main() -> None:
    """Entry point: `python -m services.sales.main`."""
    settings = SalesSettings()
    logs.configure("sales", settings.log_level)
    app = create_app(settings, AuthSettings(), KafkaSettings())
    serve(app, settings.host, settings.port)


if __name__ == "__main__":
    main()
