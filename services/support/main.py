"""The support API process: `create_app(settings)` wires everything; `main()` serves it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from services.support import errors
from services.support.api import router, views
from services.support.application import Clock, SupportApplication, system_clock
from services.support.desk_api import desk_router, queues
from services.support.settings import SupportSettings
from services.support.survey_api import feedback, surveys
from services.support.survey_page import page as survey_page
from services.support.surveys import SurveySigner
from shared.platform import logs
from shared.platform.auth import AuthSettings
from shared.platform.eventstore import persistence_env
from shared.platform.http import broker_checks, instrument, serve, service_checks
from shared.platform.kafka import KafkaSettings

DESCRIPTION = """Customer service and support: tickets from every channel with a status workflow
(new → open → pending → resolved → closed, reopen within a window, automatic close),
queues with round-robin assignment by skills and caps, escalation tiers, SLA targets in
business hours with warnings and breaches, CSAT/NPS surveys by signed link, feedback.
Every change is an event on `crm.support.v1` (see /asyncapi.json)."""


def create_app(
    settings: SupportSettings, auth: AuthSettings, kafka: KafkaSettings | None = None, clock: Clock = system_clock
) -> FastAPI:
    """The support API over the store in `settings`; refuses to start without a survey secret."""
    signer = SurveySigner(settings.require_survey_secret())
    support = SupportApplication(env=persistence_env(settings.store), clock=clock, signer=signer)
    app = FastAPIOffline(title="CRM support service", version="1.0.0", description=DESCRIPTION)
    app.state.jwt_secret = auth.secret
    app.state.support = support
    app.state.survey_base_url = settings.survey_base_url

    instrument(app, "support", service_checks(support.recorder), advisory=broker_checks(kafka))
    errors.install(app)
    for part in (router, views, queues, desk_router, surveys, survey_page, feedback):
        app.include_router(part)
    return app


def main() -> None:
    """Entry point: `python -m services.support.main`."""
    settings = SupportSettings()
    logs.configure("support", settings.log_level)
    app = create_app(settings, AuthSettings(), KafkaSettings())
    serve(app, settings.host, settings.port)


if __name__ == "__main__":
    main()
