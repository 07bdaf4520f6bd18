"""The marketing API process: `create_app(settings)` wires everything; `main()` serves it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from services.marketing import errors, tracking
from services.marketing.api import campaigns, segments
from services.marketing.application import MarketingApplication
from services.marketing.metrics_client import metrics_source
from services.marketing.settings import MarketingSettings
from shared.platform import logs
from shared.platform.auth import AuthSettings
from shared.platform.eventstore import persistence_env
from shared.platform.http import broker_checks, instrument, serve, service_checks
from shared.platform.kafka import KafkaSettings


def create_app(
    settings: MarketingSettings,
    auth: AuthSettings,
    kafka: KafkaSettings | None = None,
    marketing: MarketingApplication | None = None,
) -> FastAPI:
    """The marketing API over the store in `settings`; readiness reports `kafka` (advisory) when given."""
    app_ = marketing or MarketingApplication(env=persistence_env(settings.store), metrics=metrics_source(settings))
    app = FastAPIOffline(
        title="CRM marketing service",
        version="1.0.0",
        description="Marketing automation: segments, email/SMS campaigns with A/B variants and personalised "
        "templates, consent and unsubscribe enforcement, open/click tracking and spend. "
        "Every change is an event on `crm.marketing.v1`.",
    )
    app.state.jwt_secret = auth.secret
    app.state.marketing = app_
    app.state.signer = settings.signer()

    instrument(app, "marketing", service_checks(app_.recorder), advisory=broker_checks(kafka))
    errors.install(app)
    app.include_router(segments)
    app.include_router(campaigns)
    app.include_router(tracking.router)
    return app


def main() -> None:
    """Entry point: `python -m services.marketing.main`."""
    settings = MarketingSettings()
    logs.configure("marketing", settings.log_level)
    app = create_app(settings, AuthSettings(), KafkaSettings())
    serve(app, settings.host, settings.port)


if __name__ == "__main__":
    main()
