"""The customer API process: `create_app(settings)` wires everything; `main()` serves it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from services.customer import errors
from services.customer.api import router
from services.customer.application import CustomerApplication
from services.customer.settings import CustomerSettings
from shared.platform import logs
from shared.platform.auth import AuthSettings
from shared.platform.eventstore import persistence_env
from shared.platform.http import broker_checks, instrument, serve, service_checks
from shared.platform.kafka import KafkaSettings


def create_app(settings: CustomerSettings, auth: AuthSettings, kafka: KafkaSettings | None = None) -> FastAPI:
    """The customer API over the store in `settings`; readiness reports `kafka` (advisory) when given."""
    customers = CustomerApplication(env=persistence_env(settings.store), default_region=settings.default_phone_region)
    app = FastAPIOffline(  # Swagger UI served from the package: docs work without internet
        title="CRM customer service",
        version="1.0.0",
        description="Customer data management: profiles, contact points, consent, interactions, "
        "duplicates, merge and GDPR erasure. Every change is an event on `crm.customer.v1`.",
    )
    app.state.jwt_secret = auth.secret
    app.state.customers = customers
    instrument(app, "customer", service_checks(customers.recorder), advisory=broker_checks(kafka))
    errors.install(app)
    app.include_router(router)
    return app


def main() -> None:
    """Entry point: `python -m services.customer.main`."""
    settings = CustomerSettings()
    logs.configure("customer", settings.log_level)
    app = create_app(settings, AuthSettings(), KafkaSettings())
    serve(app, settings.host, settings.port)


if __name__ == "__main__":
    main()
